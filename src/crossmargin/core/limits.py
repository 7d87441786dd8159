"""Max borrowable and max withdrawal: the largest amount the same rules would accept.

Both answer with the engine's own rules rather than a formula that could drift from them: each
candidate amount is tried in a throwaway transaction (borrow or withdraw, then the margin check),
and a binary search over multiples of the step finds the largest accepted one. Acceptance is
monotone in the amount (margin, liquidity, utilization and limits only tighten as it grows), so
the search is exact. Cost: O(log(amount)) margin computations.
"""

from __future__ import annotations

from collections.abc import Callable

from crossmargin.core.borrow_lend import borrow, pool_liquidity
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.funding import fund_outflow
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import WORLD, entry, spot
from crossmargin.core.margin import compute_perp_lines, compute_subaccount_margin
from crossmargin.core.oracle import refuse_on_stale_prices, stale_prices_relied_on
from crossmargin.core.rejections import Rejection
from crossmargin.core.transaction import Transaction

__all__ = [
    "compute_max_borrowable",
    "compute_max_withdrawal",
    "compute_perp_lines",  # lives in margin.py; re-exported for the views that import it from here
    "compute_subaccount_margin",
    "is_margin_sufficient",
    "refuse_new_risk_on_stale_prices",
]


def is_margin_sufficient(tx: Transaction, subaccount_id: SubaccountId) -> bool:
    """Return whether available margin is >= 0 and maintenance margin ratio < 100% (INV-MARGIN-1)."""
    subaccount = tx.subaccount(subaccount_id)
    assert subaccount is not None, "margin is checked on an existing subaccount"
    summary = compute_subaccount_margin(tx, subaccount)
    return summary.available_wad >= 0 and not summary.is_liquidatable


def refuse_new_risk_on_stale_prices(
    before: Transaction, after: Transaction, subaccount_id: SubaccountId
) -> Rejection | None:
    """Refuse an action that lowers available margin while a price the subaccount relies on is stale."""
    found = stale_prices_relied_on(before, after, subaccount_id)
    if not found:
        return None
    subaccount_before, subaccount_after = before.subaccount(subaccount_id), after.subaccount(subaccount_id)
    assert subaccount_before is not None, "the stale-price check runs on an existing subaccount"
    assert subaccount_after is not None, "a subaccount never disappears"
    available_before = compute_subaccount_margin(before, subaccount_before).available_wad
    if compute_subaccount_margin(after, subaccount_after).available_wad >= available_before:
        return None
    return refuse_on_stale_prices(found, after)


def _largest_accepted(accepts: Callable[[int], bool], steps_max: int) -> int:
    if steps_max <= 0 or not accepts(1):
        return 0
    low, high = 1, steps_max
    if accepts(high):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(middle):
            low = middle
        else:
            high = middle
    return low


def compute_max_borrowable(tx: Transaction, subaccount_id: SubaccountId, symbol: str) -> int:
    """Return the most atoms (a multiple of the step) a manual borrow could take now."""
    spec = tx.spec(symbol)
    subaccount = tx.subaccount(subaccount_id)
    if spec is None or subaccount is None or subaccount.auto_lend:
        return 0
    if tx.holding(subaccount_id, symbol).lend_atoms:
        return 0
    step = spec.step_atoms

    def accepts(steps: int) -> bool:
        trial = Transaction(tx, tx.now_ms)
        if borrow(trial, subaccount_id, spec, steps * step, BorrowLendSource.MANUAL):
            return False
        return is_margin_sufficient(trial, subaccount_id) and not refuse_new_risk_on_stale_prices(
            tx, trial, subaccount_id
        )

    return step * _largest_accepted(accepts, pool_liquidity(tx, symbol) // step)


def compute_max_withdrawal(
    tx: Transaction,
    subaccount_id: SubaccountId,
    symbol: str,
    *,
    auto_borrow: bool,
    auto_lend_redeem: bool,
) -> int:
    """Return the most atoms a withdrawal with these options could take now."""
    spec = tx.spec(symbol)
    subaccount = tx.subaccount(subaccount_id)
    if spec is None or subaccount is None:
        return 0
    redeem_allowed = auto_lend_redeem or subaccount.auto_lend
    holding = tx.holding(subaccount_id, symbol)
    ceiling = holding.spot_atoms + (holding.lend_atoms if redeem_allowed else 0)
    if auto_borrow:
        ceiling += max(0, pool_liquidity(tx, symbol))

    def accepts(atoms: int) -> bool:
        trial = Transaction(tx, tx.now_ms)
        if fund_outflow(trial, subaccount_id, spec, atoms, auto_borrow=auto_borrow, auto_lend_redeem=redeem_allowed):
            return False
        trial.post(entry(symbol, (spot(subaccount_id), -atoms), (WORLD, atoms)))
        return is_margin_sufficient(trial, subaccount_id) and not refuse_new_risk_on_stale_prices(
            tx, trial, subaccount_id
        )

    return _largest_accepted(accepts, ceiling)
