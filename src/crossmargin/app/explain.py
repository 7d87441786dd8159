"""Why does this borrow exist? Each borrow of a subaccount joined with the records that caused it.

Every borrow-lend movement names its source; this module follows the source to its cause, in the
state's own history, matching on subaccount, asset and time (the engine records a cause and its
borrow at the same `at_ms`):

- `Reconciliation`: a 10-second settlement left the balance short. The `ShortfallCovered` record
  says how short it was, what a redeemed lend covered and whether `autoBorrowSettlements` was on;
  the `Settled` rows of that instant say what was settled (realized PnL, trading fees, funding).
- `SpotMargin`: an order placed with `autoBorrow` lacked what it locks; the order is found by its
  placement time.
- `Withdrawal`, `Manual`, `Liquidation`: the movement itself says it all.

The result is structured (atoms, ids, times); the HTTP edge renders it with decimal strings and
the CLI puts it in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crossmargin.core.events import (
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    EntryFeeCharged,
    Settled,
    ShortfallCovered,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import Order
from crossmargin.core.settled_index import numbered_settled_rows
from crossmargin.core.state import EngineState, at_indexes


@dataclass(frozen=True, slots=True)
class BorrowExplanation:
    """One borrow and what caused it."""

    movement: BorrowLendMoved
    entry_fee_atoms: int
    settlements: tuple[Settled, ...] = ()
    shortfall: ShortfallCovered | None = None
    orders: tuple[Order, ...] = ()


def _same_instant(rows: Iterable[Settled], at_ms: int) -> tuple[Settled, ...]:
    return tuple(row for row in rows if row.at_ms == at_ms)


def _entry_fee(fees: list[EntryFeeCharged], movement: BorrowLendMoved) -> int:
    return sum(
        fee.quantity_atoms
        for fee in fees
        if fee.at_ms == movement.at_ms and fee.symbol == movement.symbol and fee.position_id == movement.position_id
    )


def _margin_orders(orders: list[Order], movement: BorrowLendMoved, state: EngineState) -> tuple[Order, ...]:
    """Return the orders placed with autoBorrow at the borrow's instant that lock its asset."""
    found = []
    for order in orders:
        spec = state.markets.get(order.market)
        if spec is None or order.created_ms != movement.at_ms or not order.flags.auto_borrow:
            continue
        if movement.symbol in {spec.base, spec.quote}:
            found.append(order)
    return tuple(sorted(found, key=lambda order: order.order_id))


def explain_borrows(
    state: EngineState, subaccount_id: SubaccountId, symbol: str | None = None
) -> list[BorrowExplanation]:
    """Return every borrow of a subaccount (of one asset, if given) with its cause, newest first."""
    borrows = [
        movement
        for _, movement in at_indexes(state.movements, state.history_of("movements", subaccount_id))
        if movement.event_type is BorrowLendEventType.BORROW and (symbol is None or movement.symbol == symbol)
    ]
    if not borrows:
        return []
    fees = [fee for _, fee in at_indexes(state.entry_fees, state.history_of("entry_fees", subaccount_id))]
    settled = [row for _, _, row in numbered_settled_rows(state, subaccount_id)]
    shortfalls = [row for row in state.shortfalls if row.subaccount_id == subaccount_id]
    orders = [
        order
        for order in (*state.closed_orders_of(subaccount_id), *state.orders.values())
        if order.subaccount_id == subaccount_id and order.flags.auto_borrow
    ]
    explained = []
    for movement in borrows:
        fee = _entry_fee(fees, movement)
        if movement.source is BorrowLendSource.RECONCILIATION:
            shortfall = next(
                (row for row in shortfalls if row.at_ms == movement.at_ms and row.symbol == movement.symbol), None
            )
            explained.append(BorrowExplanation(movement, fee, _same_instant(settled, movement.at_ms), shortfall))
        elif movement.source is BorrowLendSource.SPOT_MARGIN:
            explained.append(BorrowExplanation(movement, fee, orders=_margin_orders(orders, movement, state)))
        else:
            explained.append(BorrowExplanation(movement, fee))
    explained.reverse()
    return explained
