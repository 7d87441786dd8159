"""Public market data views: order book depth, trades and K-lines, from the engine's book and the market history.

Depth aggregates the open orders' remaining quantity per price level. Both sides are listed in
ascending price order, as Backpack's own server sends them (the best bid is the *last* bid, the
best ask the *first* ask); a `limit` keeps that many levels nearest the spread. `timestamp` is
in microseconds, as Backpack's matching engine reports it; `lastUpdateId` grows with every change
of any book (an order placed, filled or closed), so a client can tell two snapshots apart.

Trades and K-lines are read from the service's `MarketHistory` (`app/market_history.py`), which
keeps each market's fills and its candles as the engine's events arrive. Recent trades
(`/api/v1/trades`) are the market's last fills, oldest first; the trade history
(`/api/v1/trades/history`) is every fill, newest first, `offset` trades back from the newest and
`limit` (1 to 1,000, 100 by default) of them.

K-lines follow `priceType`: `Last` (the default) from the fills, only for intervals with a trade;
`Index` (the market's base index price over its quote's) and `Mark` (a perp's mark; a spot
market's mark is its index) for every interval once the market has a price, an interval in which
the price did not move being flat at the previous close. Candles are aligned to the epoch in UTC
(weeks start on Monday, months on the 1st); an answer holds the kept candles that overlap
`startTime`..`endTime` (seconds; `endTime` defaults to now), at most 1,000, oldest first. The
history keeps the latest 1,000 candles of each market, interval and price type. Times in K-lines
are "YYYY-MM-DD HH:MM:SS" in UTC, as Backpack prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import JsonObject, JsonValue, wad
from crossmargin.api.views.orders import base_text, quote_text, require_market
from crossmargin.app.market_history import KLINE_INTERVALS, SECOND_MS, Candle, MarketHistory, PriceKind, bucket
from crossmargin.core.book import BookSide
from crossmargin.core.fills import Fill
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import OrderSide
from crossmargin.core.state import EngineState

DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)
DEPTH_LIMIT_DEFAULT: Final = 100
TRADES_LIMIT_DEFAULT: Final = 100
TRADES_LIMIT_MAX: Final = 1000
KLINES_MAX: Final = 1_000
"""Candles in one K-lines answer at most: the first ones from `startTime`."""


def _levels(state: EngineState, side: BookSide, limit: int) -> list[JsonValue]:
    """Return up to `limit` levels nearest the spread as [price, quantity], in ascending price order."""
    spec = None
    levels: list[JsonValue] = []
    for price, order_ids in side.iter_levels():
        if len(levels) == limit:
            break
        quantity = sum(state.orders[order_id].remaining_atoms for order_id in order_ids)
        if spec is None:
            spec = state.markets[state.orders[next(iter(order_ids))].market]
        levels.append([wad(price), base_text(spec, quantity)])
    return levels


def book_update_id(state: EngineState) -> int:
    """Return the update id of every book in `state`: `GET /api/v1/depth`'s `lastUpdateId`, the streams' `u`.

    Orders placed + trades + orders closed: it grows with every change of any book.
    """
    return state.next_order_id + state.next_trade_id + state.closed_order_count


def view_depth(state: EngineState, symbol: str, limit: int | None = None) -> JsonObject:
    """Return `GET /api/v1/depth`: the market's book, both sides by ascending price."""
    require_market(state, symbol)
    size = DEPTH_LIMIT_DEFAULT if limit is None else limit
    if size not in DEPTH_LIMITS:
        raise ApiError(f"limit must be one of {', '.join(map(str, DEPTH_LIMITS))}, not {size}")
    book = state.books[symbol]
    bids = _levels(state, book.bids, size)
    bids.reverse()
    return {
        "asks": _levels(state, book.asks, size),
        "bids": bids,
        "lastUpdateId": str(book_update_id(state)),
        "timestamp": state.now_ms * 1000,
    }


