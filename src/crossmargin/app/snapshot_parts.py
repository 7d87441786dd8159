"""Snapshots that store each history record once: the state's append-only lists go in parts.

The history a state keeps only grows: every borrow-lend movement, entry fee, deposit, fill,
settlement pass (each position it moved), liquidation step, ..., and the numbers that order them.
Within hours it outweighs the rest of the state. A snapshot that wrote all of it again each time
took longer with every pass, on the writer thread, where no command runs meanwhile: at 10,000
open perp positions, 0.22 s with no settlement pass behind it and 2.35 s after 60 passes (ten
minutes of the exchange), growing without end.

`encode_snapshot` writes the state without those lists, and `historyParts`: how many records each
list held. The records the journal does not hold yet (past `Journal.history_part_ends`) go in one
`HistoryPart` per list, which the journal stores in the snapshot's own transaction; a snapshot so
costs the rest of the state and the records since the last one. `decode_snapshot_with_parts`
reads the parts back (`Journal.load_history_parts`) up to the counts the snapshot names. An older
snapshot reads a prefix of what a newer one stored: the journal's records, replayed, make the same
history again, so whatever was stored for a list is the same records whichever snapshot stored
them. A part missing or out of place makes the snapshot unusable (`SnapshotPartsError`): the
start passes it over and replays the whole journal.

A list is named by its field (`movements`), or `field/key` for the lists kept per key in a
dictionary (`history_sequence/deposits`, `accruals/USDC`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

from crossmargin.app.codec import (
    SNAPSHOT_FORMAT_VERSION,
    CodecError,
    Encoder,
    SnapshotFormatError,
    decode_snapshot_data,
    dumps,
    parse_snapshot,
    stored_fields,
    value_encoder,
)
from crossmargin.app.declared_types import declared_hints
from crossmargin.app.ports import HistoryPart, Journal
from crossmargin.core.state import EngineState

HISTORY_LISTS: Final = (
    "movements",
    "entry_fees",
    "deposits",
    "withdrawals",
    "transfers",
    "fills",
    "settlements",
    "funding_payments",
    "shortfalls",
    "liquidation_steps",
    "backstops",
    "auto_deleverages",
    "lend_index_cuts",
    "dust_conversions",
)
"""The state's history lists: records are only ever appended to them (`core/commit.py`)."""
KEYED_HISTORY_LISTS: Final = ("history_sequence", "accruals")
"""Dictionaries of history lists, one per key, appended to in the same way."""
PARTS_KEY: Final = "historyParts"
"""Where a snapshot names how many records each history list held."""
PART_RECORDS_MAX: Final = 50_000
"""The most records one part holds: a long history (the first snapshot of an old journal) is split,
so no row nears the databases' 1 GB limit on a value and no single text is built that large."""
PartsReader = Callable[[str, int], list[HistoryPart]]


class SnapshotPartsError(SnapshotFormatError):
    """A snapshot's history parts are not all in the journal: the journal alone rebuilds the state."""


_HINTS: Final = declared_hints(EngineState)
_REST: Final = [
    (field.name, value_encoder(_HINTS[field.name]))
    for field in stored_fields(EngineState)
    if field.name not in HISTORY_LISTS and field.name not in KEYED_HISTORY_LISTS
]
_LIST_ENCODERS: Final[dict[str, Encoder]] = {name: value_encoder(_HINTS[name]) for name in HISTORY_LISTS}
_KEYED_ENCODERS: Final[dict[str, Encoder]] = {
    name: value_encoder(typing.get_args(_HINTS[name])[1]) for name in KEYED_HISTORY_LISTS
}


def history_lists(state: EngineState) -> dict[str, list[Any]]:
    """Return every history list of the state by its name, the keyed ones in their dictionaries' order."""
    lists: dict[str, list[Any]] = {name: getattr(state, name) for name in HISTORY_LISTS}
    for field in KEYED_HISTORY_LISTS:
        for key, records in getattr(state, field).items():
            lists[f"{field}/{key}"] = records
    return lists


def _encoder_of(name: str) -> Encoder:
    field, _, _ = name.partition("/")
    return _KEYED_ENCODERS[field] if field in _KEYED_ENCODERS else _LIST_ENCODERS[name]


