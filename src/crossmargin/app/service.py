"""Service: the one sequencer that owns the engine state and makes every accepted command durable.

A single writer thread applies commands one at a time to the in-memory `EngineState` with
`engine.execute`, at the clock's time (never going back). It works in group commits: it takes every
command waiting in its queue (up to `batch_max`), executes them in order, appends the accepted ones
to the journal in one durable transaction, and only then answers the whole batch, refusals
included, so no reply ever depends on state that a crash could lose. Reads run under the same lock
as a batch, so they see only durable state. On start, `Service.open` rebuilds the state from the
latest snapshot plus the journal after it (INV-REPLAY-1) and audits it. A journal that cannot be
written stops the service (fail-stop): memory would otherwise be ahead of the journal.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Self, TypeVar

from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import SnapshotFormatError, decode_command, decode_state, encode_command, encode_state
from crossmargin.app.ports import Clock, Journal, JournalRecord
from crossmargin.core.assets import AssetSpec
from crossmargin.core.audit import Check, audit
from crossmargin.core.commands import Command, ConfigureAssets, ConfigureMarkets, Tick
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.events import Event
from crossmargin.core.markets import MarketSpec
from crossmargin.core.state import EngineState

T = TypeVar("T")
Result = Accepted | Rejected

BATCH_MAX_DEFAULT: Final = 4096
SNAPSHOT_EVERY_DEFAULT: Final = 100_000
LOG = logging.getLogger("crossmargin.service")


class ServiceClosedError(RuntimeError):
    """The service was closed; it takes no more commands."""


class ServiceFailedError(RuntimeError):
    """The service stopped after an error it cannot recover from (a journal write failed, a bug)."""


class ReplayError(RuntimeError):
    """The state rebuilt from snapshot and journal breaks an invariant."""


class AssetConfigurationError(RuntimeError):
    """The engine refused the configured asset specs (for example, an asset's decimals changed)."""


class _ControlKind(StrEnum):
    SNAPSHOT = "snapshot"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class _Control:
    kind: _ControlKind
    future: Future[int]


@dataclass(frozen=True, slots=True)
class BatchCommitted:
    """What a listener hears after a batch is durable: its accepted events, in order, and the state after.

    `state` may be read only during the callback (the sequencer holds its lock meanwhile);
    `sequence` is the journal sequence of the batch's last accepted command.
    """

    events: tuple[Event, ...]
    sequence: int
    now_ms: int
    state: EngineState


Listener = Callable[[BatchCommitted], None]


@dataclass(frozen=True, slots=True)
class _Submission:
    command: Command
    future: Future[Result]


def replay(state: EngineState, records: Iterable[JournalRecord], after_sequence: int) -> int:
    """Re-execute journal records on `state` at their recorded times; return the last sequence."""
    sequence = after_sequence
    for record in records:
        assert record.sequence == sequence + 1, (
            f"INV-REPLAY-1: journal sequences are gapless; expected {sequence + 1}, found {record.sequence}"
        )
        result = execute(state, decode_command(record.command), record.recorded_at_ms)
        assert isinstance(result, Accepted), (
            f"INV-REPLAY-1: every journaled command is accepted again on replay; record {record.sequence}: {result}"
        )
        sequence = record.sequence
    return sequence


def rebuild_state(journal: Journal) -> tuple[EngineState, int, int]:
    """Return the state rebuilt from the latest snapshot and the journal, its sequence, and the snapshot's."""
    latest = journal.load_latest_snapshot()
    state, snapshot_sequence = EngineState(), 0
    if latest is not None:
        try:
            state, snapshot_sequence = decode_state(latest[1]), latest[0]
        except SnapshotFormatError:
            LOG.warning("the latest snapshot has an older layout; rebuilding from the whole journal")
    sequence = replay(state, journal.read(snapshot_sequence), snapshot_sequence)
    return state, sequence, snapshot_sequence


class Service:
    """The sequencer: one writer thread, group commit to the journal, consistent reads."""

    def __init__(
        self,
        journal: Journal,
        clock: Clock,
        state: EngineState,
        sequence: int,
        *,
        snapshot_sequence: int = 0,
        batch_max: int = BATCH_MAX_DEFAULT,
        snapshot_every: int = SNAPSHOT_EVERY_DEFAULT,
    ) -> None:
        """Wrap an already rebuilt state; use `Service.open` to rebuild it from a journal."""
        assert batch_max >= 1, "a batch holds at least one command"
        assert snapshot_every >= 1, "snapshots are taken every so many commands, at least one"
        self._journal = journal
        self._clock = clock
        self._state = state
        self._sequence = sequence
        self._snapshot_sequence = snapshot_sequence
        self._batch_max = batch_max
        self._snapshot_every = snapshot_every
        self._queue: queue.SimpleQueue[_Submission | _Control] = queue.SimpleQueue()
        self._state_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._closed = False
        self._failure: BaseException | None = None
        self._listeners: tuple[Listener, ...] = ()
        self._writer = threading.Thread(target=self._run, name="crossmargin-sequencer", daemon=True)
        self._writer.start()

    @classmethod
    def open(
        cls,
        journal: Journal,
        clock: Clock,
        specs: Sequence[AssetSpec] = (),
        markets: Sequence[MarketSpec] = (),
        *,
        batch_max: int = BATCH_MAX_DEFAULT,
        snapshot_every: int = SNAPSHOT_EVERY_DEFAULT,
    ) -> Service:
        """Rebuild the state from `journal`, audit it, start the sequencer and apply changed asset specs."""
        state, sequence, snapshot_sequence = rebuild_state(journal)
        failed = [check for check in audit(state) if not check.ok]
        if failed:
            details = "; ".join(f"{check.invariant}: {check.detail}" for check in failed)
            raise ReplayError(f"the state rebuilt from the journal at sequence {sequence} fails its audit: {details}")
        if isinstance(clock, ManualClock) and clock.now_ms() < state.now_ms:
            clock.advance_to(state.now_ms)
        service = cls(
            journal,
            clock,
            state,
            sequence,
            snapshot_sequence=snapshot_sequence,
            batch_max=batch_max,
            snapshot_every=snapshot_every,
        )
        try:
            service._configure(specs, markets)
            if sequence - snapshot_sequence >= snapshot_every:
                service.snapshot()
        except BaseException:
            service.close()
            raise
        return service

    def _configure(self, specs: Sequence[AssetSpec], markets: Sequence[MarketSpec] = ()) -> None:
        changed = self.read(lambda state: any(state.specs.get(spec.symbol) != spec for spec in specs))
        if changed:
            result = self.execute(ConfigureAssets(tuple(specs)))
            if isinstance(result, Rejected):
                raise AssetConfigurationError(f"the asset configuration was refused: {result.rejection.message}")
        changed = self.read(lambda state: any(state.markets.get(spec.symbol) != spec for spec in markets))
        if changed:
            result = self.execute(ConfigureMarkets(tuple(markets)))
            if isinstance(result, Rejected):
                raise AssetConfigurationError(f"the market configuration was refused: {result.rejection.message}")

    # Commands -------------------------------------------------------------------------------

    def submit(self, command: Command) -> Future[Result]:
        """Queue a command; the future resolves once its batch is durable (or refused after the flush).

        Done-callbacks run on the sequencer thread: they must be quick and must not wait on the service.
        """
        future: Future[Result] = Future()
        with self._submit_lock:
            self._check_open()
            self._queue.put(_Submission(command, future))
        return future

    def execute(self, command: Command, timeout: float | None = None) -> Result:
        """Submit a command and wait for its durable result."""
        return self.submit(command).result(timeout)

    def advance_clock(self, seconds: float) -> Accepted:
        """Advance the manual clock and run everything that fell due, in order; return the Tick's result."""
        if not isinstance(self._clock, ManualClock):
            raise TypeError("only a manual clock can be advanced; this service runs on the wall clock")
        self._clock.advance(seconds)
        result = self.execute(Tick())
        assert isinstance(result, Accepted), f"a Tick at the clock's time is always accepted: {result}"
        return result

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` on the sequencer thread after every durable batch with accepted commands.

        It runs under the state lock, between the journal flush and the replies: it must be quick,
        must never block or call back into the service (hand work to an event loop with
        `loop.call_soon_threadsafe`). An exception it raises is logged and does not stop the service.
        Adding a listener inside `read` starts it exactly after the state that read saw.
        """
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling a listener added with `add_listener`."""
        self._listeners = tuple(known for known in self._listeners if known is not listener)

    # Reads ----------------------------------------------------------------------------------

    def read(self, function: Callable[[EngineState], T]) -> T:
        """Run a read-only function on the durable state, between batches; it must not submit commands."""
        with self._state_lock:
            self._check_healthy()
            return function(self._state)

    def peek(self, function: Callable[[EngineState], T]) -> T:
        """Run a read without waiting for the batch in flight; only for one lookup in an add-only index.

        Reads normally wait for the sequencer's lock, which it holds through a batch's durable
        flush. A single lookup such as API key -> subaccount or the listed asset specs never
        depends on un-durable state in a way that matters (keys and assets are only ever added,
        and a command naming them is itself ordered by the sequencer), and one dict operation is
        atomic in CPython, so the HTTP edge uses this to avoid stalling its event loop on fsync.
        """
        self._check_healthy()
        return function(self._state)

    def audit(self) -> list[Check]:
        """Check every invariant on the live state."""
        return self.read(audit)

    @property
    def sequence(self) -> int:
        """Return the sequence of the last durable command."""
        return self._sequence

    @property
    def clock(self) -> Clock:
        """Return the clock the service runs on."""
        return self._clock

    # Lifecycle ------------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Store a snapshot of the state after every command queued so far; return its sequence."""
        future: Future[int] = Future()
        with self._submit_lock:
            self._check_open()
            self._queue.put(_Control(_ControlKind.SNAPSHOT, future))
        return future.result()

    def close(self) -> None:
        """Finish every queued command, take a snapshot, close the journal and stop the writer."""
        future: Future[int] = Future()
        with self._submit_lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_Control(_ControlKind.STOP, future))
        self._writer.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ServiceClosedError("the service is closed")
        self._check_healthy()

    def _check_healthy(self) -> None:
        if self._failure is not None:
            raise ServiceFailedError(f"the service stopped after an error: {self._failure!r}") from self._failure

    # The writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                batch, control = self._take_batch()
                if batch:
                    self._apply_or_fail(batch)
                if control is not None and not self._handle(control):
                    return
        except BaseException as error:  # noqa: BLE001 -- every error stops the service and is handed to callers
            self._fail(error)

    def _take_batch(self) -> tuple[list[_Submission], _Control | None]:
        batch: list[_Submission] = []
        item = self._queue.get()
        while True:
            if isinstance(item, _Control):
                return batch, item
            if item.future.set_running_or_notify_cancel():
                batch.append(item)
            if len(batch) >= self._batch_max:
                return batch, None
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, None

    def _apply_or_fail(self, batch: list[_Submission]) -> None:
        try:
            self._apply(batch)
        except BaseException as error:
            # Nothing of this batch was acknowledged, and none of it may be: the memory state may hold
            # commands the journal does not. Every caller of the batch learns that the service stopped.
            failure = self._mark_failed(error)
            for submission in batch:
                if not submission.future.done():
                    submission.future.set_exception(failure)
            raise

    def _apply(self, batch: list[_Submission]) -> None:
        results: list[Result] = []
        records: list[JournalRecord] = []
        clock, state, sequence = self._clock, self._state, self._sequence
        with self._state_lock:
            for submission in batch:
                now_ms = max(clock.now_ms(), state.now_ms)
                result = execute(state, submission.command, now_ms)
                if isinstance(result, Accepted):
                    sequence += 1
                    records.append(JournalRecord(sequence, now_ms, encode_command(submission.command)))
                results.append(result)
            if records:
                self._journal.append(records)
                self._sequence = sequence
                self._notify(results, sequence, records[-1].recorded_at_ms)
        for submission, result in zip(batch, results, strict=True):
            submission.future.set_result(result)
        if self._sequence - self._snapshot_sequence >= self._snapshot_every:
            self._save_snapshot()

    def _notify(self, results: list[Result], sequence: int, now_ms: int) -> None:
        listeners = self._listeners
        if not listeners:
            return
        events = tuple(event for result in results if isinstance(result, Accepted) for event in result.events)
        batch = BatchCommitted(events, sequence, now_ms, self._state)
        for listener in listeners:
            try:
                listener(batch)
            except Exception:  # a broken listener (a stream) must not stop the exchange
                LOG.exception("a batch listener failed; the service goes on")

    def _handle(self, control: _Control) -> bool:
        if control.kind is _ControlKind.SNAPSHOT:
            control.future.set_result(self._save_snapshot())
            return True
        if self._sequence > self._snapshot_sequence:
            self._save_snapshot()
        self._journal.close()
        control.future.set_result(self._sequence)
        return False

    def _save_snapshot(self) -> int:
        # Only this thread changes the state, so encoding it here, between batches, is consistent.
        self._journal.save_snapshot(self._sequence, encode_state(self._state))
        self._snapshot_sequence = self._sequence
        return self._sequence

    def _mark_failed(self, error: BaseException) -> ServiceFailedError:
        with self._submit_lock:
            if self._failure is None:
                self._failure = error
        failure = ServiceFailedError(f"the service stopped after an error: {error!r}")
        failure.__cause__ = error
        return failure

    def _fail(self, error: BaseException) -> None:
        failure = self._mark_failed(error)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not item.future.done():
                item.future.set_exception(failure)
        # The first error is the one to report; a second one from closing would only hide it.
        with contextlib.suppress(Exception):
            self._journal.close()
