"""A journal that fails on demand, and a way to reopen it, for the service's fault tests.

`FlakyJournal` wraps a real journal: `fail_with` makes every append raise that error (after
committing, with `commit_first`, as when a COMMIT reached the database but its reply was lost),
or only those after the first `healthy_appends`; `hold()` makes the next append wait, announced
on `entered`, until `release` is set, so a test can queue more work behind a batch in flight.
`Reopener` is the service's `Recovery.reopen`: while `down` it raises `JournalUnavailableError`
(the database is still away); otherwise it returns a fresh, healthy `FlakyJournal` over what
`open_inner` opens, and remembers it as `current`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from crossmargin.app.forwarding_journal import ForwardingJournal
from crossmargin.app.ports import Journal, JournalRecord, JournalUnavailableError, RequestSignature


class FlakyJournal(ForwardingJournal):
    """A pass-through journal whose appends fail while `fail_with` is set."""

    def __init__(self, inner: Journal) -> None:
        super().__init__(inner)
        self.fail_with: BaseException | None = None
        self.healthy_appends = 0
        self.commit_first = False
        self.closed = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self._holding = False

    def hold(self) -> None:
        """Make the next append wait until `release` is set."""
        self._holding = True

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        if self._holding:
            self._holding = False
            self.entered.set()
            assert self.release.wait(30), "the test releases the held append"
        if self.fail_with is not None and self.healthy_appends <= 0:
            if self.commit_first:
                self.inner.append(records, signatures)
            raise self.fail_with
        self.healthy_appends -= 1
        self.inner.append(records, signatures)

    def close(self) -> None:
        self.closed = True
        self.inner.close()


class Reopener:
    """Reopens the journal for the service: refused while `down`, else a fresh `FlakyJournal`."""

    def __init__(self, open_inner: Callable[[], Journal], *, down: bool = False) -> None:
        self.open_inner = open_inner
        self.down = down
        self.attempts = 0
        self.current: FlakyJournal | None = None
        self.error: BaseException | None = None

    def __call__(self) -> Journal:
        self.attempts += 1
        if self.error is not None:
            raise self.error
        if self.down:
            raise JournalUnavailableError("PostgreSQL is unreachable: connection refused")
        self.current = FlakyJournal(self.open_inner())
        return self.current