def view_trades(state: EngineState, history: MarketHistory, symbol: str, limit: int | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/trades`: the market's most recent trades, oldest first."""
    spec = require_market(state, symbol)
    size = TRADES_LIMIT_DEFAULT if limit is None else limit
    if not 1 <= size <= TRADES_LIMIT_MAX:
        raise ApiError(f"limit must be between 1 and {TRADES_LIMIT_MAX}, not {size}")
    return [_trade(spec, fill) for fill in history.markets[symbol].fills[-size:]]


def _trade(spec: MarketSpec, fill: Fill) -> JsonObject:
    return {
        "id": fill.trade_id,
        "price": wad(fill.price_wad),
        "quantity": base_text(spec, fill.quantity_atoms),
        "quoteQuantity": quote_text(spec, fill.quote_atoms),
        "timestamp": fill.at_ms,
        "isBuyerMaker": fill.taker_side is OrderSide.ASK,
    }


def view_trades_history(
    state: EngineState, history: MarketHistory, symbol: str, limit: int | None = None, offset: int | None = None
) -> list[JsonValue]:
    """Return `GET /api/v1/trades/history`: the market's trades, newest first, `offset` trades back from the newest."""
    spec = require_market(state, symbol)
    size = TRADES_LIMIT_DEFAULT if limit is None else limit
    if not 1 <= size <= TRADES_LIMIT_MAX:
        raise ApiError(f"limit must be between 1 and {TRADES_LIMIT_MAX}, not {size}")
    skip = 0 if offset is None else offset
    if skip < 0:
        raise ApiError(f"offset must be 0 or more, not {skip}")
    fills = history.markets[symbol].fills
    newest = len(fills) - skip
    return [_trade(spec, fills[index]) for index in range(newest - 1, max(newest - size, 0) - 1, -1)]


def kline_time(ms: int) -> str:
    """Format epoch ms as Backpack's K-line time, 'YYYY-MM-DD HH:MM:SS' in UTC."""
    return datetime.fromtimestamp(ms // SECOND_MS, UTC).strftime("%Y-%m-%d %H:%M:%S")


def kline_body(spec: MarketSpec, candle: Candle) -> JsonObject:
    """Return one candle as Backpack's `Kline`."""
    return {
        "start": kline_time(candle.start_ms),
        "end": kline_time(candle.end_ms),
        "open": wad(candle.open_wad),
        "high": wad(candle.high_wad),
        "low": wad(candle.low_wad),
        "close": wad(candle.close_wad),
        "volume": base_text(spec, candle.volume_atoms),
        "quoteVolume": quote_text(spec, candle.quote_atoms),
        "trades": str(candle.trades),
    }


def _candles(series: Iterable[Candle], interval: str, start_ms: int, end_ms: int, *, flat_gaps: bool) -> list[Candle]:
    """Return the kept candles that overlap [start_ms, end_ms], oldest first, at most `KLINES_MAX`.

    With `flat_gaps` (Index and Mark, prices that always exist), an interval in which the price
    did not move gets a flat candle at the previous close.
    """
    found: list[Candle] = []
    previous: Candle | None = None
    for candle in series:
        if (
            flat_gaps
            and previous is not None
            and _flat_until(found, previous, candle.start_ms, interval, start_ms, end_ms)
        ):
            return found
        if candle.start_ms > end_ms:
            return found
        if candle.end_ms > start_ms:
            found.append(candle)
            if len(found) >= KLINES_MAX:
                return found
        previous = candle
    if flat_gaps and previous is not None:
        _flat_until(found, previous, end_ms + 1, interval, start_ms, end_ms)
    return found


def _flat_until(
    found: list[Candle], previous: Candle, until_ms: int, interval: str, start_ms: int, end_ms: int
) -> bool:
    """Add flat candles at `previous`'s close from its end to `until_ms`, within the range; return whether done.

    The gap before the range is skipped in one step, so a long quiet spell costs nothing.
    """
    at = max(previous.end_ms, bucket(interval, start_ms)[0])
    price = previous.close_wad
    while at < until_ms:
        begin, end = bucket(interval, at)
        if begin > end_ms:
            return True
        found.append(Candle(begin, end, price, price, price, price))
        if len(found) >= KLINES_MAX:
            return True
        at = end
    return False


def view_klines(
    state: EngineState,
    history: MarketHistory,
    symbol: str,
    interval: str,
    start_seconds: int,
    end_seconds: int | None = None,
    price_type: str | None = None,
) -> list[JsonValue]:
    """Return `GET /api/v1/klines`: the market's candles of `priceType` (Last by default) from `startTime` to `endTime`.

    Last candles exist only for intervals with a trade; Index and Mark candles, once the market
    has a price, exist for every interval (flat at the previous close where it did not move).
    """
    spec = require_market(state, symbol)
    if interval not in KLINE_INTERVALS:
        raise ApiError(f"interval must be one of {', '.join(KLINE_INTERVALS)}, not {interval!r}")
    kinds = [kind.value for kind in PriceKind]
    if price_type is not None and price_type not in kinds:
        raise ApiError(f"priceType must be one of {', '.join(kinds)}, not {price_type!r}")
    kind = PriceKind.LAST if price_type is None else PriceKind(price_type)
    start_ms = start_seconds * SECOND_MS
    end_ms = state.now_ms if end_seconds is None else min(end_seconds * SECOND_MS, state.now_ms)
    if end_seconds is not None and end_seconds * SECOND_MS < start_ms:
        raise ApiError("endTime must not be before startTime", "INVALID_RANGE")
    series = history.markets[symbol].series(kind, interval)
    candles = _candles(series, interval, start_ms, end_ms, flat_gaps=kind is not PriceKind.LAST)
    return [kline_body(spec, candle) for candle in candles]


def view_open_interest_history(state: EngineState, history: MarketHistory, symbol: str) -> list[JsonValue]:
    """Return `GET /api/v1/openInterest/history` (ours): a perp market's open interest over time, newest first.

    One row per minute in which it changed, with the value and time of that minute's last change,
    in `GET /api/v1/openInterest`'s shape; the latest 1,000 such minutes are kept.
    """
    spec = require_market(state, symbol)
    if not spec.is_perp:
        raise ApiError(f"{symbol} is a spot market: open interest is kept for perpetual markets")
    samples = history.markets[symbol].open_interest
    return [
        {"symbol": symbol, "openInterest": base_text(spec, atoms), "timestamp": at_ms}
        for at_ms, atoms in reversed(samples)
    ]
