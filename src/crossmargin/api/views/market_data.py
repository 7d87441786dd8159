"""Public market data views: order book depth, recent trades and K-lines, all from the engine's own book and fills.

Depth aggregates the open orders' remaining quantity per price level. Both sides are listed in
ascending price order, as Backpack's own server sends them (the best bid is the *last* bid, the
best ask the *first* ask); a `limit` keeps that many levels nearest the spread. `timestamp` is
in microseconds, as Backpack's matching engine reports it; `lastUpdateId` grows with every change
of any book (an order placed, filled or closed), so a client can tell two snapshots apart.

Recent trades are the market's last fills, oldest first. K-lines bucket fills by the interval,
aligned to the epoch in UTC (weeks start on Monday, months on the 1st); only buckets with a trade
are returned. Times in K-lines are "YYYY-MM-DD HH:MM:SS" in UTC, as Backpack prints them, and the
query's `startTime`/`endTime` are in seconds. Only last-trade prices exist: `priceType` Mark or
Index is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import EPOCH, JsonObject, JsonValue, wad
from crossmargin.api.views.orders import base_text, quote_text, require_market
from crossmargin.core.book import BookSide
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import Fill, OrderSide
from crossmargin.core.state import EngineState

SECOND_MS: Final = 1_000
MINUTE_MS: Final = 60 * SECOND_MS
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
# The epoch was a Thursday: weeks start on Monday, four days later.
WEEK_OFFSET_MS: Final = 4 * DAY_MS
MONTH: Final = "1month"
KLINE_INTERVALS_MS: Final = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}
DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)
DEPTH_LIMIT_DEFAULT: Final = 100
TRADES_LIMIT_DEFAULT: Final = 100
TRADES_LIMIT_MAX: Final = 1000
PRICE_TYPE_LAST: Final = "Last"
PRICE_TYPES: Final = ("Last", "Index", "Mark")


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
        "lastUpdateId": str(state.next_order_id + state.next_trade_id + len(state.closed_orders)),
        "timestamp": state.now_ms * 1000,
    }


def _market_fills(state: EngineState, symbol: str) -> list[Fill]:
    return [fill for fill in state.fills if fill.market == symbol]


def view_trades(state: EngineState, symbol: str, limit: int | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/trades`: the market's most recent trades, oldest first."""
    spec = require_market(state, symbol)
    size = TRADES_LIMIT_DEFAULT if limit is None else limit
    if not 1 <= size <= TRADES_LIMIT_MAX:
        raise ApiError(f"limit must be between 1 and {TRADES_LIMIT_MAX}, not {size}")
    fills = _market_fills(state, symbol)[-size:]
    return [
        {
            "id": fill.trade_id,
            "price": wad(fill.price_wad),
            "quantity": base_text(spec, fill.quantity_atoms),
            "quoteQuantity": quote_text(spec, fill.quote_atoms),
            "timestamp": fill.at_ms,
            "isBuyerMaker": fill.taker_side is OrderSide.ASK,
        }
        for fill in fills
    ]


def _month_start(at_ms: int) -> int:
    moment = datetime.fromtimestamp(at_ms // SECOND_MS, UTC)
    return int((datetime(moment.year, moment.month, 1, tzinfo=UTC) - EPOCH).total_seconds()) * SECOND_MS


def _next_month(start_ms: int) -> int:
    moment = datetime.fromtimestamp(start_ms // SECOND_MS, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int((datetime(year, month, 1, tzinfo=UTC) - EPOCH).total_seconds()) * SECOND_MS


def bucket(interval: str, at_ms: int) -> tuple[int, int]:
    """Return the [start, end) of the K-line of `interval` that holds `at_ms`, in ms."""
    if interval == MONTH:
        start = _month_start(at_ms)
        return start, _next_month(start)
    size = KLINE_INTERVALS_MS[interval]
    offset = WEEK_OFFSET_MS if interval == "1w" else 0
    start = (at_ms - offset) // size * size + offset
    return start, start + size


def kline_time(ms: int) -> str:
    """Format epoch ms as Backpack's K-line time, 'YYYY-MM-DD HH:MM:SS' in UTC."""
    return datetime.fromtimestamp(ms // SECOND_MS, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(slots=True)
class _Candle:
    start_ms: int
    end_ms: int
    open_wad: int
    high_wad: int
    low_wad: int
    close_wad: int
    volume_atoms: int = 0
    quote_atoms: int = 0
    trades: int = 0

    def add(self, fill: Fill) -> None:
        self.high_wad = max(self.high_wad, fill.price_wad)
        self.low_wad = min(self.low_wad, fill.price_wad)
        self.close_wad = fill.price_wad
        self.volume_atoms += fill.quantity_atoms
        self.quote_atoms += fill.quote_atoms
        self.trades += 1

    def body(self, spec: MarketSpec) -> JsonObject:
        return {
            "start": kline_time(self.start_ms),
            "end": kline_time(self.end_ms),
            "open": wad(self.open_wad),
            "high": wad(self.high_wad),
            "low": wad(self.low_wad),
            "close": wad(self.close_wad),
            "volume": base_text(spec, self.volume_atoms),
            "quoteVolume": quote_text(spec, self.quote_atoms),
            "trades": str(self.trades),
        }


def view_klines(
    state: EngineState,
    symbol: str,
    interval: str,
    start_seconds: int,
    end_seconds: int | None = None,
    price_type: str | None = None,
) -> list[JsonValue]:
    """Return `GET /api/v1/klines`: OHLCV of the market's trades per interval from `startTime` to `endTime`."""
    spec = require_market(state, symbol)
    if interval != MONTH and interval not in KLINE_INTERVALS_MS:
        raise ApiError(f"interval must be one of {', '.join([*KLINE_INTERVALS_MS, MONTH])}, not {interval!r}")
    if price_type is not None and price_type not in PRICE_TYPES:
        raise ApiError(f"priceType must be one of {', '.join(PRICE_TYPES)}, not {price_type!r}")
    if price_type not in (None, PRICE_TYPE_LAST):
        raise ApiError(f"priceType {price_type} K-lines are not kept: only Last (trade prices) is available")
    start_ms = start_seconds * SECOND_MS
    end_ms = state.now_ms if end_seconds is None else end_seconds * SECOND_MS
    if end_ms < start_ms:
        raise ApiError("endTime must not be before startTime", "INVALID_RANGE")
    candles: dict[int, _Candle] = {}
    for fill in _market_fills(state, symbol):
        if not start_ms <= fill.at_ms <= end_ms:
            continue
        begin, end = bucket(interval, fill.at_ms)
        candle = candles.get(begin)
        if candle is None:
            price = fill.price_wad
            candle = candles[begin] = _Candle(begin, end, price, price, price, price)
        candle.add(fill)
    return [candles[begin].body(spec) for begin in sorted(candles)]
