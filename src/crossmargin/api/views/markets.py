"""Market views: GET /api/v1/markets, /api/v1/market, /api/v1/ticker, /api/v1/tickers, /api/v1/securities.

The configured order books (`[markets.*]` in the asset file, spot and perpetual) are listed with
their own filters: `tickSize` and `minPrice` one tick, `stepSize` the quantity step, `minQuantity`
the minimum; perps add their IMF/MMF functions, `openInterestLimit`, the hourly
`fundingInterval` (3600000 ms) and the funding bounds in basis points. Every listed asset other
than the quote asset (USDC) that has no configured spot market still gets a spot market
`<ASSET>_USDC` with filters from the assets (tick one step of USDC, step the asset's), so that
clients that load markets before anything else (ccxt's `load_markets`) find every asset they
borrow and lend. `createdAt` is when the market was listed: the time of the `ConfigureMarkets`
command that first configured it, or for an asset-derived market the later of its asset's and
USDC's `ConfigureAssets` (`EngineState.listed_at_ms`, journaled, so it is the same after a restart).

A ticker is still the mark price alone (a perp's own mark, else its asset's): first, last, high
and low price are the mark, change is zero, volume and trades "0"; trade statistics are not
summarized yet. A market without a price has no ticker (Backpack answers 204 for a market
without data). No tokenized stocks are listed, so `/api/v1/securities` is empty.
"""

from __future__ import annotations

from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    QUOTE_SYMBOL,
    WAD_DECIMALS,
    JsonObject,
    JsonValue,
    amount,
    naive_time,
    spot_market_symbol,
    wad,
)
from crossmargin.api.views.public import MARKET_TYPES, sqrt_function
from crossmargin.core.assets import AssetSpec
from crossmargin.core.markets import MarketSpec, PriceBands
from crossmargin.core.numbers import format_scaled
from crossmargin.core.oracle import stale_prices
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

SPOT: Final = "SPOT"
ORDER_BOOK_OPEN: Final = "Open"
INVALID_MARKET: Final = "INVALID_MARKET"

# Backpack's `TickerInterval`: the window a ticker summarises. With no trades yet both read alike.
TICKER_INTERVALS: Final = ("1d", "1w")

# Perp funding is charged every hour; Backpack gives the interval in ms and the bounds in basis points.
FUNDING_INTERVAL_MS: Final = 3_600_000
BPS_PER_UNIT: Final = 10_000

# Backpack lists spot and perpetual markets unless asked for other types.
DEFAULT_MARKET_TYPES: Final = (SPOT, "PERP")


def _spot_markets(state: EngineState) -> dict[str, AssetSpec]:
    """Return each asset-derived spot market's symbol and its base asset, in symbol order.

    An asset that has a configured spot market is listed by that market instead.
    """
    if QUOTE_SYMBOL not in state.specs:
        return {}
    return {
        spot_market_symbol(symbol): spec
        for symbol, spec in sorted(state.specs.items())
        if symbol != QUOTE_SYMBOL and spot_market_symbol(symbol) not in state.markets
    }


def _market(spec: AssetSpec, quote: AssetSpec, created_ms: int) -> JsonObject:
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
        "createdAt": naive_time(created_ms),
        "visible": True,
    }


def _configured_market(spec: MarketSpec, created_ms: int) -> JsonObject:
    tick = wad(spec.tick_size_wad)
    body: JsonObject = {
        "symbol": spec.symbol,
        "baseSymbol": spec.base,
        "quoteSymbol": spec.quote,
        "marketType": spec.kind.value,
        "filters": {
            "price": _price_filter(tick, spec.bands),
            "quantity": {
                "minQuantity": format_scaled(max(spec.min_quantity_atoms, spec.step_atoms), spec.base_decimals),
                "stepSize": format_scaled(spec.step_atoms, spec.base_decimals),
            },
        },
        "orderBookState": spec.state.value,
        "createdAt": naive_time(created_ms),
        "visible": True,
    }
    if spec.is_perp:
        bound_bps = format_scaled(spec.funding_bound.wad * BPS_PER_UNIT, WAD_DECIMALS)
        body |= {
            "imfFunction": sqrt_function(spec.imf),
            "mmfFunction": sqrt_function(spec.mmf),
            "fundingInterval": FUNDING_INTERVAL_MS,
            "fundingRateUpperBound": bound_bps,
            "fundingRateLowerBound": f"-{bound_bps}" if spec.funding_bound.wad else "0",
            "openInterestLimit": format_scaled(spec.open_interest_limit_atoms, spec.base_decimals),
        }
    return body


def _price_filter(tick: str, bands: PriceBands) -> JsonObject:
    """Return `filters.price`: the tick, and Backpack's band fields each only when configured (zero: none)."""
    body: JsonObject = {"minPrice": tick, "tickSize": tick}
    for name, ratio in (
        ("maxMultiplier", bands.max_multiplier),
        ("minMultiplier", bands.min_multiplier),
        ("maxImpactMultiplier", bands.max_impact_multiplier),
        ("minImpactMultiplier", bands.min_impact_multiplier),
    ):
        if ratio.wad:
            body[name] = str(ratio)
    if bands.mark_max_multiplier.wad or bands.mark_min_multiplier.wad:
        body["meanMarkPriceBand"] = {
            "maxMultiplier": str(bands.mark_max_multiplier),
            "minMultiplier": str(bands.mark_min_multiplier),
        }
    return body


