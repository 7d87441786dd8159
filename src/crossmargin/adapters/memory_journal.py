"""An in-memory journal for tests and simulation: the `Journal` port without a database.

It keeps records and snapshots in lists and checks what the databases check: sequences are
gapless from 1 and never appended twice. "Durable" means only that the records outlive the
service that wrote them, so a test can close a service and open another on the same journal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from crossmargin.app.ports import JournalConflictError, JournalRecord


class MemoryJournal:
    """Journal and snapshots in process memory."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self.snapshots: dict[int, str] = {}
        self.appends = 0
        self.closed = False

    def append(self, records: Sequence[JournalRecord]) -> None:
        """Append records, all or none."""
        assert not self.closed, "a closed journal takes no records"
        expected = len(self.records) + 1
        for offset, record in enumerate(records):
            if record.sequence != expected + offset:
                raise JournalConflictError(f"expected sequence {expected + offset}, got {record.sequence}")
        self.records.extend(records)
        self.appends += 1

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record after `after_sequence`, in order."""
        yield from self.records[max(after_sequence, 0) :]

    def last_sequence(self) -> int:
        """Return the highest sequence, 0 when empty."""
        return len(self.records)

    def save_snapshot(self, sequence: int, state: str) -> None:
        """Store a snapshot."""
        assert not self.closed, "a closed journal takes no snapshots"
        self.snapshots[sequence] = state

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the latest snapshot, or None."""
        if not self.snapshots:
            return None
        latest = max(self.snapshots)
        return latest, self.snapshots[latest]

    def close(self) -> None:
        """Mark the journal closed; reopen it with `reopen` to use it again."""
        self.closed = True

    def reopen(self) -> MemoryJournal:
        """Return this journal, open again (as if a new process opened the same database)."""
        self.closed = False
        return self
