"""Perpetual futures views: positions, mark prices, open interest, funding rates, funding and settlement history.

A position (`GET /api/v1/position`) is shown with the engine's own margin line
(`compute_perp_lines`), so `imf`, `mmf` and `netExposureNotional` are what the margin check uses:
exposure includes the worst case of the open orders filling. `entryPrice` is the open size's
entry cost over its size (rounded down to 18 decimals), `netCost` that cost signed (+ long),
`pnlUnrealized` the PnL not yet settled at mark (settlement realizes it every 10 seconds, so it
stays small), `pnlRealized` what settlement has realized since the position opened.
`breakEvenPrice` is the price at which the position's value equals its entry cost net of the
funding it received (fees are settled as they are charged and are not in it).

`/api/v1/markPrices` lists spot markets (mark = index = the asset's mark price) and perpetual
markets (mark = median of index, best bid and best ask; `fundingRate` the estimate the next hourly
funding would charge now; `nextFundingTimestamp` the next full hour). Funding rate history comes
from the funding payments, one row per market and hour in which a position paid or received
funding: an hour with no open position records no rate.
"""

from __future__ import annotations

from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    QUOTE_SYMBOL,
    JsonObject,
    JsonValue,
    SortDirection,
    choice,
    naive_time,
    reader,
    require_subaccount,
    sort_newest_first,
    spot_market_symbol,
    wad,
)
from crossmargin.api.views.liquidation_price import liquidation_price_text
from crossmargin.api.views.orders import base_text, quote_text, require_market
from crossmargin.api.views.public import MARKET_TYPES, sqrt_function
from crossmargin.core.events import FundingPaid, Settled
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.limits import compute_perp_lines
from crossmargin.core.margin import PerpMargin
from crossmargin.core.markets import MarketSpec
from crossmargin.core.marks import market_index_wad
from crossmargin.core.numbers import WAD, mul_div_down
from crossmargin.core.perp_funding import compute_funding_rate
from crossmargin.core.perps import PerpPosition
from crossmargin.core.settled_index import numbered_settled_rows
from crossmargin.core.state import EngineState, at_indexes
from crossmargin.core.view import StateView

SPOT: Final = "SPOT"
PERP: Final = "PERP"
# Backpack's `SettlementSourceFilter`.
SETTLEMENT_SOURCES: Final = (
    "BackstopLiquidation",
    "CulledBorrowInterest",
    "CulledRealizePnl",
    "CulledRealizePnlBookUtilization",
    "FundingPayment",
    "RealizePnl",
    "TradingFees",
    "TradingFeesSystem",
)


def price_per_unit_wad(spec: MarketSpec, quote_atoms: int, quantity_atoms: int) -> int:
    """Return |quote| / |quantity| as a WAD price per whole base unit, rounded down (0 for no size)."""
    if not quantity_atoms:
        return 0
    return mul_div_down(abs(quote_atoms) * spec.base_unit_atoms, WAD, abs(quantity_atoms) * spec.quote_unit_atoms)


def _worst_quantity(line: PerpMargin, spec: MarketSpec) -> int:
    """Return the size the position could reach if its open orders fill (the margin line's worst case)."""
    total_notional = line.notional_wad + line.reserve_notional_wad
    if not line.reserve_notional_wad or not line.mark_price_wad:
        return abs(line.quantity_atoms)
    return mul_div_down(total_notional, spec.base_unit_atoms, line.mark_price_wad)