def _listed(state: EngineState) -> dict[str, tuple[JsonObject, int | None]]:
    """Return every listed market's body and the price its ticker shows (None without one), by symbol."""
    listed: dict[str, tuple[JsonObject, int | None]] = {}
    quote = state.specs.get(QUOTE_SYMBOL)
    for symbol, asset in _spot_markets(state).items():
        assert quote is not None, "asset-derived markets exist only with the quote asset listed"
        created_ms = max(_listed_at(state, asset.symbol), _listed_at(state, quote.symbol))
        listed[symbol] = (_market(asset, quote, created_ms), state.mark_prices_wad.get(asset.symbol))
    for symbol, spec in state.markets.items():
        index = state.mark_prices_wad.get(spec.base)
        price = (state.perp_marks_wad.get(symbol) or index) if spec.is_perp else index
        listed[symbol] = (_configured_market(spec, _listed_at(state, symbol)), price)
    return dict(sorted(listed.items()))


def _listed_at(state: EngineState, symbol: str) -> int:
    """Return when an asset or market was listed (every listed one has a time; 0 only for a hand-built state)."""
    return state.listed_at_ms.get(symbol, 0)


def _require_market(state: EngineState, symbol: str) -> tuple[JsonObject, int | None]:
    markets = _listed(state)
    found = markets.get(symbol)
    if found is None:
        listed = ", ".join(markets) or "none"
        raise ApiError(f"Unknown market {symbol!r}; markets are {listed}", INVALID_MARKET)
    return found


def view_markets(
    state: EngineState, market_types: list[str] | None = None, now_ms: int | None = None
) -> list[JsonValue]:
    """Return `GET /api/v1/markets`: every market of the types asked for (spot and perp by default).

    With the oracle's age guard on, each market also says whether its base or quote index price is
    stale at `now_ms` (`priceStale`, a crossmargin extension): then it takes only orders that
    reduce exposure.
    """
    for market_type in market_types or ():
        if market_type not in MARKET_TYPES:
            raise ApiError(f"marketType must be one of {', '.join(MARKET_TYPES)}, not {market_type!r}")
    wanted = market_types or DEFAULT_MARKET_TYPES
    stale = _stale_symbols(state, now_ms)
    return [_with_staleness(body, stale) for body, _ in _listed(state).values() if body["marketType"] in wanted]


def view_market(state: EngineState, symbol: str, now_ms: int | None = None) -> JsonObject:
    """Return `GET /api/v1/market?symbol=`: one market, or INVALID_MARKET naming the listed ones."""
    return _with_staleness(_require_market(state, symbol)[0], _stale_symbols(state, now_ms))


def _stale_symbols(state: EngineState, now_ms: int | None) -> set[str] | None:
    """Return the assets whose price is stale at `now_ms`, or None while the age guard is off."""
    if state.oracle.price_max_age_ms is None:
        return None
    at = state.now_ms if now_ms is None else max(now_ms, state.now_ms)
    return {found.symbol for found in stale_prices(StateView(state, at))}


def _with_staleness(body: JsonObject, stale: set[str] | None) -> JsonObject:
    if stale is None:
        return body
    return {**body, "priceStale": body["baseSymbol"] in stale or body["quoteSymbol"] in stale}


def _check_interval(interval: str | None) -> None:
    if interval is not None and interval not in TICKER_INTERVALS:
        raise ApiError(f"interval must be one of {', '.join(TICKER_INTERVALS)}, not {interval!r}")


_INTERVAL_MS: Final = {"1d": 86_400_000, "1w": 7 * 86_400_000}


def _ticker(state: EngineState, market: str, price_wad: int, interval: str | None) -> JsonObject:
    """Return a market's ticker over the interval (1d by default) from its fills; the mark when none traded."""
    since = state.now_ms - _INTERVAL_MS.get(interval or "1d", _INTERVAL_MS["1d"])
    fills = state.market_fills.get(market)
    figures = None if fills is None else fills.since(state.fills, since)
    spec = state.markets.get(market)
    if figures is None or spec is None:
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
    first, last = figures.first_price_wad, figures.last_price_wad
    change = last - first
    return {
        "symbol": market,
        "firstPrice": wad(first),
        "lastPrice": wad(last),
        "priceChange": wad(change),
        "priceChangePercent": format_scaled(_toward_zero(change * 10**6, first), 6),  # a fraction, as Backpack's
        "high": wad(figures.high_wad),
        "low": wad(figures.low_wad),
        "volume": format_scaled(figures.volume_atoms, spec.base_decimals),
        "quoteVolume": format_scaled(figures.quote_atoms, spec.quote_decimals),
        "trades": str(figures.trades),
    }


def _toward_zero(numerator: int, denominator: int) -> int:
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def view_ticker(state: EngineState, symbol: str, interval: str | None = None) -> JsonObject | None:
    """Return `GET /api/v1/ticker?symbol=`: the market's ticker from its fills (or mark), None (204) without a price."""
    _check_interval(interval)
    _, price = _require_market(state, symbol)
    return None if price is None else _ticker(state, symbol, price, interval)


def view_tickers(state: EngineState, interval: str | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/tickers`: the ticker of every market with a price."""
    _check_interval(interval)
    return [
        _ticker(state, market, price, interval) for market, (_, price) in _listed(state).items() if price is not None
    ]


def view_securities(_: EngineState) -> list[JsonValue]:
    """Return `GET /api/v1/securities`: the tokenized stocks listed, and crossmargin lists none."""
    return []
