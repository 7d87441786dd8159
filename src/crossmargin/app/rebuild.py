"""Rebuild the engine state from the journal: the latest snapshot, then every record after it (INV-REPLAY-1).

Each record is executed again at its recorded time and must be accepted again. On start
(`rebuild_state`) that is the whole story. After a journal fault (`rebuild_after_fault`) the
sequencer also needs the events of the records past the last sequence it had acknowledged: a
batch whose COMMIT reached the database although the reply was lost is in the journal, so it is
in the rebuilt state, and its listeners (streams, the risk monitor) must hear of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from crossmargin.app.codec import SnapshotFormatError, decode_command
from crossmargin.app.market_history import MarketHistory
from crossmargin.app.ports import Journal, JournalRecord
from crossmargin.app.snapshot_parts import decode_snapshot_with_parts
from crossmargin.core.audit import audit
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import Event
from crossmargin.core.state import EngineState

LOG = logging.getLogger("crossmargin.service")


class ReplayError(RuntimeError):
    """The state rebuilt from snapshot and journal breaks an invariant."""


def replay(
    state: EngineState, records: Iterable[JournalRecord], after_sequence: int, events: list[Event] | None = None
) -> int:
    """Re-execute journal records on `state` at their recorded times; return the last sequence.

    With `events`, append the events of every record replayed to it.
    """
    sequence = after_sequence
    for record in records:
        assert record.sequence == sequence + 1, (
            f"INV-REPLAY-1: journal sequences are gapless; expected {sequence + 1}, found {record.sequence}"
        )
        result = execute(state, decode_command(record.command), record.recorded_at_ms)
        assert isinstance(result, Accepted), (
            f"INV-REPLAY-1: every journaled command is accepted again on replay; record {record.sequence}: {result}"
        )
        if events is not None:
            events.extend(result.events)
        sequence = record.sequence
    return sequence


def _load_snapshot(journal: Journal) -> tuple[EngineState, int]:
    latest = journal.load_latest_snapshot()
    if latest is not None:
        try:
            return decode_snapshot_with_parts(latest[1], journal.load_history_parts)[0], latest[0]
        except SnapshotFormatError as error:
            LOG.warning("the latest snapshot cannot be used (%s); rebuilding from the whole journal", error)
    return EngineState(), 0


def rebuild_state(journal: Journal) -> tuple[EngineState, int, int]:
    """Return the state rebuilt from the latest snapshot and the journal, its sequence, and the snapshot's."""
    state, snapshot_sequence = _load_snapshot(journal)
    sequence = replay(state, journal.read(snapshot_sequence), snapshot_sequence)
    return state, sequence, snapshot_sequence


MARKET_HISTORY: Final = "marketHistory"
"""The key under which a snapshot keeps the service's market history beside the state."""


def rebuild_with_history(journal: Journal) -> tuple[EngineState, MarketHistory, int, int]:
    """Return the state and market history rebuilt from the journal, the sequence, and the snapshot's.

    The history comes from the latest snapshot that keeps one, fed the events of every record
    replayed after it; a snapshot without one (or of an older layout) is passed over and the whole
    journal replayed, so the history is always the one the journal's events make.
    """
    state, snapshot_sequence, history = EngineState(), 0, None
    latest = journal.load_latest_snapshot()
    if latest is not None:
        try:
            snapshot_state, extras = decode_snapshot_with_parts(latest[1], journal.load_history_parts)
        except SnapshotFormatError as error:
            LOG.warning("the latest snapshot cannot be used (%s); rebuilding from the whole journal", error)
        else:
            history = MarketHistory.restore(extras.get(MARKET_HISTORY), snapshot_state)
            if history is None:
                LOG.warning("the latest snapshot keeps no market history; rebuilding from the whole journal")
            else:
                state, snapshot_sequence = snapshot_state, latest[0]
    if history is None:
        history = MarketHistory()
    sequence = snapshot_sequence
    events: list[Event] = []
    for record in journal.read(snapshot_sequence):
        sequence = replay(state, (record,), sequence, events)
        history.feed(events, state.markets)
        events.clear()
    return state, history, sequence, snapshot_sequence


def check_audit(state: EngineState, sequence: int) -> None:
    """Refuse a rebuilt state that breaks an invariant, naming each broken one."""
    failed = [check for check in audit(state) if not check.ok]
    if failed:
        details = "; ".join(f"{check.invariant}: {check.detail}" for check in failed)
        raise ReplayError(f"the state rebuilt from the journal at sequence {sequence} fails its audit: {details}")


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A state rebuilt after a fault, and the events of the records past the last acknowledged sequence."""

    state: EngineState
    sequence: int
    snapshot_sequence: int
    unheard_events: tuple[Event, ...]


def rebuild_after_fault(journal: Journal, acknowledged_sequence: int) -> Rebuilt:
    """Rebuild and audit the state, collecting the events of records after `acknowledged_sequence`.

    Snapshots are only ever taken at acknowledged sequences, so the snapshot is never past it.
    """
    state, snapshot_sequence = _load_snapshot(journal)
    sequence = snapshot_sequence
    unheard: list[Event] = []
    for record in journal.read(snapshot_sequence):
        sequence = replay(state, (record,), sequence, unheard if record.sequence > acknowledged_sequence else None)
    check_audit(state, sequence)
    return Rebuilt(state, sequence, snapshot_sequence, tuple(unheard))