def _position(state: EngineState, spec: MarketSpec, position: PerpPosition, line: PerpMargin) -> JsonObject:
    subaccount = state.subaccounts[position.subaccount_id]
    mark = line.mark_price_wad
    quantity = position.quantity_atoms
    funded_cost = position.entry_cost_atoms - position.cumulative_funding_atoms
    return {
        "breakEvenPrice": wad(price_per_unit_wad(spec, funded_cost, quantity)),
        "entryPrice": wad(price_per_unit_wad(spec, position.entry_cost_atoms, quantity)),
        "estLiquidationPrice": liquidation_price_text(reader(state), position.subaccount_id, spec.base),
        "imf": wad(line.imf_wad),
        "imfFunction": sqrt_function(spec.imf),
        "markPrice": wad(mark),
        "mmf": wad(line.mmf_wad),
        "mmfFunction": sqrt_function(spec.mmf),
        "netCost": quote_text(spec, position.entry_cost_atoms),
        "netQuantity": base_text(spec, quantity),
        "netExposureQuantity": base_text(spec, _worst_quantity(line, spec)),
        "netExposureNotional": wad(line.notional_wad + line.reserve_notional_wad),
        "pnlRealized": quote_text(spec, position.realized_pnl_atoms),
        "pnlUnrealized": quote_text(spec, position.unrealized_atoms(spec, mark)),
        "cumulativeFundingPayment": quote_text(spec, position.cumulative_funding_atoms),
        "subaccountId": position.subaccount_id,
        "symbol": position.market,
        "userId": subaccount.account_id,
        "positionId": str(position.position_id),
        "cumulativeInterest": "0",
    }


def view_positions(
    state: EngineState, subaccount_id: SubaccountId, symbol: str | None = None, market_type: str | None = None
) -> list[JsonValue]:
    """Return `GET /api/v1/position`: the subaccount's open perp positions, by market."""
    require_subaccount(state, subaccount_id)
    if market_type is not None and market_type not in MARKET_TYPES:
        raise ApiError(f"marketType must be one of {', '.join(MARKET_TYPES)}, not {market_type!r}")
    if symbol is not None:
        require_market(state, symbol)
    if market_type not in (None, PERP):
        return []
    tx = reader(state)
    lines = {line.market: line for line in compute_perp_lines(tx, state.subaccounts[subaccount_id])}
    return [
        _position(state, state.markets[position.market], position, lines[position.market])
        for position in tx.subaccount_perp_positions(subaccount_id)
        if position.quantity_atoms and symbol in (None, position.market)
    ]


