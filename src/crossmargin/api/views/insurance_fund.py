"""The insurance fund as the operator sees it: `GET /admin/v1/insurance-fund`.

The fund (`core/insurance.py`) is subaccount 0: it receives the 1% liquidation fees and takes
over what a liquidation cannot sell (a *backstop*); when that leaves it worth less than zero, the
loss is shared by auto-deleveraging (ADL) and lend-index cuts (`core/loss_sharing.py`). This view
shows all of it from the state, changing nothing:

- `value`: the fund's value in USD, as the engine counts it (`fund_value_wad`): holdings at mark
  minus debts at mark plus unsettled perp amounts; it equals the sum of the balances' `value`
  plus `unsettledEquity`.
- `balances`: per asset held or owed, the spot balance (`available`, negative when a settlement
  left it short), `locked`, `lent`, `owed` and their net `value` at `markPrice`.
- `perpPositions`: the perp positions it took over and still holds (a size): size, entry, mark,
  PnL not yet settled.
- `liquidationFees`: the liquidation fees it has received, per asset (every step since the start).
- `backstops`, `autoDeleverages`, `lendIndexCuts`: what it took over and the losses it shared,
  newest first, at most `HISTORY_ROWS` of each, with the count of all of them.

Before the first liquidation or deposit the fund does not exist: everything is zero and empty.
Quantities are decimal strings at the asset's decimals, values and prices in USD, lend indices at
27 decimals (RAY), times as Backpack's `naive-date-time`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final, TypeVar

from crossmargin.api.views.common import JsonObject, JsonValue, amount, naive_time, reader, wad
from crossmargin.api.views.orders import base_text, quote_text
from crossmargin.api.views.perps import price_per_unit_wad
from crossmargin.core.events import AutoDeleveraged, Backstopped, LendIndexCut
from crossmargin.core.insurance import INSURANCE_FUND_ID, ensure_insurance_fund, fund_value_wad
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import format_scaled
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

HISTORY_ROWS: Final = 100
"""The most rows of each history (backstops, ADL closes, lend-index cuts) one answer lists."""
RAY_DECIMALS: Final = 27

Row = TypeVar("Row")


def _balances(tx: StateView) -> list[JsonValue]:
    holdings = tx.holdings(INSURANCE_FUND_ID)
    summary = compute_subaccount_margin(tx, ensure_insurance_fund(tx))
    rows: list[JsonValue] = []
    for line in summary.assets:
        spec = tx.spec(line.symbol)
        assert spec is not None, "a held asset is listed"
        holding = holdings[line.symbol]
        rows.append(
            {
                "symbol": line.symbol,
                "available": amount(holding.spot_atoms, spec),
                "locked": amount(holding.locked_atoms, spec),
                "lent": amount(holding.lend_atoms, spec),
                "owed": amount(holding.debt_atoms, spec),
                "markPrice": wad(line.mark_price_wad),
                "value": wad(line.balance_notional_wad - line.debt_notional_wad),
            }
        )
    return rows


def _perp_positions(tx: StateView) -> list[JsonValue]:
    rows: list[JsonValue] = []
    for position in tx.subaccount_perp_positions(INSURANCE_FUND_ID):
        if not position.quantity_atoms:
            continue  # closed, its last amounts not yet settled: they show in `unsettledEquity`
        spec = tx.market(position.market)
        assert spec is not None, "a position's market is listed"
        mark = tx.perp_mark(position.market)
        rows.append(
            {
                "symbol": position.market,
                "netQuantity": base_text(spec, position.quantity_atoms),
                "entryPrice": wad(price_per_unit_wad(spec, position.entry_cost_atoms, position.quantity_atoms)),
                "markPrice": wad(mark),
                "pnlUnrealized": quote_text(spec, position.unrealized_atoms(spec, mark)),
            }
        )
    return rows


def _liquidation_fees(state: EngineState) -> list[JsonValue]:
    received: defaultdict[str, int] = defaultdict(int)
    for step in state.liquidation_steps:
        if step.fee_atoms:
            received[step.fee_symbol] += step.fee_atoms
    return [
        {"symbol": symbol, "quantity": amount(atoms, state.specs[symbol])} for symbol, atoms in sorted(received.items())
    ]


def _backstop(state: EngineState, taken: Backstopped) -> JsonObject:
    holdings: list[JsonValue] = []
    for row in taken.holdings:
        spec = state.specs[row.symbol]
        holdings.append(
            {
                "symbol": row.symbol,
                "available": amount(row.spot_atoms, spec),
                "lent": amount(row.lend_atoms, spec),
                "owed": amount(row.debt_atoms, spec),
            }
        )
    perps: list[JsonValue] = [
        {"symbol": perp.market, "netQuantity": base_text(state.markets[perp.market], perp.quantity_atoms)}
        for perp in taken.perps
    ]
    return {
        "subaccountId": taken.subaccount_id,
        "netEquity": wad(taken.net_equity_wad),
        "holdings": holdings,
        "perpPositions": perps,
        "timestamp": naive_time(taken.at_ms),
    }


def _auto_deleverage(state: EngineState, close: AutoDeleveraged) -> JsonObject:
    spec = state.markets[close.market]
    return {
        "symbol": close.market,
        "counterpartySubaccountId": close.counterparty_subaccount_id,
        "quantity": base_text(spec, close.quantity_atoms),
        "quoteQuantity": quote_text(spec, close.quote_atoms),
        "loss": quote_text(spec, close.loss_atoms),
        "timestamp": naive_time(close.at_ms),
    }


def _lend_index_cut(state: EngineState, cut: LendIndexCut) -> JsonObject:
    spec = state.specs[cut.symbol]
    return {
        "symbol": cut.symbol,
        "lendIndexBefore": format_scaled(cut.lend_index_before_ray, RAY_DECIMALS),
        "lendIndexAfter": format_scaled(cut.lend_index_after_ray, RAY_DECIMALS),
        "loss": amount(cut.loss_atoms, spec),
        "debtForgiven": amount(cut.debt_forgiven_atoms, spec),
        "timestamp": naive_time(cut.at_ms),
    }


def _newest(rows: Sequence[Row]) -> list[Row]:
    return list(reversed(rows[-HISTORY_ROWS:]))


def view_insurance_fund(state: EngineState) -> JsonObject:
    """Return `GET /admin/v1/insurance-fund`: the fund's value, holdings, perp positions and losses taken and shared."""
    tx = reader(state)  # never committed: creating the fund in it to value it leaves the state as it is
    summary = compute_subaccount_margin(tx, ensure_insurance_fund(tx))
    return {
        "subaccountId": INSURANCE_FUND_ID,
        "value": wad(fund_value_wad(tx)),
        "unsettledEquity": wad(summary.unsettled_wad),
        "balances": _balances(tx),
        "perpPositions": _perp_positions(tx),
        "liquidationFees": _liquidation_fees(state),
        "backstopCount": len(state.backstops),
        "backstops": [_backstop(state, taken) for taken in _newest(state.backstops)],
        "autoDeleverageCount": len(state.auto_deleverages),
        "autoDeleverages": [_auto_deleverage(state, close) for close in _newest(state.auto_deleverages)],
        "lendIndexCutCount": len(state.lend_index_cuts),
        "lendIndexCuts": [_lend_index_cut(state, cut) for cut in _newest(state.lend_index_cuts)],
    }
