"""`GET /wapi/v1/history/position`: every perp position a subaccount opened, open or closed.

A position's life is rebuilt from the trading history in the state, never stored: the subaccount's
perp fills (as maker or taker), the auto-deleverages that closed part of it and a backstop that
took it over, in time order. A position opens when the size leaves zero and closes when it returns
to zero; a fill that crosses zero closes one position and opens the next with the rest. Its id is
the trade id of the fill that opened it. Per position: the average entry (cost of all opening
trades over their size), the average closing price, the closed volume, the PnL realized by each
close (its proceeds less the share of the entry cost it closes, rounded down), the trading fees
and liquidation fees paid, the size closed by liquidation (liquidation fills, ADL, backstop), and
the funding paid (positive) or received while it was open. The open position's size, cost and
unrealized PnL are the engine's own (`PerpPosition`), at the perp mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    SortDirection,
    choice,
    naive_time,
    reader,
    require_subaccount,
    sort_newest_first,
    wad,
)
from crossmargin.api.views.orders import base_text, quote_text
from crossmargin.api.views.perps import price_per_unit_wad
from crossmargin.core.ids import SubaccountId
from crossmargin.core.margin import compute_margin_fraction, leverage_floor_wad
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import mul_div_down
from crossmargin.core.orders import OrderSide, SystemOrderType
from crossmargin.core.state import EngineState, at_indexes


class PositionState(StrEnum):
    """Backpack's `PositionState`."""

    OPEN = "Open"
    CLOSED = "Closed"


class MarketType(StrEnum):
    """Backpack's `MarketType` (only perp markets hold positions here)."""

    SPOT = "SPOT"
    PERP = "PERP"
    IPERP = "IPERP"
    DATED = "DATED"
    PREDICTION = "PREDICTION"
    RFQ = "RFQ"


@dataclass(slots=True)
class _Life:
    """One position's running figures, in the market's atoms."""

    trade_id: int
    opened_ms: int
    quantity: int = 0
    cost: int = 0
    opened_quantity: int = 0
    opened_cost: int = 0
    closed_quantity: int = 0
    closed_proceeds: int = 0
    realized: int = 0
    fees: int = 0
    liquidation_fees: int = 0
    liquidated: int = 0
    funding: int = 0
    closed_ms: int | None = None


@dataclass(frozen=True, slots=True)
class _Trade:
    at_ms: int
    trade_id: int
    quantity: int  # signed: + buys, - sells
    quote: int
    fee: int = 0
    liquidation_fee: int = 0
    liquidation: bool = False


def _trades(state: EngineState, subaccount_id: SubaccountId, market: str) -> list[_Trade]:
    trades: list[_Trade] = []
    for fill in state.fills_of(subaccount_id):
        if fill.market != market:
            continue
        taker = fill.taker_subaccount_id == subaccount_id
        buys = (fill.taker_side is OrderSide.BID) == taker
        sign = 1 if buys else -1
        liquidation = taker and fill.system_order_type is not SystemOrderType.NONE
        fee = fill.taker_fee_atoms if taker else fill.maker_fee_atoms
        extra = fill.liquidation_fee_atoms if taker else 0
        trades.append(
            _Trade(fill.at_ms, fill.trade_id, sign * fill.quantity_atoms, fill.quote_atoms, fee, extra, liquidation)
        )
    trades.extend(
        _Trade(adl.at_ms, 0, adl.quantity_atoms, adl.quote_atoms, liquidation=True)
        for adl in state.auto_deleverages
        if adl.market == market and adl.counterparty_subaccount_id == subaccount_id
    )
    for backstop in state.backstops:
        if backstop.subaccount_id == subaccount_id:
            trades.extend(
                _Trade(backstop.at_ms, 0, -taken.quantity_atoms, 0, liquidation=True)
                for taken in backstop.perps
                if taken.market == market
            )
    trades.sort(key=lambda trade: trade.at_ms)
    return trades


def _apply(life: _Life, trade: _Trade, size: int) -> None:
    """Add `size` (signed, never crossing zero) of `trade` to the position."""
    quote = mul_div_down(trade.quote, abs(size), abs(trade.quantity))
    if life.quantity == 0 or (life.quantity > 0) == (size > 0):
        life.quantity += size
        life.cost += quote if size > 0 else -quote
        life.opened_quantity += abs(size)
        life.opened_cost += quote
        return
    share = mul_div_down(life.cost, abs(size), abs(life.quantity))
    life.cost -= share
    life.quantity += size
    life.closed_quantity += abs(size)
    life.closed_proceeds += quote
    life.realized += (quote if size < 0 else -quote) - share
    if trade.liquidation:
        life.liquidated += abs(size)