def next_funding_ms(now_ms: int) -> int:
    """Return the next full hour after `now_ms`, when funding is next charged."""
    return (now_ms // MS_PER_HOUR + 1) * MS_PER_HOUR


def _perp_mark(tx: StateView, spec: MarketSpec) -> JsonObject:
    index = market_index_wad(tx, spec)
    return {
        "fundingRate": wad(compute_funding_rate(tx, spec)),
        "indexPrice": wad(index),
        "markPrice": wad(tx.perp_mark(spec.symbol) or index),
        "nextFundingTimestamp": next_funding_ms(tx.now_ms),
        "symbol": spec.symbol,
    }


def view_mark_prices(state: EngineState, symbol: str | None = None, market_type: str | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/markPrices`: spot markets' marks, then perp markets' marks with funding estimates.

    A market whose asset has no index price yet is left out. `marketType` narrows to SPOT or PERP;
    other types list nothing, as crossmargin has no such markets.
    """
    if market_type is not None and market_type not in MARKET_TYPES:
        raise ApiError(f"marketType must be one of {', '.join(MARKET_TYPES)}, not {market_type!r}")
    tx = reader(state)
    spot: dict[str, JsonObject] = {
        spot_market_symbol(asset): {
            "indexPrice": wad(price),
            "markPrice": wad(price),
            "symbol": spot_market_symbol(asset),
        }
        for asset, price in sorted(state.mark_prices_wad.items())
        if asset != QUOTE_SYMBOL and asset in state.specs
    }
    perp: dict[str, JsonObject] = {
        market: _perp_mark(tx, spec)
        for market, spec in sorted(state.markets.items())
        if spec.is_perp and tx.mark_price(spec.base)
    }
    if symbol is not None and symbol not in spot and symbol not in perp:
        raise ApiError(f"Unknown market {symbol!r}, or its asset has no price yet", "INVALID_MARKET")
    rows = {**(spot if market_type in (None, SPOT) else {}), **(perp if market_type in (None, PERP) else {})}
    return [row for market, row in rows.items() if symbol in (None, market)]


def _perp_markets(state: EngineState, symbol: str | None) -> list[MarketSpec]:
    if symbol is not None:
        spec = require_market(state, symbol)
        if not spec.is_perp:
            raise ApiError(f"{symbol} is a spot market: open interest and funding are for perpetual markets")
        return [spec]
    return [spec for _, spec in sorted(state.markets.items()) if spec.is_perp]


def view_open_interest(state: EngineState, symbol: str | None = None) -> list[JsonValue]:
    """Return `GET /api/v1/openInterest`: each perp market's open interest (sum of longs, base units)."""
    return [
        {
            "symbol": spec.symbol,
            "openInterest": base_text(spec, state.open_interest_atoms.get(spec.symbol, 0)),
            "timestamp": state.now_ms,
        }
        for spec in _perp_markets(state, symbol)
    ]


def view_funding_rates(state: EngineState, symbol: str) -> list[JsonValue]:
    """Return `GET /api/v1/fundingRates`: the market's hourly funding rates, newest first."""
    (spec,) = _perp_markets(state, symbol)
    rates = state.funding_rates.get(spec.symbol, {})
    return [
        {"symbol": spec.symbol, "intervalEndTimestamp": naive_time(hour_ms), "fundingRate": wad(rates[hour_ms])}
        for hour_ms in sorted(rates, reverse=True)
    ]


def _funding_row(state: EngineState, payment: FundingPaid) -> JsonObject:
    spec = state.markets[payment.market]
    return {
        "userId": state.subaccounts[payment.subaccount_id].account_id,
        "subaccountId": payment.subaccount_id,
        "symbol": payment.market,
        "quantity": quote_text(spec, payment.quantity_atoms),
        "intervalEndTimestamp": naive_time(payment.interval_end_ms),
        "fundingRate": wad(payment.rate_wad),
    }


def _ordered(rows: list[JsonValue], sort_direction: str | None) -> list[JsonValue]:
    newest_first = sort_newest_first(choice(SortDirection, sort_direction, "sortDirection"))
    return rows[::-1] if newest_first else rows


def view_funding_history(
    state: EngineState, subaccount_id: SubaccountId, symbol: str | None = None, sort_direction: str | None = None
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/funding`: the subaccount's funding payments (+ received), newest first."""
    require_subaccount(state, subaccount_id)
    if symbol is not None:
        require_market(state, symbol)
    payments = at_indexes(state.funding_payments, state.history_of("funding_payments", subaccount_id))
    rows: list[JsonValue] = [
        _funding_row(state, payment) for _, payment in payments if symbol in (None, payment.market)
    ]
    return _ordered(rows, sort_direction)


def _settlement_row(state: EngineState, settled: Settled) -> JsonObject:
    spec = state.markets[settled.market]
    return {
        "quantity": quote_text(spec, settled.quantity_atoms),
        "source": settled.source.value,
        "subaccountId": settled.subaccount_id,
        "timestamp": naive_time(settled.at_ms),
        "userId": state.subaccounts[settled.subaccount_id].account_id,
        "positionId": str(settled.position_id),
    }


def view_settlement_history(
    state: EngineState, subaccount_id: SubaccountId, source: str | None = None, sort_direction: str | None = None
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/settlement`: USDC moved by the subaccount's settlements (+ credit), newest first."""
    require_subaccount(state, subaccount_id)
    if source is not None and source not in SETTLEMENT_SOURCES:
        raise ApiError(f"source must be one of {', '.join(SETTLEMENT_SOURCES)}, not {source!r}")
    rows: list[JsonValue] = [
        _settlement_row(state, settled)
        for _, _, settled in numbered_settled_rows(state, subaccount_id)
        if source in (None, settled.source.value)
    ]
    return _ordered(rows, sort_direction)
