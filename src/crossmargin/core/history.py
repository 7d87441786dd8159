"""Interest history, derived: one row per position and charge, without storing rows per position.

Hourly interest is charged per pool in O(1) by moving an index, so no per-position row exists at
charge time. A position's row for hour H is recovered exactly from what the state keeps anyway:
its scaled amount at H (the last movement before H) and the pool's index before and after H. The
rows of one position telescope to its cumulative interest. Entry fees are recorded when charged.

A loss-sharing cut of the lend index (`LendIndexCut`) is a `Lend` row with a negative quantity
(what the lend lost: its claim at the index after minus at the index before), rate 0 and interval
0, so a lender sees the loss where its interest is listed and the rows still add up to value minus
principal. Backpack's `PaymentType` has no value for a loss share; a negative `Lend` is our choice.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState


class InterestKind(StrEnum):
    """What an interest row is for."""

    ENTRY_FEE = "EntryFee"
    BORROW = "Borrow"
    LEND = "Lend"


@dataclass(frozen=True, slots=True)
class InterestRow:
    """One interest charge (borrow, entry fee) or credit (lend) of one position."""

    subaccount_id: SubaccountId
    symbol: str
    position_id: PositionId
    kind: InterestKind
    quantity_atoms: int
    rate_wad: int
    interval_ms: int
    at_ms: int


def compute_interest_history(state: EngineState, subaccount_id: SubaccountId) -> list[InterestRow]:
    """Return every interest row of a subaccount, newest first."""
    timelines: dict[PositionId, list[BorrowLendMoved]] = defaultdict(list)
    numbers: dict[PositionId, list[int]] = defaultdict(list)
    for number, movement in enumerate(state.movements):
        if movement.subaccount_id == subaccount_id:
            timelines[movement.position_id].append(movement)
            numbers[movement.position_id].append(number)
    rows = [
        InterestRow(
            fee.subaccount_id,
            fee.symbol,
            fee.position_id,
            InterestKind.ENTRY_FEE,
            fee.quantity_atoms,
            fee.rate_wad,
            fee.interval_ms,
            fee.at_ms,
        )
        for fee in state.entry_fees
        if fee.subaccount_id == subaccount_id and fee.quantity_atoms
    ]
    for position_id, movements in timelines.items():
        rows.extend(_hourly_rows(state, movements))
        rows.extend(_cut_rows(state, movements, numbers[position_id]))
    rows.sort(key=lambda row: (row.at_ms, row.position_id, row.kind), reverse=True)
    return rows


def _hourly_rows(state: EngineState, movements: list[BorrowLendMoved]) -> list[InterestRow]:
    first = movements[0]
    is_borrow = first.event_type in (BorrowLendEventType.BORROW, BorrowLendEventType.BORROW_REPAY)
    accruals = state.accruals.get(first.symbol, [])
    hours = [accrual.hour_ms for accrual in accruals]
    rows: list[InterestRow] = []
    for index, movement in enumerate(movements):
        if movement.position_scaled_after == 0:
            continue
        # A movement at the very hour H runs after H's charge (charges come first in every command),
        # so this segment owns the charges in (its time, the next movement's time].
        last_ms = movements[index + 1].at_ms if index + 1 < len(movements) else state.now_ms
        for accrual in accruals[bisect_left(hours, movement.at_ms + 1) : bisect_left(hours, last_ms + 1)]:
            scaled = movement.position_scaled_after
            if is_borrow:
                quantity = debt_atoms(scaled, accrual.borrow_index_after_ray) - debt_atoms(
                    scaled, accrual.borrow_index_before_ray
                )
                rate = accrual.borrow_rate_wad
            else:
                quantity = lend_atoms(scaled, accrual.lend_index_after_ray) - lend_atoms(
                    scaled, accrual.lend_index_before_ray
                )
                rate = accrual.lend_rate_wad
            kind = InterestKind.BORROW if is_borrow else InterestKind.LEND
            rows.append(
                InterestRow(
                    movement.subaccount_id,
                    movement.symbol,
                    movement.position_id,
                    kind,
                    quantity,
                    rate,
                    MS_PER_HOUR,
                    accrual.hour_ms,
                )
            )
    return rows


def _cut_rows(state: EngineState, movements: list[BorrowLendMoved], numbers: list[int]) -> list[InterestRow]:
    """Return a lend position's losses to lend-index cuts: its scaled lend when each cut came."""
    first = movements[0]
    if first.event_type not in (BorrowLendEventType.LEND, BorrowLendEventType.LEND_REDEEM):
        return []
    rows: list[InterestRow] = []
    for cut in state.lend_index_cuts:
        held = bisect_left(numbers, cut.movements_before) - 1  # the last movement before the cut
        if cut.symbol != first.symbol or held < 0 or movements[held].position_scaled_after == 0:
            continue
        scaled = movements[held].position_scaled_after
        lost = lend_atoms(scaled, cut.lend_index_after_ray) - lend_atoms(scaled, cut.lend_index_before_ray)
        rows.append(
            InterestRow(first.subaccount_id, first.symbol, first.position_id, InterestKind.LEND, lost, 0, 0, cut.at_ms)
        )
    return rows
