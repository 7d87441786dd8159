"""Interest history, derived: one row per position and index change, without storing rows per position.

Interest moves no position one by one: a pool's index changes, and every position of that side
changes with it. Three things change an index, and each is recorded with the number of borrow-lend
movements made before it (`movements_before`), so it is known exactly which positions it hit and
with what scaled amount, even among movements of the same millisecond:

- an hour's interest (`HourlyAccrual`): the borrow index and the lend index rise;
- a borrower's entry fee (`EntryFeeCharged`): the lenders' share raises the lend index;
- a loss-sharing cut (`LendIndexCut`): the lend index falls.

A position's row for one change is its value at the index after minus at the index before, with
the scaled amount it held then (its last movement before the change), rounded as the position is
(lend down, debt up). Between two movements the rows therefore telescope exactly to the change of
the position's value, so a position's movements and rows add up to its value to the atom
(INV-STATEMENT-1). A borrower's own entry fee is recorded when charged.

Backpack's `PaymentType` says what a row is: `Borrow` (an hour's interest paid), `Lend` (an hour's
interest earned), `EntryFee` (on a debt: the fee paid; on a lend: the lender's share of someone
else's fee). A cut is a `Lend` row with a negative quantity, rate 0 and interval 0: Backpack has no
value for a loss share.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from crossmargin.core.events import BorrowLendMoved
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState


class InterestKind(StrEnum):
    """What an interest row is for (Backpack's `PaymentType`)."""

    ENTRY_FEE = "EntryFee"
    BORROW = "Borrow"
    LEND = "Lend"


@dataclass(frozen=True, slots=True)
class InterestRow:
    """One interest charge (borrow, entry fee) or credit (lend, lenders' entry-fee share) of one position.

    `quantity_atoms` is positive for what was paid or earned; only a cut's row is negative.
    `change_atoms` is the signed change of the position's value (+ for a lend's gain, - for a debt's
    growth): what a statement adds up.
    """

    subaccount_id: SubaccountId
    symbol: str
    position_id: PositionId
    kind: InterestKind
    quantity_atoms: int
    rate_wad: int
    interval_ms: int
    at_ms: int
    change_atoms: int
    sequence: int = 0
    """When the change happened in the state's order (`EngineState.history_sequence`)."""


@dataclass(frozen=True, slots=True)
class IndexChange:
    """One change of a pool's indices, in the order of the borrow-lend movements around it."""

    movements_before: int
    at_ms: int
    kind: InterestKind
    borrow_index: tuple[int, int] | None
    lend_index: tuple[int, int] | None
    rate_wad: int
    lend_rate_wad: int
    interval_ms: int
    sequence: int


_SOURCE_ORDER: dict[InterestKind, int] = {InterestKind.BORROW: 0, InterestKind.ENTRY_FEE: 1, InterestKind.LEND: 2}
"""Where changes of one movement count and millisecond go: accruals (`Borrow`), entry fees, cuts (`Lend`)."""


def _order(change: IndexChange) -> tuple[int, int, int, int]:
    """How index changes are ordered: movements made before, time, source, then when it happened."""
    return change.movements_before, change.at_ms, _SOURCE_ORDER[change.kind], change.sequence


@dataclass(slots=True)
class IndexChanges:
    """Every pool's index changes read so far, in order; `index_changes` extends it with what came since.

    Kept in the state (`EngineState.memo`, derived) so that a user's interest history
    costs what changed since the last read, not every accrual and entry fee of every pool again.
    """

    accruals_read: dict[str, int] = field(default_factory=dict)
    entry_fees_read: int = 0
    cuts_read: int = 0
    hour_read: int | None = -1
    """The state's interest hour when the accruals were last read (-1: never)."""
    changes: dict[str, list[IndexChange]] = field(default_factory=dict)
    marks: dict[str, list[int]] = field(default_factory=dict)
    """Per pool, each change's `movements_before`, in order: what a position's movements are bisected by."""


def index_changes(state: EngineState) -> IndexChanges:
    """Return every index change per pool, in `_order`, extending the state's memo with what came since it was read."""
    memo = state.memo(IndexChanges)
    arrived: dict[str, list[IndexChange]] = defaultdict(list)
    # Accruals come only with a new interest hour (`accrual.py`), so the pools are looked at only
    # then: the service extends the memo after every batch, and there may be 1,000s of pools.
    for symbol, accruals in state.accruals.items() if memo.hour_read != state.interest_hour_ms else ():
        start = memo.accruals_read.get(symbol, 0)
        arrived[symbol].extend(
            IndexChange(
                accrual.movements_before,
                accrual.hour_ms,
                InterestKind.BORROW,
                (accrual.borrow_index_before_ray, accrual.borrow_index_after_ray),
                (accrual.lend_index_before_ray, accrual.lend_index_after_ray),
                accrual.borrow_rate_wad,
                accrual.lend_rate_wad,
                MS_PER_HOUR,
                state.history_number(f"accruals.{symbol}", number),
            )
            for number, accrual in enumerate(accruals[start:], start)
        )
        memo.accruals_read[symbol] = len(accruals)
    memo.hour_read = state.interest_hour_ms
    for number, fee in enumerate(state.entry_fees[memo.entry_fees_read :], memo.entry_fees_read):
        if fee.lend_index_after_ray != fee.lend_index_before_ray:
            lend = (fee.lend_index_before_ray, fee.lend_index_after_ray)
            sequence = state.history_number("entry_fees", number)
            arrived[fee.symbol].append(
                IndexChange(
                    fee.movements_before, fee.at_ms, InterestKind.ENTRY_FEE, None, lend, 0, 0, fee.interval_ms, sequence
                )
            )
    memo.entry_fees_read = len(state.entry_fees)
    for number, cut in enumerate(state.lend_index_cuts[memo.cuts_read :], memo.cuts_read):
        lend = (cut.lend_index_before_ray, cut.lend_index_after_ray)
        sequence = state.history_number("lend_index_cuts", number)
        arrived[cut.symbol].append(
            IndexChange(cut.movements_before, cut.at_ms, InterestKind.LEND, None, lend, 0, 0, 0, sequence)
        )
    memo.cuts_read = len(state.lend_index_cuts)
    for symbol, new in arrived.items():
        if new:
            _merge(memo, symbol, new)
    return memo


def _merge(memo: IndexChanges, symbol: str, new: list[IndexChange]) -> None:
    """Put a pool's new changes in order among its earlier ones (almost always after them all)."""
    changes = memo.changes.setdefault(symbol, [])
    new.sort(key=_order)
    start = bisect_right(changes, _order(new[0]), key=_order)
    merged = sorted([*changes[start:], *new], key=_order)
    changes[start:] = merged
    memo.marks.setdefault(symbol, [])[start:] = [change.movements_before for change in merged]


def interest_rows_of_positions(state: EngineState, subaccount_id: SubaccountId | None = None) -> Iterable[InterestRow]:
    """Yield every interest row of every position (of one subaccount, if given), position by position."""
    movements, fees = state.movements, state.entry_fees
    if subaccount_id is None:
        moved: Iterable[int] = range(len(movements))
        charged: Iterable[int] = range(len(fees))
    else:
        moved = state.history_of("movements", subaccount_id)
        charged = state.history_of("entry_fees", subaccount_id)
    timelines: dict[PositionId, list[tuple[int, BorrowLendMoved]]] = defaultdict(list)
    for number in moved:
        movement = movements[number]
        timelines[movement.position_id].append((number, movement))
    memo = index_changes(state)
    for timeline in timelines.values():
        symbol = timeline[0][1].symbol
        yield from _position_rows(timeline, memo.changes.get(symbol, []), memo.marks.get(symbol, []))
    for number in charged:
        fee = fees[number]
        if fee.quantity_atoms:
            yield InterestRow(
                fee.subaccount_id,
                fee.symbol,
                fee.position_id,
                InterestKind.ENTRY_FEE,
                fee.quantity_atoms,
                fee.rate_wad,
                fee.interval_ms,
                fee.at_ms,
                -fee.quantity_atoms,
                state.history_number("entry_fees", number),
            )


def _position_rows(
    timeline: list[tuple[int, BorrowLendMoved]], changes: list[IndexChange], marks: list[int]
) -> Iterable[InterestRow]:
    """Yield one position's rows: each index change between its movements, at the scaled amount it held."""
    for index, (number, movement) in enumerate(timeline):
        scaled = movement.position_scaled_after
        if scaled == 0:
            continue
        # The change hit this segment if the movement was made before it (number < movements_before)
        # and the next movement was not (movements_before <= next number).
        last = timeline[index + 1][0] if index + 1 < len(timeline) else None
        start = bisect_right(marks, number)
        stop = len(marks) if last is None else bisect_right(marks, last)
        is_debt = movement.position_net_atoms < 0
        for change in changes[start:stop]:
            row = _row(movement, change, scaled, is_debt=is_debt)
            if row is not None:
                yield row


def _row(movement: BorrowLendMoved, change: IndexChange, scaled: int, *, is_debt: bool) -> InterestRow | None:
    if is_debt:
        if change.borrow_index is None:
            return None
        before, after = change.borrow_index
        grown = debt_atoms(scaled, after) - debt_atoms(scaled, before)
        return _made(movement, change, InterestKind.BORROW, grown, change.rate_wad, -grown)
    assert change.lend_index is not None, "every index change moves the lend index"
    before, after = change.lend_index
    gained = lend_atoms(scaled, after) - lend_atoms(scaled, before)
    if change.kind is InterestKind.BORROW:
        return _made(movement, change, InterestKind.LEND, gained, change.lend_rate_wad, gained)
    if not gained and change.kind is InterestKind.ENTRY_FEE:
        return None  # a share too small to reach this lend's next atom
    return _made(movement, change, change.kind, gained, 0, gained)


def _made(
    movement: BorrowLendMoved, change: IndexChange, kind: InterestKind, quantity: int, rate: int, signed: int
) -> InterestRow:
    return InterestRow(
        movement.subaccount_id,
        movement.symbol,
        movement.position_id,
        kind,
        quantity,
        rate,
        change.interval_ms,
        change.at_ms,
        signed,
        change.sequence,
    )


def compute_interest_history(state: EngineState, subaccount_id: SubaccountId) -> list[InterestRow]:
    """Return every interest row of a subaccount, newest first."""
    rows = list(interest_rows_of_positions(state, subaccount_id))
    rows.sort(key=lambda row: (row.at_ms, row.position_id, row.kind), reverse=True)
    return rows
