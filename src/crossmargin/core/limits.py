"""The margin checks of voluntary actions, and the searches behind max borrowable and max withdrawal.

`is_margin_sufficient` and `refuse_new_risk_on_stale_prices` are the checks a borrow, a
withdrawal, a transfer, an order or a settings change must pass. The max searches answer with the
engine's own rules rather than a formula that could drift from them: each candidate amount is the
very command a user would send (a `Borrow` of N, a `Withdraw` of N with the options), and `accepts`
says whether the engine would take it; `engine.compute_max_borrowable` and
`engine.compute_max_withdrawal` pass `engine.preview` as `accepts`, so a max figure is by
construction what `execute` accepts, and one step (or atom) more is refused. A binary search over
multiples of the step finds the largest accepted one. Acceptance is monotone in the amount
(margin, liquidity, utilization and limits only tighten as it grows), so the search is exact.
Cost: O(log(amount)) previews.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from crossmargin.core.borrow_lend import pool_liquidity
from crossmargin.core.commands import BorrowLendSide, Command, ExecuteBorrowLend, PlaceOrder, Withdraw
from crossmargin.core.ids import SubaccountId
from crossmargin.core.margin import compute_perp_lines, compute_subaccount_margin
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX
from crossmargin.core.oracle import refuse_on_stale_prices, stale_prices_relied_on
from crossmargin.core.orders import OrderType
from crossmargin.core.rejections import Rejection
from crossmargin.core.transaction import Transaction

__all__ = [
    "Accepts",
    "compute_perp_lines",  # lives in margin.py; re-exported for the views that import it from here
    "compute_subaccount_margin",
    "is_margin_sufficient",
    "largest_borrow",
    "largest_order",
    "largest_withdrawal",
    "refuse_new_risk_on_stale_prices",
]

Accepts = Callable[[Command], bool]
"""Whether the engine would accept a command now (the max searches' probe)."""


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


def _largest_galloping(accepts: Callable[[int], bool], low: int, steps_max: int) -> int:
    """Return the largest n in [low, steps_max] that `accepts` (0 if none): doubling, then bisecting.

    O(log(answer)) probes rather than O(log(steps_max)): an order's ceiling is the quantity bound.
    """
    if low > steps_max or not accepts(low):
        return 0
    good, probe = low, low
    while probe < steps_max:
        probe = min(2 * probe, steps_max)
        if not accepts(probe):
            break
        good = probe
    else:
        return good
    bad = probe
    while bad - good > 1:
        middle = (good + bad) // 2
        if accepts(middle):
            good = middle
        else:
            bad = middle
    return good


def largest_order(tx: Transaction, order: PlaceOrder, accepts: Accepts) -> int:
    """Return the most atoms (a multiple of the step) an order like `order` (any quantity) `accepts`.

    The search runs from the market's minimum up to the quantity bound; two ceilings keep it to
    what the order could really do: a market order fills at most the opposite side of the book (the
    rest expires, so a larger one would be accepted without trading more), and a reduce-only order
    at most the position it reduces.
    """
    market = tx.market(order.market)
    if market is None or tx.subaccount(order.subaccount_id) is None:
        return 0
    step = market.step_atoms
    ceiling = AMOUNT_ATOMS_MAX
    if order.order_type is OrderType.MARKET:
        book = tx.book(order.market).opposite(order.side)
        depth = 0
        for _, order_ids in book.iter_levels():
            for order_id in order_ids:
                resting = tx.order(order_id)
                assert resting is not None, "the book holds open orders"
                depth += resting.remaining_atoms
        ceiling = min(ceiling, depth)
    if order.flags.reduce_only:
        position = tx.perp_position(order.subaccount_id, order.market)
        ceiling = min(ceiling, abs(position.quantity_atoms) if position is not None else 0)

    def places(steps: int) -> bool:
        return accepts(replace(order, quantity_atoms=steps * step, quote_quantity_atoms=None))

    return step * _largest_galloping(places, max(1, -(-market.min_quantity_atoms // step)), ceiling // step)


def largest_borrow(tx: Transaction, subaccount_id: SubaccountId, symbol: str, accepts: Accepts) -> int:
    """Return the most atoms (a multiple of the step) a manual borrow `accepts` takes, searched over the pool.

    0 for a lender or a subaccount with auto-lend on: there a `Borrow` command redeems the lend
    (or is refused), it never opens a borrow, so no borrow amount is accepted as a borrow.
    """
    spec = tx.spec(symbol)
    subaccount = tx.subaccount(subaccount_id)
    if spec is None or subaccount is None or subaccount.auto_lend:
        return 0
    if tx.holding(subaccount_id, symbol).lend_atoms:
        return 0
    step = spec.step_atoms

    def borrows(steps: int) -> bool:
        return accepts(ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.BORROW, steps * step))

    return step * _largest_accepted(borrows, pool_liquidity(tx, symbol) // step)


def largest_withdrawal(
    tx: Transaction,
    subaccount_id: SubaccountId,
    symbol: str,
    accepts: Accepts,
    *,
    auto_borrow: bool,
    auto_lend_redeem: bool,
) -> int:
    """Return the most atoms a withdrawal with these options `accepts`, searched up to what could fund it."""
    spec = tx.spec(symbol)
    subaccount = tx.subaccount(subaccount_id)
    if spec is None or subaccount is None:
        return 0
    holding = tx.holding(subaccount_id, symbol)
    ceiling = holding.spot_atoms + (holding.lend_atoms if auto_lend_redeem or subaccount.auto_lend else 0)
    if auto_borrow:
        ceiling += max(0, pool_liquidity(tx, symbol))

    def withdraws(atoms: int) -> bool:
        return accepts(
            Withdraw(subaccount_id, symbol, atoms, auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem)
        )

    return _largest_accepted(withdraws, ceiling)
