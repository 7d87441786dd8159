"""Where each subaccount's positions are in the settlement passes: its settlement rows without expanding every pass.

A settlement pass is one event per perp market every 10 seconds holding every position it moved
(`PositionsSettled`). One subaccount's settlement history, its statement and its borrow
explanations expanded every row of every pass and kept its own: with 1,000 positions over 600
passes (under two hours), a read took about 1 s under the state lock. `SettledIndex` (a read
memo in the state, `EngineState.memo`) keeps, per subaccount, each of its positions' (pass, place)
packed in one 64-bit integer, 8 bytes a position and pass. The service extends it after each
durable batch (`settled_index`: 17-18 ms for a pass of 100,000 positions), outside the settlement
pass itself; a read extends it too with whatever came since, so a read costs the rows it returns.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from crossmargin.core.events import SETTLED_ROWS_PER_POSITION, Settled
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState

PLACE_BITS = 32
"""A position's place in its pass takes the low bits of the packed integer, the pass's number the rest."""
PLACE_MASK = (1 << PLACE_BITS) - 1


@dataclass(slots=True)
class SettledIndex:
    """Per subaccount, its positions in the settlement passes read so far, as `pass << PLACE_BITS | place`."""

    passes_read: int = 0
    places: dict[SubaccountId, array[int]] = field(default_factory=dict)


NumberedSettled = tuple[int, int, Settled]
"""A settlement row, its pass's number and its place among the pass's rows (`SETTLED_ROWS_PER_POSITION` each)."""


def numbered_settled_rows(state: EngineState, subaccount_id: SubaccountId | None = None) -> Iterator[NumberedSettled]:
    """Yield the settlement rows (one subaccount's, if given), in order, each with its pass's number and place."""
    settlements = state.settlements
    if subaccount_id is None:
        for number, settlement_pass in enumerate(settlements):
            for position_place, position in enumerate(settlement_pass.positions):
                yield from _numbered(number, position_place, settlement_pass.rows_of(position))
        return
    index = settled_index(state)
    for packed in index.places.get(subaccount_id, ()):
        number, position_place = packed >> PLACE_BITS, packed & PLACE_MASK
        settlement_pass = settlements[number]
        yield from _numbered(number, position_place, settlement_pass.rows_of(settlement_pass.positions[position_place]))


def _numbered(number: int, position_place: int, rows: list[Settled]) -> Iterator[NumberedSettled]:
    for row_place, row in enumerate(rows):
        yield number, position_place * SETTLED_ROWS_PER_POSITION + row_place, row


def settled_index(state: EngineState) -> SettledIndex:
    """Return the state's index, extended with the passes made since it was last extended (none: a lookup)."""
    index = state.memo(SettledIndex)
    settlements, places = state.settlements, index.places
    for number in range(index.passes_read, len(settlements)):
        for place, position in enumerate(settlements[number].positions):
            found = places.get(position.subaccount_id)
            if found is None:
                found = places[position.subaccount_id] = array("q")
            found.append(number << PLACE_BITS | place)
    index.passes_read = len(settlements)
    return index
