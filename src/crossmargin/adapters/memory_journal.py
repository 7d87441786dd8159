"""An in-memory journal for tests and simulation: the `Journal` port without a database.

It keeps records and snapshots in lists and checks what the databases check: sequences are
gapless from 1 and never appended twice. "Durable" means only that the records outlive the
service that wrote them, so a test can close a service and open another on the same journal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from crossmargin.app.ports import HistoryPart, JournalConflictError, JournalRecord, RequestSignature


class MemoryJournal:
    """Journal and snapshots in process memory."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self.signatures: dict[bytes, RequestSignature] = {}
        self.snapshots: dict[int, str] = {}
        self.history_parts: dict[str, dict[int, HistoryPart]] = {}
        self.appends = 0
        self.closed = False

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        """Append records and request signatures, all or none."""
        assert not self.closed, "a closed journal takes no records"
        expected = len(self.records) + 1
        for offset, record in enumerate(records):
            if record.sequence != expected + offset:
                raise JournalConflictError(f"expected sequence {expected + offset}, got {record.sequence}")
        self.records.extend(records)
        for row in signatures:
            self.signatures.setdefault(row.signature, row)
        self.appends += 1

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record after `after_sequence`, in order."""
        yield from self.records[max(after_sequence, 0) :]

    def last_sequence(self) -> int:
        """Return the highest sequence, 0 when empty."""
        return len(self.records)

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return the request signatures that expire after `expiring_after_ms`."""
        return [row for row in self.signatures.values() if row.expires_at_ms > expiring_after_ms]

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Delete the request signatures that expired before `expired_before_ms`."""
        self.signatures = {key: row for key, row in self.signatures.items() if row.expires_at_ms >= expired_before_ms}

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        """Store a snapshot and its history parts (a part that starts where a stored one does is refused)."""
        assert not self.closed, "a closed journal takes no snapshots"
        for part in parts:
            stored = self.history_parts.setdefault(part.name, {})
            if part.start in stored:
                raise JournalConflictError(f"history part {part.name} from {part.start} is already stored")
        for part in parts:
            self.history_parts[part.name][part.start] = part
        self.snapshots[sequence] = state

    def history_part_ends(self) -> dict[str, int]:
        """Return how many records of each history list the stored parts hold."""
        return {name: max(part.stop for part in parts.values()) for name, parts in self.history_parts.items() if parts}

    def load_history_parts(self, name: str, stop: int) -> list[HistoryPart]:
        """Return the stored parts of one history list that start before `stop`, in order."""
        parts = self.history_parts.get(name, {})
        return [parts[start] for start in sorted(parts) if start < stop]

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
