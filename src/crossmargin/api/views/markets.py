"""Spot market views: GET /api/v1/markets, /api/v1/market, /api/v1/ticker, /api/v1/tickers, /api/v1/securities.

Every listed asset other than the quote asset (USDC) has one spot market `<ASSET>_USDC`, so that
clients that load markets before anything else (ccxt's `load_markets`) find the assets they
borrow and lend. A market's quantity filter comes from its asset: `stepSize` and `minQuantity`
are the asset's `stepSize`; its price filter from the quote asset: `tickSize` and `minPrice` are
one step of USDC. crossmargin keeps no listing time, so every market was created at the clock's
epoch, and every book is `Open`.

Order books, trades and perpetual markets come in a later issue. Until then no trade has
happened, so a ticker is the mark price alone: first, last, high and low price are today's mark,
change is zero, volume and trades "0". A market whose asset has no mark price yet has no ticker
(Backpack answers 204 for a market without data). No tokenized stocks are listed, so
`/api/v1/securities` is empty.
"""

from __future__ import annotations

from typing import Final

from crossmargin.api.views.common import (
    QUOTE_SYMBOL,
    JsonObject,
    JsonValue,
    QueryError,
    amount,
    naive_time,
    spot_market_symbol,
    wad,
)
from crossmargin.api.views.public import MARKET_TYPES
from crossmargin.core.assets import AssetSpec
from crossmargin.core.state import EngineState

SPOT: Final = "SPOT"
ORDER_BOOK_OPEN: Final = "Open"
INVALID_MARKET: Final = "INVALID_MARKET"

# Backpack's `TickerInterval`: the window a ticker summarises. With no trades yet both read alike.
TICKER_INTERVALS: Final = ("1d", "1w")

# Backpack lists spot and perpetual markets unless asked for other types.
DEFAULT_MARKET_TYPES: Final = (SPOT, "PERP")


def _spot_markets(state: EngineState) -> dict[str, AssetSpec]:
    """Return each spot market's symbol and its base asset, in symbol order (none without the quote asset)."""
    if QUOTE_SYMBOL not in state.specs:
        return {}
    return {spot_market_symbol(symbol): spec for symbol, spec in sorted(state.specs.items()) if symbol != QUOTE_SYMBOL}


def _market(spec: AssetSpec, quote: AssetSpec) -> JsonObject:
    tick = amount(quote.step_atoms, quote)
    step = amount(spec.step_atoms, spec)
    return {
        "symbol": spot_market_symbol(spec.symbol),
        "baseSymbol": spec.symbol,
        "quoteSymbol": quote.symbol,
        "marketType": SPOT,
        "filters": {
            "price": {"minPrice": tick, "tickSize": tick},
            "quantity": {"minQuantity": step, "stepSize": step},
        },
        "orderBookState": ORDER_BOOK_OPEN,
        "createdAt": naive_time(0),
        "visible": True,
    }


def _require_market(state: EngineState, symbol: str) -> AssetSpec:
    markets = _spot_markets(state)
    spec = markets.get(symbol)
    if spec is None:
        listed = ", ".join(markets) or "none"
        raise QueryError(f"Unknown market {symbol!r}; markets are {listed}", INVALID_MARKET)
    return spec


def view_markets(state: EngineState, market_types: list[str] | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/markets`: every spot market, when spot markets are among the types asked for."""
    for market_type in market_types or ():
        if market_type not in MARKET_TYPES:
            raise QueryError(f"marketType must be one of {', '.join(MARKET_TYPES)}, not {market_type!r}")
    if SPOT not in (market_types or DEFAULT_MARKET_TYPES):
        return []
    markets = _spot_markets(state)
    if not markets:
        return []
    quote = state.specs[QUOTE_SYMBOL]
    return [_market(spec, quote) for spec in markets.values()]


def view_market(state: EngineState, symbol: str) -> JsonObject:
    """Return `GET /api/v1/market?symbol=`: one market, or INVALID_MARKET naming the listed ones."""
    return _market(_require_market(state, symbol), state.specs[QUOTE_SYMBOL])


def _check_interval(interval: str | None) -> None:
    if interval is not None and interval not in TICKER_INTERVALS:
        raise QueryError(f"interval must be one of {', '.join(TICKER_INTERVALS)}, not {interval!r}")


def _ticker(market: str, price_wad: int) -> JsonObject:
    price = wad(price_wad)
    return {
        "symbol": market,
        "firstPrice": price,
        "lastPrice": price,
        "priceChange": "0",
        "priceChangePercent": "0",
        "high": price,
        "low": price,
        "volume": "0",
        "quoteVolume": "0",
        "trades": "0",
    }


def view_ticker(state: EngineState, symbol: str, interval: str | None = None) -> JsonObject | None:
    """Return `GET /api/v1/ticker?symbol=`: the market's ticker from its mark price, None (204) without one."""
    _check_interval(interval)
    spec = _require_market(state, symbol)
    price = state.mark_prices_wad.get(spec.symbol)
    return None if price is None else _ticker(symbol, price)


def view_tickers(state: EngineState, interval: str | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/tickers`: the ticker of every market whose asset has a mark price."""
    _check_interval(interval)
    return [
        _ticker(market, state.mark_prices_wad[spec.symbol])
        for market, spec in _spot_markets(state).items()
        if spec.symbol in state.mark_prices_wad
    ]


def view_securities(_: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/securities`: the tokenized stocks listed, and crossmargin lists none."""
    return []