def _lives(state: EngineState, subaccount_id: SubaccountId, market: str) -> list[_Life]:
    lives: list[_Life] = []
    current: _Life | None = None
    for trade in _trades(state, subaccount_id, market):
        rest = trade.quantity
        if current is not None and current.quantity and (current.quantity > 0) != (rest > 0):
            closing = max(-abs(current.quantity), min(abs(current.quantity), rest))
            _apply(current, trade, closing)
            rest -= closing
            if current.quantity == 0:
                current.closed_ms = trade.at_ms
                current = None
        if rest:
            if current is None:
                current = _Life(trade.trade_id, trade.at_ms)
                lives.append(current)
            _apply(current, trade, rest)
        owner = current if current is not None else lives[-1] if lives else None
        if owner is not None:
            owner.fees += trade.fee
            owner.liquidation_fees += trade.liquidation_fee
    _add_funding(state, subaccount_id, market, lives)
    return lives


def _add_funding(state: EngineState, subaccount_id: SubaccountId, market: str, lives: list[_Life]) -> None:
    """Give each funding payment to the position open when its interval ended."""
    for _, payment in at_indexes(state.funding_payments, state.history_of("funding_payments", subaccount_id)):
        if payment.market != market:
            continue
        for life in lives:
            if life.opened_ms <= payment.interval_end_ms and (
                life.closed_ms is None or payment.interval_end_ms <= life.closed_ms
            ):
                life.funding += payment.quantity_atoms
                break


def _row(state: EngineState, spec: MarketSpec, subaccount_id: SubaccountId, life: _Life) -> JsonObject:
    tx = reader(state)
    mark = tx.perp_mark(spec.symbol)
    is_open = life.closed_ms is None
    held = state.perp_positions.get((subaccount_id, spec.symbol)) if is_open else None
    quantity = held.quantity_atoms if held is not None else 0
    cost = held.entry_cost_atoms if held is not None else 0
    unrealized = held.unrealized_atoms(spec, mark) if held is not None else 0
    notional = mul_div_down(abs(quantity), mark, spec.base_unit_atoms)
    leverage = state.subaccounts[subaccount_id].leverage_limit
    row: JsonObject = {
        "id": str(life.trade_id),
        "symbol": spec.symbol,
        "netQuantity": base_text(spec, quantity),
        "netExposureQuantity": base_text(spec, abs(quantity)),
        "netExposureNotional": wad(notional),
        "netCost": quote_text(spec, cost),
        "markPrice": wad(mark),
        "entryPrice": wad(price_per_unit_wad(spec, life.opened_cost, life.opened_quantity)),
        "cumulativePnlRealized": quote_text(spec, life.realized),
        "unrealizedPnl": quote_text(spec, unrealized),
        "fundingQuantity": quote_text(spec, life.funding),
        "interest": "0",
        "liquidated": base_text(spec, life.liquidated),
        "imf": wad(compute_margin_fraction(spec.imf, notional, leverage_floor_wad(leverage))),
        "fees": quote_text(spec, life.fees),
        "state": (PositionState.OPEN if is_open else PositionState.CLOSED).value,
        "closedVolume": base_text(spec, life.closed_quantity),
        "liquidationFees": quote_text(spec, life.liquidation_fees),
        "openedAt": naive_time(life.opened_ms),
    }
    if life.closed_quantity:
        row["closingPrice"] = wad(price_per_unit_wad(spec, life.closed_proceeds, life.closed_quantity))
    if life.closed_ms is not None:
        row["closedAt"] = naive_time(life.closed_ms)
    return row


def view_position_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    position_state: str | None = None,
    market_types: list[str] | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return the subaccount's perp positions, newest opened first unless `sortDirection=Asc`."""
    require_subaccount(state, subaccount_id)
    wanted_state = choice(PositionState, position_state, "state")
    kinds = {choice(MarketType, kind, "marketType") for kind in market_types or ()}
    newest_first = sort_newest_first(choice(SortDirection, sort_direction, "sortDirection"))
    if kinds and MarketType.PERP not in kinds:
        return []
    found: list[tuple[int, int, JsonObject]] = []
    for spec in state.perp_market_specs():
        if symbol not in (None, spec.symbol):
            continue
        for life in _lives(state, subaccount_id, spec.symbol):
            is_open = PositionState.OPEN if life.closed_ms is None else PositionState.CLOSED
            if wanted_state in (None, is_open):
                found.append((life.opened_ms, life.trade_id, _row(state, spec, subaccount_id, life)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=newest_first)
    return [row for _, _, row in found]
