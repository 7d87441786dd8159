"""What the sequencer counts for the operator's metrics: commands by type and result, batch sizes, flush times.

The sequencer thread is the only writer, and it pays little: after a batch is answered (its
replies already sent), one dict update per command and two bucket updates per batch. Nothing here
allocates per command except a refusal's key, and nothing takes a lock: a scrape reads the plain
counters from another thread, which may see a batch half counted, never a count going back.
`api/metrics.py` turns these into Prometheus metrics at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Final, Protocol

from crossmargin.core.commands import Command
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.rejections import RejectReason

BATCH_COMMANDS_BOUNDS: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0)
"""Commands per batch: powers of two up to the default `batch_max`."""
FLUSH_SECONDS_BOUNDS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""A journal flush: from an in-memory journal's microseconds to a slow disk's or a remote database's second."""
SNAPSHOT_SECONDS_BOUNDS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""A snapshot (on the writer thread, between batches: no command runs meanwhile), small state to large."""


Result = Accepted | Rejected


class Submitted(Protocol):
    """A submission as the sequencer batches it: the commands that ran together."""

    @property
    def commands(self) -> tuple[Command, ...]:
        """Return the submission's commands, in order."""
        ...


class Buckets:
    """A histogram's cumulative-ready counts: one count per upper bound, plus everything above the last."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        """Count observations against `bounds`, increasing upper bounds."""
        assert list(bounds) == sorted(set(bounds)), "a histogram's bounds increase"
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        """Count one observation (in the first bucket whose bound is at least `value`)."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        """Return Prometheus's buckets: (upper bound as text, observations at most it), ending with +Inf."""
        counts = list(self.counts)
        running = 0
        found: list[tuple[str, float]] = []
        for bound, count in zip((*self.bounds, float("inf")), counts, strict=True):
            running += count
            found.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return found


class SequencerStats:
    """Counters the sequencer keeps: accepted commands per type, refusals per type and reason, batches, flushes."""

    __slots__ = ("accepted", "batch_commands", "duplicates", "flush_seconds", "refused", "snapshot_seconds")

    def __init__(self) -> None:
        self.accepted: dict[type[Command], int] = {}
        self.refused: dict[tuple[type[Command], RejectReason], int] = {}
        self.duplicates: dict[type[Command], int] = {}
        self.batch_commands = Buckets(BATCH_COMMANDS_BOUNDS)
        self.flush_seconds = Buckets(FLUSH_SECONDS_BOUNDS)
        self.snapshot_seconds = Buckets(SNAPSHOT_SECONDS_BOUNDS)

    def record_batch(self, submissions: Sequence[Submitted], outcomes: Sequence[Sequence[Result] | object]) -> None:
        """Count a batch: each submission's commands with its outcome (its results, or an earlier answer: a duplicate).

        One dict update per command, no allocation but the counts themselves (a refusal's key aside).
        """
        accepted = self.accepted
        counted = accepted.get
        size = 0
        for submission, outcome in zip(submissions, outcomes, strict=True):
            commands = submission.commands
            size += len(commands)
            if type(outcome) is not list:
                kind = type(commands[0])
                self.duplicates[kind] = self.duplicates.get(kind, 0) + 1
            elif len(commands) == 1:
                kind = type(commands[0])
                result = outcome[0]
                if type(result) is Accepted:
                    accepted[kind] = counted(kind, 0) + 1
                else:
                    self._refused(kind, result)
            else:
                for command, result in zip(commands, outcome, strict=True):
                    kind = type(command)
                    if type(result) is Accepted:
                        accepted[kind] = counted(kind, 0) + 1
                    else:
                        self._refused(kind, result)
        self.batch_commands.observe(size)

    def _refused(self, kind: type[Command], result: Result) -> None:
        assert isinstance(result, Rejected), "a result is accepted or rejected"
        key = (kind, result.rejection.reason)
        self.refused[key] = self.refused.get(key, 0) + 1

    def record_flush(self, seconds: float) -> None:
        """Count one journal flush (one durable transaction) that took `seconds`."""
        self.flush_seconds.observe(seconds)

    def record_snapshot(self, seconds: float) -> None:
        """Count one snapshot saved (encoded and made durable) that took `seconds`."""
        self.snapshot_seconds.observe(seconds)
