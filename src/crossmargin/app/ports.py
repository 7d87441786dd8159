"""Ports: what the service needs from the outside world, as protocols the adapters implement.

A `Journal` is the durable, append-only record of accepted commands, numbered by a gapless
`sequence` from 1, plus snapshots of the whole state at a sequence. `append` returns only once its
records are durable (they survive a crash of the process and of the machine); records are appended
in sequence order by one writer, and a sequence that already exists is refused, so a second writer
fails instead of forking the history. A `Clock` gives the current time in milliseconds since the
Unix epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One accepted command: its place in the sequence, the time it ran at, and its codec JSON."""

    sequence: int
    recorded_at_ms: int
    command: str


class JournalConflictError(RuntimeError):
    """A record's sequence is already in the journal: another writer appended first."""


class JournalLockedError(RuntimeError):
    """Another process or session holds the journal open for writing."""


class Journal(Protocol):
    """Durable, append-only command journal with snapshots."""

    def append(self, records: Sequence[JournalRecord]) -> None:
        """Append records in one transaction; durable on return."""

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record with a sequence above `after_sequence`, in sequence order."""

    def last_sequence(self) -> int:
        """Return the highest sequence in the journal, 0 when it is empty."""

    def save_snapshot(self, sequence: int, state: str) -> None:
        """Store the state after the record `sequence`; durable on return."""

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the snapshot with the highest sequence, or None when there is none."""

    def close(self) -> None:
        """Release the connection; appending afterwards is an error."""


class Clock(Protocol):
    """The source of the current time."""

    def now_ms(self) -> int:
        """Return the current time in milliseconds since the Unix epoch."""