def encode_snapshot(
    state: EngineState, extras: Mapping[str, object], stored: Mapping[str, int]
) -> tuple[str, list[HistoryPart]]:
    """Return the snapshot text of a state without its history lists, and the parts the journal lacks.

    `stored` is how many records of each list the journal already holds (`history_part_ends`).
    """
    counts: dict[str, int] = {}
    parts: list[HistoryPart] = []
    for name, records in history_lists(state).items():
        counts[name] = count = len(records)
        encode = _encoder_of(name)
        for start in range(stored.get(name, 0), count, PART_RECORDS_MAX):
            stop = min(start + PART_RECORDS_MAX, count)
            parts.append(HistoryPart(name, start, stop, dumps(encode(records[start:stop]))))
    data: dict[str, object] = {
        "format": SNAPSHOT_FORMAT_VERSION,
        "state": {name: encode(getattr(state, name)) for name, encode in _REST},
        PARTS_KEY: counts,
    }
    for key, value in extras.items():
        assert key not in data, f"a snapshot extra must not be named {key!r}"
        data[key] = value
    return dumps(data), parts


class StoredParts:
    """Saves snapshots with their parts, knowing what the journal holds of each history list.

    The journal is asked once (`history_part_ends` reads every part's row), then the one writer
    keeps the figures as it saves. They are asked again after a save that failed (it may have been
    committed all the same: a connection lost at COMMIT) and whenever the journal is another one
    (a failover, a reconnection).
    """

    def __init__(self) -> None:
        self._journal: Journal | None = None
        self._ends: dict[str, int] = {}

    def save(self, journal: Journal, sequence: int, state: EngineState, extras: Mapping[str, object]) -> None:
        """Store a snapshot of `state` at `sequence` with the parts the journal lacks; durable on return."""
        if self._journal is not journal:
            self._ends = journal.history_part_ends()
        text, parts = encode_snapshot(state, extras, self._ends)
        self._journal = None  # until the save returns, what the journal holds is not known
        journal.save_snapshot(sequence, text, parts)
        self._journal = journal
        self._ends.update((part.name, part.stop) for part in parts)


def decode_snapshot_with_parts(text: str, read_parts: PartsReader) -> tuple[EngineState, dict[str, object]]:
    """Parse snapshot text, reading its history parts where it names them; raise CodecError on anything else.

    A snapshot written whole (`codec.encode_state`) needs no parts and reads as `codec.decode_snapshot` does.
    """
    data = parse_snapshot(text)
    counts = data.pop(PARTS_KEY, None)
    if counts is not None:
        state = data.get("state")
        if not isinstance(counts, dict) or not isinstance(state, dict):
            raise CodecError(f"snapshot: {PARTS_KEY} and state must be objects")
        for name, count in counts.items():
            records = _read_list(name, count, read_parts)
            field, _, key = name.partition("/")
            if key:
                state.setdefault(field, {})[key] = records
            else:
                state[name] = records
    return decode_snapshot_data(data)


def _read_list(name: str, count: object, read_parts: PartsReader) -> list[object]:
    """Return the first `count` records of a history list, as JSON-ready data, from its stored parts."""
    field = name.partition("/")[0]
    if field not in HISTORY_LISTS and field not in KEYED_HISTORY_LISTS:
        raise CodecError(f"snapshot: {PARTS_KEY} names {name!r}, which is no history list")
    if type(count) is not int or count < 0:
        raise CodecError(f"snapshot: {PARTS_KEY}.{name}: expected a count, got {count!r}")
    records: list[object] = []
    for part in read_parts(name, count) if count else ():
        if part.start != len(records):
            raise SnapshotPartsError(
                f"snapshot: history {name} has no part from record {len(records)} (the next starts at {part.start})"
            )
        try:
            items = json.loads(part.items)
        except ValueError as error:
            raise CodecError(f"snapshot: history part {name} from {part.start}: not JSON: {error}") from error
        if not isinstance(items, list) or len(items) != part.stop - part.start:
            raise CodecError(f"snapshot: history part {name} from {part.start} does not hold its records")
        records += items
    if len(records) < count:
        raise SnapshotPartsError(f"snapshot: history {name} holds {len(records)} of its {count} records")
    del records[count:]
    return records
