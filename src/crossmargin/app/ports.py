"""Ports: what the service needs from the outside world, as protocols the adapters implement.

A `Journal` is the durable, append-only record of accepted commands, numbered by a gapless
`sequence` from 1, plus snapshots of the whole state at a sequence. `append` returns only once its
records are durable (they survive a crash of the process and of the machine); records are appended
in sequence order by one writer, and a sequence that already exists is refused, so a second writer
fails instead of forking the history. With the records, in the same transaction, `append` stores
the signatures of the signed requests the batch answered (`RequestSignature`), so the replay guard
can be rebuilt after a restart: a signed write executes at most once (INV-REPLAY-2). A journal that
cannot be reached for now (a database connection lost) raises `JournalUnavailableError`; any other
error means it cannot be written by this process at all. A `Clock` gives the current time in
milliseconds since the Unix epoch.
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


@dataclass(frozen=True, slots=True)
class RequestSignature:
    """A signed request the sequencer answered: its signature, when it expires, and what came of it.

    `expires_at_ms` is wall-clock time (the request's X-Timestamp + X-Window): after it the request
    is refused as expired anyway, so the row may be forgotten. `sequence` is the journal sequence of
    the last command the request executed, or None when every command it carried was refused.
    """

    signature: bytes
    expires_at_ms: int
    sequence: int | None


@dataclass(frozen=True, slots=True)
class HistoryPart:
    """Records `start` to `stop` (exclusive) of one of the state's append-only history lists, as JSON array text.

    A snapshot keeps its history lists (movements, fills, settlement passes, ...) out of its own
    text: each record is stored once, in the part written with the first snapshot that held it, and
    a later snapshot adds only the records that came after (`app/snapshot_parts.py`).
    """

    name: str
    start: int
    stop: int
    items: str


class JournalUnavailableError(RuntimeError):
    """The journal cannot be reached now (its database went away); it may work again after reconnecting.

    Whether the failed `append` was committed is unknown: the caller must read the journal again.
    """


class JournalConflictError(RuntimeError):
    """A record's sequence is already in the journal: another writer appended first."""


class JournalLockedError(RuntimeError):
    """Another process or session holds the journal open for writing."""


class ReplicaReadOnlyError(RuntimeError):
    """A read replica follows the primary's journal and writes nothing of its own."""


class JournalFencedError(RuntimeError):
    """The writer may no longer write the journal: a newer writer took over, or a failover fenced it (INV-FENCE-1)."""


class Journal(Protocol):
    """Durable, append-only command journal with snapshots."""

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        """Append records and the batch's request signatures in one transaction; durable on return."""

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record with a sequence above `after_sequence`, in sequence order."""

    def last_sequence(self) -> int:
        """Return the highest sequence in the journal, 0 when it is empty."""

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return every stored request signature that expires after `expiring_after_ms`."""

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Delete the request signatures that expired before `expired_before_ms`."""

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        """Store the state after the record `sequence` with the history parts it adds, atomically; durable on return."""

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the snapshot with the highest sequence, or None when there is none."""

    def history_part_ends(self) -> dict[str, int]:
        """Return how many records of each history list the stored parts hold (their largest `stop`)."""

    def load_history_parts(self, name: str, stop: int) -> list[HistoryPart]:
        """Return the stored parts of the history list `name` that start before `stop`, in order."""

    def close(self) -> None:
        """Release the connection; appending afterwards is an error."""


class Clock(Protocol):
    """The source of the current time."""

    def now_ms(self) -> int:
        """Return the current time in milliseconds since the Unix epoch."""


class PriceSource(Protocol):
    """Where asset prices come from between operator updates: a random walk, a file, or a live venue.

    `prices_at` is asked on the engine clock (`now_ms`) by the price feed, which submits what it
    returns as one `SetMarkPrices` through the one price path, so the oracle guards (stale, jump)
    apply to every source. Prices are USD per unit as WAD integers, keyed by asset symbol. None, or
    an empty mapping, means nothing new since the last call (a feed that dropped says nothing, so
    the stale guard engages). `close` releases what the source holds (threads, connections).
    """

    @property
    def name(self) -> str:
        """Return a short name for logs and the banner, e.g. `demo`, `file prices.csv`, `backpack`."""
        ...

    def prices_at(self, now_ms: int) -> dict[str, int] | None:
        """Return the asset prices the source has for engine time `now_ms`, or None when nothing changed."""
        ...

    def close(self) -> None:
        """Stop whatever the source runs in the background; later calls return None."""
        ...
