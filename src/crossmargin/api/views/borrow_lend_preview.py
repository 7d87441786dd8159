"""What a borrow, repay, lend or redeem would do, before it is sent: the web page's confirmation figures.

The preview runs the very command `POST /api/v1/borrowLend` would run through `engine.preview`:
the engine's own steps at the clock's time (what fell due first, the handler, the re-mark), never
committed. So a refusal has exactly the code and message the POST would
get, and every figure after the action is the engine's own:

- `entryFee`: the `EntryFeeCharged` of a new borrow (interest until the next full hour);
- `hourlyInterest` / `hourlyLendInterest`: the next full hour charged on the what-if state by the
  engine's own accrual (`accrue_pool_hour`): the position's debt (rounded up) or claim (rounded
  down) after that hour minus before, at the rate of the utilization the action leaves;
- the pool's rates, the net position, available equity, margin fraction (net equity / exposure,
  as `GET /api/v1/capital/collateral` reports it) and the estimated liquidation price after it.

The action is what netting makes of the side: Lend against a debt repays it, Borrow against a
lend redeems it. A refused preview reports the figures as they stand (nothing would change).
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.api.errors import from_rejection
from crossmargin.api.views.common import JsonObject, amount, require_subaccount, wad
from crossmargin.core.accounts import Subaccount
from crossmargin.core.accrual import accrue_pool_hour
from crossmargin.core.assets import AssetSpec
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend
from crossmargin.core.engine import compute_max_borrowable, preview
from crossmargin.core.events import EntryFeeCharged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import compute_borrow_rate, compute_lend_rate, compute_utilization, next_hour_ms
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.margin import Holding
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView


@dataclass(frozen=True, slots=True)
class _After:
    """The figures of one what-if state (after the action, or as things stand if it is refused)."""

    holding: Holding
    available_wad: int
    margin_fraction: str | None
    borrow_rate_wad: int
    lend_rate_wad: int
    hourly_debt_atoms: int
    hourly_lend_atoms: int


def preview_action(side: BorrowLendSide, holding: Holding) -> str:
    """Return what a borrow or lend does to this holding: Borrow, Repay, Lend or Redeem."""
    if side is BorrowLendSide.LEND:
        return "Repay" if holding.debt_atoms else "Lend"
    return "Redeem" if holding.lend_atoms else "Borrow"


def _next_hour(tx: StateView, spec: AssetSpec, subaccount_id: SubaccountId) -> tuple[int, int]:
    """Return (debt added, claim added) to the subaccount's position by the next full hour's interest."""
    hour = next_hour_ms(tx.now_ms)
    step = StateView(tx, hour)
    accrue_pool_hour(step, spec, hour)
    before = tx.holding(subaccount_id, spec.symbol)
    after = step.holding(subaccount_id, spec.symbol)
    return after.debt_atoms - before.debt_atoms, after.lend_atoms - before.lend_atoms


def _figures(tx: StateView, subaccount: Subaccount, spec: AssetSpec) -> _After:
    summary = compute_subaccount_margin(tx, subaccount)
    pool = tx.pool(spec.symbol)
    utilization = compute_utilization(pool.borrowed_atoms, pool_supplied(tx, spec.symbol))
    rate = compute_borrow_rate(spec.rate_curve, utilization)
    hourly_debt, hourly_lend = _next_hour(tx, spec, subaccount.subaccount_id)
    fraction = summary.margin_fraction
    return _After(
        holding=tx.holding(subaccount.subaccount_id, spec.symbol),
        available_wad=summary.available_wad,
        margin_fraction=None if fraction is None else wad(fraction.wad),
        borrow_rate_wad=rate,
        lend_rate_wad=compute_lend_rate(rate, pool.borrowed_atoms, pool.lent_atoms, spec.fee.wad),
        hourly_debt_atoms=hourly_debt,
        hourly_lend_atoms=hourly_lend,
    )


def view_borrow_lend_preview(state: EngineState, command: ExecuteBorrowLend, now_ms: int) -> JsonObject:
    """Return `GET /api/v1/borrowLend/preview`: the borrow or lend's outcome, computed and dropped.

    `now_ms` is the time the command would run at (`Service.next_command_ms`, never before the
    state's): what falls due by then runs first.
    """
    require_subaccount(state, command.subaccount_id)
    subaccount = state.subaccounts[command.subaccount_id]
    spec = state.specs[command.symbol]
    outcome = preview(state, command, max(now_ms, state.now_ms))
    now, trial = outcome.before, outcome.after
    refused = outcome.rejection
    before = _figures(now, subaccount, spec)
    after = before if refused is not None else _figures(trial, subaccount, spec)
    # The command's own events: `trial` is a layer over `now`, which holds what fell due first.
    fee = sum(
        event.quantity_atoms
        for event in trial.events
        if isinstance(event, EntryFeeCharged) and event.subaccount_id == subaccount.subaccount_id
    )
    error = None if refused is None else from_rejection(refused.reason, refused.message)
    estimate = estimate_liquidation_price(trial, subaccount.subaccount_id, spec.symbol)
    return {
        "symbol": spec.symbol,
        "side": command.side.value,
        "quantity": amount(command.quantity_atoms, spec),
        "action": preview_action(command.side, before.holding),
        "accepted": refused is None,
        "code": None if error is None else error.code,
        "message": None if error is None else error.message,
        "entryFee": amount(fee if refused is None else 0, spec),
        "hourlyInterest": amount(after.hourly_debt_atoms, spec),
        "hourlyLendInterest": amount(after.hourly_lend_atoms, spec),
        "borrowInterestRate": wad(after.borrow_rate_wad),
        "lendInterestRate": wad(after.lend_rate_wad),
        "netQuantityAfter": amount(after.holding.lend_atoms - after.holding.debt_atoms, spec),
        "netEquityAvailable": wad(before.available_wad),
        "netEquityAvailableAfter": wad(after.available_wad),
        "marginFraction": before.margin_fraction,
        "marginFractionAfter": after.margin_fraction,
        "maxBorrowQuantity": amount(compute_max_borrowable(now, subaccount.subaccount_id, spec.symbol), spec),
        "availableQuantity": amount(before.holding.spot_atoms, spec),
        "estLiquidationPriceAfter": None if estimate is None else wad(estimate),
    }
