"""A journal that forwards every call to another: the base of a journal that watches or fails some.

A wrapper (the benchmarks' recording journal, the fault tests' flaky and observed journals, a
journal that kills its process after a signed append) overrides only the calls it watches; every
other call reaches the inner journal unchanged. A method added to the `Journal` port is forwarded
here once, not in each wrapper.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from crossmargin.app.ports import HistoryPart, Journal, JournalRecord, RequestSignature


class ForwardingJournal:
    """A `Journal` that passes every call to `inner`."""

    def __init__(self, inner: Journal) -> None:
        self.inner = inner

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        """Append through the inner journal."""
        self.inner.append(records, signatures)

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Read the inner journal's records."""
        return self.inner.read(after_sequence)

    def last_sequence(self) -> int:
        """Return the inner journal's last sequence."""
        return self.inner.last_sequence()

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return the inner journal's remembered signatures."""
        return self.inner.request_signatures(expiring_after_ms)

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Forget expired signatures in the inner journal."""
        self.inner.forget_request_signatures(expired_before_ms)

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        """Save a snapshot in the inner journal."""
        self.inner.save_snapshot(sequence, state, parts)

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Load the inner journal's latest snapshot."""
        return self.inner.load_latest_snapshot()

    def history_part_ends(self) -> dict[str, int]:
        """Return the inner journal's history part ends."""
        return self.inner.history_part_ends()

    def load_history_parts(self, name: str, stop: int) -> list[HistoryPart]:
        """Load history parts from the inner journal."""
        return self.inner.load_history_parts(name, stop)

    def close(self) -> None:
        """Close the inner journal."""
        self.inner.close()
