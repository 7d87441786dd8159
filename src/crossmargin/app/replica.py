"""A read replica: follow the primary's journal from a PostgreSQL hot standby, and take over on failover.

`ReplicaFollower` polls the standby every `poll_seconds` for journal records after the last one
applied and hands them to `Service.follow` (the replay path, INV-REPLAY-1), so the replica's
state, market history and streams are the primary's at the same journal position. A standby
cannot LISTEN for the primary's NOTIFY (notifications are not replicated), hence polling: a
short interval costs one indexed query per poll, and an idle replica reads nothing.

Lag (`ReplicaLag`) has two parts. `commands`: records the standby holds that the replica has not
applied yet, at the last poll, after applying what it read (0 when caught up). `seconds`: how
long the standby's own replay trails the WAL it received (PostgreSQL's clock), plus, while the
standby cannot be reached, how long since the last good poll. With `remote_apply` on the
primary (docs/REPLICATION.md) the standby holds every acknowledged command before the client
hears of it, so the replica trails an acknowledgment by at most one poll interval.

`ReplicaRole` is what the HTTP layer sees: whether writes are refused and where to send them,
the lag for `/api/v1/status`, and `promote`, which the `crossmargin promote` command reaches
through the operator API once PostgreSQL promoted the standby.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from crossmargin.app.ports import JournalRecord, JournalUnavailableError
from crossmargin.app.service import Service, ServiceUnavailableError

POLL_SECONDS_DEFAULT: Final = 0.05
RETRY_SECONDS: Final = 1.0
"""How long the follower waits before trying again after the standby could not be read."""
FOLLOW_BATCH_MAX: Final = 4096
"""At most this many records are applied under one hold of the state lock, so reads interleave while catching up."""
LOG = logging.getLogger("crossmargin.replica")


class Standby(Protocol):
    """What the follower reads from the hot standby (`adapters/postgres_replica.StandbyJournal`)."""

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield the records after `after_sequence`, in order."""
        ...

    def last_sequence(self) -> int:
        """Return the highest sequence the standby holds."""
        ...

    def in_recovery(self) -> bool:
        """Return whether PostgreSQL still runs it as a standby."""
        ...

    def standby_delay_seconds(self) -> float:
        """Return how long its replay trails the WAL it received."""
        ...

    def reconnect(self) -> None:
        """Connect again after the standby went away; raise `JournalUnavailableError` while it is still away."""
        ...


@dataclass(frozen=True, slots=True)
class ReplicaLag:
    """How far a replica trails: journal records not applied yet, and seconds."""

    commands: int
    seconds: float


class ReplicaFollower:
    """Polls the standby and applies new journal records to the replica's service, on its own thread."""

    def __init__(
        self,
        service: Service,
        standby: Standby,
        *,
        poll_seconds: float = POLL_SECONDS_DEFAULT,
        on_lag: Callable[[int, float], None] | None = None,
    ) -> None:
        """Follow `standby` into `service`; `on_lag(commands, seconds)` hears the lag after every poll (metrics)."""
        self._service = service
        self._standby = standby
        self._poll_seconds = poll_seconds
        self.on_lag = on_lag
        self._lag = ReplicaLag(0, 0.0)
        self._standby_promoted = False
        self._last_good_poll = time.monotonic()
        self._unreachable = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling (again, after `stop`)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crossmargin-replica-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread; the state stays at the last record applied."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()

    def lag(self) -> ReplicaLag:
        """Return the lag measured at the last poll (seconds grow while the standby cannot be reached)."""
        if self._unreachable:
            return ReplicaLag(self._lag.commands, self._lag.seconds + time.monotonic() - self._last_good_poll)
        return self._lag

    @property
    def standby_promoted(self) -> bool:
        """Return whether PostgreSQL promoted the standby (the replica waits for `crossmargin promote`)."""
        return self._standby_promoted

    def poll(self) -> int:
        """Apply every record the standby holds beyond the replica's sequence; return how many."""
        applied = 0
        records = self._standby.read(self._service.sequence)
        while chunk := list(itertools.islice(records, FOLLOW_BATCH_MAX)):
            self._service.follow(chunk)
            applied += len(chunk)
        behind = max(self._standby.last_sequence() - self._service.sequence, 0)
        self._lag = ReplicaLag(behind, self._standby.standby_delay_seconds())
        promoted = not self._standby.in_recovery()
        if promoted and not self._standby_promoted:
            LOG.warning(
                "PostgreSQL promoted this replica's standby; run `crossmargin promote` to make this replica the "
                "sequencer (it refuses writes until then)"
            )
        self._standby_promoted = promoted
        if self.on_lag is not None:
            self.on_lag(self._lag.commands, self._lag.seconds)
        return applied

    def step(self) -> bool:
        """Poll once; when the standby is away, reconnect for the next step. Return whether the poll worked."""
        try:
            self.poll()
        except JournalUnavailableError as error:
            self._lost(str(error))
            with contextlib.suppress(JournalUnavailableError):
                self._standby.reconnect()
            return False
        if self._unreachable:
            LOG.warning("the standby is back; following the journal from sequence %d", self._service.sequence)
        self._unreachable = False
        self._last_good_poll = time.monotonic()
        return True

    def _lost(self, why: str) -> None:
        if not self._unreachable:
            LOG.warning(
                "the replica cannot follow the journal (%s); it serves the state as of sequence %d until it can",
                why,
                self._service.sequence,
            )
        self._unreachable = True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                followed = self.step()
            except ServiceUnavailableError:
                return  # the service stopped: a record that did not replay is fatal, and the server exits
            except Exception as error:
                LOG.exception("following the journal failed; trying again")
                self._lost(type(error).__name__)
                followed = False
            self._stop.wait(self._poll_seconds if followed else RETRY_SECONDS)


class PromotionRefusedError(RuntimeError):
    """The replica cannot take over now (PostgreSQL has not promoted its standby, or it already took over)."""


@dataclass(frozen=True, slots=True)
class Promotion:
    """What a takeover did: the sequence the new sequencer starts from, its writer term, the fence, and how long."""

    sequence: int
    term: int
    fenced: str
    took_ms: int


@dataclass(slots=True)
class ReplicaRole:
    """The replica as the HTTP layer sees it: the primary to name, the lag, and the way to take over."""

    primary_url: str
    follower: ReplicaFollower
    take_over: Callable[[str | None], Promotion]
    promoted: Promotion | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def read_only(self) -> bool:
        """Return whether writes are refused here (until a promotion)."""
        return self.promoted is None

    def refusal_message(self) -> str:
        """Return what a refused write is told."""
        return (
            f"This server is a read replica; it serves reads and streams only. Send writes to the primary at "
            f"{self.primary_url}"
        )

    def describe(self) -> Mapping[str, str | int | bool]:
        """Return the replica's part of `/api/v1/status`."""
        if self.promoted is not None:
            return {"role": "primary", "promotedAtSequence": self.promoted.sequence, "term": self.promoted.term}
        lag = self.follower.lag()
        return {
            "role": "replica",
            "primary": self.primary_url,
            "lagCommands": lag.commands,
            "lagSeconds": f"{lag.seconds:.3f}",
            "standbyPromoted": self.follower.standby_promoted,
        }

    def promote(self, fence_url: str | None) -> Promotion:
        """Take over as the sequencer (once); `fence_url` names the old primary's database to fence."""
        with self._lock:
            if self.promoted is not None:
                raise PromotionRefusedError(f"this server already took over at sequence {self.promoted.sequence}")
            self.promoted = self.take_over(fence_url)
            return self.promoted
