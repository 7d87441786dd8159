"""Service: the one sequencer that owns the engine state and makes every accepted command durable.

A single writer thread applies commands one at a time to the in-memory `EngineState` with
`engine.execute`, at the clock's time (never going back; on the manual clock each command but a
Tick one millisecond after the last, see `next_command_ms`). It works in group commits: it takes every
submission waiting in its queue (up to `batch_max`), executes them in order, appends the accepted
commands to the journal in one durable transaction, and only then answers the whole batch,
refusals included, so no reply ever depends on state that a crash could lose. Reads run under the
same lock as a batch, so they see only durable state. On start, `Service.open` rebuilds the state
from the latest snapshot plus the journal after it (INV-REPLAY-1) and audits it.

A signed write carries its signature (`SignedRequest`): the sequencer refuses one it has already
answered (`DuplicateRequestError`) and journals every answer, executed or refused, with the batch,
so the replay guard (`replay_guard.py`) is rebuilt after a restart (INV-REPLAY-2). A submission of
several commands (`submit_all`, a batch of orders under one signature) runs in one batch and one
transaction: all of it is durable, or none.

A journal that cannot be written puts the service in maintenance (`faults.py`): memory may be
ahead of the journal, so commands and reads are refused with `ServiceUnavailableError` until the
fault is over. With a `Recovery` (a way to reopen the journal), a journal that became unreachable
is reopened with backoff, the state rebuilt from it and checked against what was acknowledged,
and the service resumes; any other fault is fatal and `wait_for_fatal_fault` reports it, so that
the process can exit and be restarted.

A read replica (`app/replica.py`) runs a service with `read_only` set: it refuses every command
with `ReplicaReadOnlyError` and instead `follow`s the records the primary journaled, replaying them
as a restart does (INV-REPLAY-1) and telling the listeners, so streams and the market history run
as on the primary. `take_over` turns it into the sequencer on the promoted database (failover).

The process's garbage collector is tuned when a service starts (`GC_YOUNG_OBJECTS_MIN`): with
CPython's default of 700, the futures of the commands in flight outlive the young collections, are
promoted, and trigger full collections that walk the whole engine state every few thousand
commands; that cost was as large as the engine's own work on a deposit.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Self, TypeVar, cast

from crossmargin.app.clock import AcceleratedClock, ManualClock
from crossmargin.app.codec import encode_command
from crossmargin.app.command_future import CommandFuture
from crossmargin.app.faults import (
    Fault,
    FaultKind,
    JournalBehindError,
    ServiceFailedError,
    ServiceUnavailableError,
    describe,
    refusal,
)
from crossmargin.app.gc_tuning import GC_YOUNG_OBJECTS_MIN, collect_garbage_less_often
from crossmargin.app.market_history import MarketHistory
from crossmargin.app.ports import (
    Clock,
    Journal,
    JournalRecord,
    JournalUnavailableError,
    ReplicaReadOnlyError,
    RequestSignature,
)
from crossmargin.app.rebuild import (
    MARKET_HISTORY,
    Rebuilt,
    ReplayError,
    check_audit,
    rebuild_after_fault,
    rebuild_state,
    rebuild_with_history,
    replay,
)
from crossmargin.app.replay_guard import DuplicateRequestError, ReplayGuard, SignedRequest
from crossmargin.app.sequencer_stats import SequencerStats
from crossmargin.app.snapshot_parts import StoredParts
from crossmargin.core.assets import AssetSpec
from crossmargin.core.audit import Check, audit
from crossmargin.core.commands import Command, ConfigureAssets, ConfigureMarkets, Tick
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.events import Event
from crossmargin.core.history import index_changes
from crossmargin.core.markets import MarketSpec
from crossmargin.core.settled_index import settled_index
from crossmargin.core.state import EngineState

__all__ = [
    "BATCH_MAX_DEFAULT",
    "GC_YOUNG_OBJECTS_MIN",
    "SNAPSHOT_EVERY_DEFAULT",
    "AssetConfigurationError",
    "BatchCommitted",
    "Recovery",
    "ReplayError",
    "Result",
    "Service",
    "ServiceClosedError",
    "ServiceFailedError",
    "ServiceUnavailableError",
    "rebuild_state",
    "replay",
]

T = TypeVar("T")
Result = Accepted | Rejected

BATCH_MAX_DEFAULT: Final = 4096
SNAPSHOT_EVERY_DEFAULT: Final = 100_000
SIGNATURES_FORGOTTEN_EVERY_SECONDS: Final = 60.0
LOG = logging.getLogger("crossmargin.service")


class ServiceClosedError(RuntimeError):
    """The service was closed; it takes no more commands."""


class AssetConfigurationError(RuntimeError):
    """The engine refused the configured asset specs (for example, an asset's decimals changed)."""


@dataclass(frozen=True, slots=True)
class Recovery:
    """How the service gets its journal back after it became unreachable: reopen it, waiting longer each time."""

    reopen: Callable[[], Journal]
    backoff_first_seconds: float = 0.5
    backoff_max_seconds: float = 5.0


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
    `sequence` is the journal sequence of the batch's last accepted command. After a journal
    fault, the records the rebuilt journal holds beyond what had been acknowledged (a commit whose
    reply was lost) are heard as one such batch.
    """

    events: tuple[Event, ...]
    sequence: int
    now_ms: int
    state: EngineState


Listener = Callable[[BatchCommitted], None]


# Not frozen: one is built per submitted command, and a frozen dataclass's __init__ costs several
# times more; nothing changes one after it is queued.
@dataclass(slots=True)
class _Submission:
    """Commands that run together in one batch, the signed request they came with, and who waits for them."""

    commands: tuple[Command, ...]
    signed: SignedRequest | None
    future: Future[Result] | Future[tuple[Result, ...]]
    many: bool


# What the sequencer made of one submission: its results, or (a signed request answered before)
# the answer it had already given.
_Outcome = list[Result] | RequestSignature


def _accepted_events(outcomes: list[_Outcome]) -> tuple[Event, ...]:
    """Return the events of a batch's accepted commands, in order."""
    return tuple(
        event
        for outcome in outcomes
        if not isinstance(outcome, RequestSignature)
        for result in outcome
        if isinstance(result, Accepted)
        for event in result.events
    )


class Service:
    """The sequencer: one writer thread, group commit to the journal, consistent reads."""

    def __init__(  # noqa: PLR0913 -- the rebuilt state, its journal, and how the sequencer runs
        self,
        journal: Journal,
        clock: Clock,
        state: EngineState,
        sequence: int,
        *,
        snapshot_sequence: int = 0,
        batch_max: int = BATCH_MAX_DEFAULT,
        snapshot_every: int = SNAPSHOT_EVERY_DEFAULT,
        recovery: Recovery | None = None,
        guard: ReplayGuard | None = None,
        history: MarketHistory | None = None,
        read_only: str | None = None,
    ) -> None:
        """Wrap an already rebuilt state; use `Service.open` to rebuild it from a journal.

        Without `history`, the market history starts from `state` with no K-lines yet. With
        `read_only` (the message a refused command gets), it is a read replica: see `follow`.
        """
        assert batch_max >= 1, "a batch holds at least one command"
        assert snapshot_every >= 1, "snapshots are taken every so many commands, at least one"
        collect_garbage_less_often()
        self._journal = journal
        self._stored_parts = StoredParts()
        self._clock = clock
        # On the manual clock a command runs 1 ms after the engine's time at least (a Tick, the
        # clock's own work, at it), and the clock is moved along to it.
        self._manual_clock = clock if isinstance(clock, ManualClock) else None
        self._state = state
        _extend_read_memos(state)  # the history so far, before serving (a batch extends them with what it adds)
        self._sequence = sequence
        self._snapshot_sequence = snapshot_sequence
        self._batch_max = batch_max
        self._snapshot_every = snapshot_every
        self._recovery = recovery
        self._guard = guard if guard is not None else ReplayGuard()
        self._history = history if history is not None else MarketHistory.starting_from(state)
        self._queue: queue.SimpleQueue[_Submission | _Control] = queue.SimpleQueue()
        self._state_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()
        self._fault: Fault | None = None
        self._fatal = threading.Event()
        self._in_flight: list[_Submission] = []
        self._signatures_forgotten_at = time.monotonic()
        self._listeners: tuple[Listener, ...] = ()
        self.stats = SequencerStats()
        """Commands by type and result, batch sizes and journal flush times, for the metrics (`api/metrics.py`)."""
        self._read_only = read_only
        self._writer = threading.Thread(target=self._run, name="crossmargin-sequencer", daemon=True)
        self._writer.start()

    @classmethod
    def open(  # noqa: PLR0913 -- the journal, the clock, the configuration, and how the sequencer runs
        cls,
        journal: Journal,
        clock: Clock,
        specs: Sequence[AssetSpec] = (),
        markets: Sequence[MarketSpec] = (),
        *,
        batch_max: int = BATCH_MAX_DEFAULT,
        snapshot_every: int = SNAPSHOT_EVERY_DEFAULT,
        recovery: Recovery | None = None,
        guard: ReplayGuard | None = None,
    ) -> Service:
        """Rebuild and audit the state, seed the replay guard, start the sequencer and apply changed asset specs."""
        state, history, sequence, snapshot_sequence = rebuild_with_history(journal)
        check_audit(state, sequence)
        if isinstance(clock, ManualClock | AcceleratedClock) and clock.now_ms() < state.now_ms:
            clock.advance_to(state.now_ms)  # a journal that ran ahead of the wall clock: run on from its time
        guard = guard if guard is not None else ReplayGuard()
        guard.reseed(journal.request_signatures(guard.now_ms()))
        service = cls(
            journal,
            clock,
            state,
            sequence,
            snapshot_sequence=snapshot_sequence,
            batch_max=batch_max,
            snapshot_every=snapshot_every,
            recovery=recovery,
            guard=guard,
            history=history,
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

    def submit(self, command: Command, *, signed: SignedRequest | None = None) -> Future[Result]:
        """Queue a command; the future resolves once its batch is durable (or refused after the flush).

        With `signed`, the command runs only if that signed request was never answered before;
        otherwise the future raises `DuplicateRequestError`. Done-callbacks run on the sequencer
        thread: they must be quick and must not wait on the service. During a journal fault this
        raises `ServiceUnavailableError` (or the future does, for a command caught in the fault).
        """
        future: Future[Result] = CommandFuture()
        self._enqueue(_Submission((command,), signed, future, many=False))
        return future

    def submit_all(
        self, commands: Sequence[Command], *, signed: SignedRequest | None = None
    ) -> Future[tuple[Result, ...]]:
        """Queue commands that run in order in one batch, one durable transaction: all of them, or none."""
        assert commands, "submit at least one command"
        future: Future[tuple[Result, ...]] = CommandFuture()
        self._enqueue(_Submission(tuple(commands), signed, future, many=True))
        return future

    def _enqueue(self, submission: _Submission) -> None:
        with self._submit_lock:
            if self._closed or self._fault is not None or self._read_only is not None:  # usually one test, not three
                try:
                    self._check_open()
                    self._check_writable()
                except (ServiceUnavailableError, ReplicaReadOnlyError):
                    if submission.signed is not None:
                        self._guard.release(submission.signed.signature)
                    raise
            self._queue.put(submission)

    def execute(self, command: Command, timeout: float | None = None) -> Result:
        """Submit a command and wait for its durable result."""
        return self.submit(command).result(timeout)

    def advance_clock(self, seconds: float) -> Accepted:
        """Advance the manual clock and run everything that fell due, in order; return the Tick's result."""
        if not isinstance(self._clock, ManualClock):
            raise TypeError("only a manual clock can be advanced; this service runs on the wall clock")
        self._check_writable()
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
        """Run a read-only function on the durable state, between batches; it must not submit commands.

        During a journal fault the state in memory may be ahead of the journal, so this raises
        `ServiceUnavailableError` until the state is rebuilt.
        """
        with self._state_lock:
            self._check_serving()
            return function(self._state)

    def peek(self, function: Callable[[EngineState], T]) -> T:
        """Run a read without waiting for the batch in flight; only for one lookup in an add-only index.

        Reads normally wait for the sequencer's lock, which it holds through a batch's durable
        flush. A single lookup such as API key -> subaccount or the listed asset specs never
        depends on un-durable state in a way that matters (keys and assets are only ever added,
        and a command naming them is itself ordered by the sequencer), and one dict operation is
        atomic in CPython, so the HTTP edge uses this to avoid stalling its event loop on fsync.
        For the same reason it keeps answering during a recoverable journal fault.
        """
        fault = self._fault
        if fault is not None and fault.fatal:
            raise refusal(fault, executed=False)
        return function(self._state)

    def audit(self) -> list[Check]:
        """Check every invariant on the live state."""
        return self.read(audit)

    @property
    def queue_depth(self) -> int:
        """Return how many submissions wait in the sequencer's queue (approximate while it runs)."""
        return self._queue.qsize()

    @property
    def running(self) -> bool:
        """Return whether the sequencer thread runs and takes commands (False once closed or stopped by a fault)."""
        return self._writer.is_alive() and not self._closed

    @property
    def sequence(self) -> int:
        """Return the sequence of the last durable command."""
        return self._sequence

    def now_ms(self) -> int:
        """Return the engine's time: the clock's, never before the last command's (the engine never goes back)."""
        return max(self._clock.now_ms(), self._state.now_ms)

    def next_command_ms(self) -> int:
        """Return the time a command submitted now would run at, where a "what if" read should look.

        On the wall and accelerated clocks, the engine's time. On the manual clock, which moves only
        when told to, every command but a Tick runs 1 ms after the engine's time at least, so that
        consecutive orders, trades and deposits get distinct, increasing timestamps as on Backpack,
        where each happens at its own time.
        """
        step = 0 if self._manual_clock is None else 1
        return max(self._clock.now_ms(), self._state.now_ms + step)

    @property
    def market_history(self) -> MarketHistory:
        """Return the K-lines, trades and open interest kept from the engine's events (read it inside `read`)."""
        return self._history

    @property
    def clock(self) -> Clock:
        """Return the clock the service runs on."""
        return self._clock

    @property
    def replay_guard(self) -> ReplayGuard:
        """Return the guard that keeps a signed write from executing twice (the HTTP edge claims with it)."""
        return self._guard

    @property
    def read_only(self) -> str | None:
        """Return why commands are refused on this read replica, or None on the sequencer."""
        return self._read_only

    @property
    def fault(self) -> Fault | None:
        """Return the journal fault the service is in, or None while it serves normally."""
        return self._fault

    def wait_for_fatal_fault(self, timeout: float | None = None) -> Fault | None:
        """Wait until a fault stops the service for good (or the service closes); return that fault, if any."""
        self._fatal.wait(timeout)
        fault = self._fault
        return fault if fault is not None and fault.fatal else None

    # Lifecycle ------------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Store a snapshot of the state after every command queued so far; return its sequence."""
        future: Future[int] = Future()
        with self._submit_lock:
            self._check_open()
            self._check_writable()
            self._queue.put(_Control(_ControlKind.SNAPSHOT, future))
        return future.result()

    def close(self) -> None:
        """Finish every queued command, take a snapshot, close the journal and stop the writer.

        During a journal fault nothing more can be made durable: the writer stops reconnecting
        and closes the journal without a snapshot.
        """
        future: Future[int] = Future()
        with self._submit_lock:
            if not self._closed:
                self._closed = True
                self._closing.set()
                self._queue.put(_Control(_ControlKind.STOP, future))
        self._writer.join()
        self._fatal.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ServiceClosedError("the service is closed")
        self._check_serving()

    def _check_serving(self) -> None:
        fault = self._fault
        if fault is not None:
            raise refusal(fault, executed=False)

    def _check_writable(self) -> None:
        if self._read_only is not None:
            raise ReplicaReadOnlyError(self._read_only)

    # Replication ----------------------------------------------------------------------------

    def follow(self, records: Sequence[JournalRecord]) -> int:
        """On a read replica, apply records the primary journaled, as a restart replays them; return the sequence.

        The listeners hear their events as one batch, as on the primary. A record that does not
        replay (a gap, a refusal: INV-REPLAY-1 broken) is a fatal fault.
        """
        with self._state_lock:
            self._check_serving()
            self._apply_followed(records)
            return self._sequence

    def take_over(self, journal: Journal, recovery: Recovery | None = None) -> int:
        """Turn this read replica into the sequencer, writing `journal` (opened as its writer); return the sequence.

        The records the journal holds beyond the state followed so far are applied first, so the
        sequencer starts at the end of the promoted journal; the replay guard is re-seeded from it.
        """
        with self._state_lock:
            self._check_serving()
            assert self._read_only is not None, "only a read replica takes over"
            self._apply_followed(list(journal.read(self._sequence)))
            self._guard.reseed(journal.request_signatures(self._guard.now_ms()))
            with contextlib.suppress(Exception):  # the standby's read-only connection is done with
                self._journal.close()
            self._journal = journal
            self._recovery = recovery
            with self._submit_lock:
                self._read_only = None
            return self._sequence

    def _apply_followed(self, records: Sequence[JournalRecord]) -> None:
        if not records:
            return
        events: list[Event] = []
        try:
            sequence = replay(self._state, records, self._sequence, events)
        except BaseException as error:
            self._enter_fault(FaultKind.INTERNAL_ERROR, error)
            self._fatal.set()
            raise
        self._sequence = sequence
        if isinstance(self._clock, ManualClock | AcceleratedClock) and self._clock.now_ms() < self._state.now_ms:
            self._clock.advance_to(self._state.now_ms)
        self._notify(tuple(events), sequence, records[-1].recorded_at_ms)

    # The writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                batch, control = self._take_batch()
                self._in_flight = batch
                try:
                    if batch:
                        self._apply(batch)
                    self._forget_expired_signatures_now_and_then()
                    if control is not None and not self._handle(control):
                        return
                except JournalUnavailableError:
                    if self._recovery is None or self._fault is None or self._fault.fatal:
                        raise
                    self._refuse_waiting(control)
                    if not self._recover():
                        continue  # closing: the STOP control is next in the queue
                self._in_flight = []
        except BaseException as error:  # noqa: BLE001 -- every other error stops the service and is handed to callers
            self._stop_for_good(error)

    def _take_batch(self) -> tuple[list[_Submission], _Control | None]:
        batch: list[_Submission] = []
        size = 0
        item = self._queue.get()
        while True:
            if isinstance(item, _Control):
                return batch, item
            if item.future.set_running_or_notify_cancel():
                batch.append(item)
                size += len(item.commands)
            if size >= self._batch_max:
                return batch, None
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, None

    def _apply(self, batch: list[_Submission]) -> None:
        with self._state_lock:
            try:
                outcomes, records, answers, sequence = self._execute_batch(batch)
            except BaseException as error:
                self._enter_fault(FaultKind.INTERNAL_ERROR, error)  # before any read sees what it left in memory
                raise
            if records or answers:
                flush_started = time.perf_counter()
                try:
                    self._journal.append(records, answers)
                except BaseException as error:
                    self._enter_fault(self._journal_fault_kind(error), error)
                    raise
                self.stats.record_flush(time.perf_counter() - flush_started)
            self._sequence = sequence
            self._guard.record(answers)  # also forgets the answers that expired
            if records:
                self._notify(_accepted_events(outcomes), sequence, records[-1].recorded_at_ms)
        for submission, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, RequestSignature):
                submission.future.set_exception(DuplicateRequestError(outcome))
            elif submission.many:
                cast("Future[tuple[Result, ...]]", submission.future).set_result(tuple(outcome))
            else:
                cast("Future[Result]", submission.future).set_result(outcome[0])
        self.stats.record_batch(batch, outcomes)
        if self._sequence - self._snapshot_sequence >= self._snapshot_every:
            self._save_snapshot()

    def _execute_batch(
        self, batch: list[_Submission]
    ) -> tuple[list[_Outcome], list[JournalRecord], list[RequestSignature], int]:
        """Execute every submission in order; return outcomes, the records and answers to journal, the last sequence."""
        # This loop runs once per command: names are bound locally, and the journal text is encoded here.
        now_of_clock, state, sequence = self._clock.now_ms, self._state, self._sequence
        manual = self._manual_clock
        step = 0 if manual is None else 1
        outcomes: list[_Outcome] = []
        records: list[JournalRecord] = []
        append_record = records.append
        answers: dict[bytes, RequestSignature] = {}
        for submission in batch:
            signed = submission.signed
            if signed is not None:
                earlier = answers.get(signed.signature) or self._guard.answered(signed.signature)
                if earlier is not None:
                    outcomes.append(earlier)
                    continue
            results: list[Result] = []
            executed_at: int | None = None
            for command in submission.commands:
                now_ms = max(now_of_clock(), state.now_ms + (step if type(command) is not Tick else 0))
                result = execute(state, command, now_ms)
                if type(result) is Accepted:
                    if manual is not None:
                        manual.catch_up(now_ms)
                    sequence += 1
                    executed_at = sequence
                    append_record(JournalRecord(sequence, now_ms, encode_command(command)))
                results.append(result)
            if signed is not None:
                answers[signed.signature] = RequestSignature(signed.signature, signed.expires_at_ms, executed_at)
            outcomes.append(results)
        return outcomes, records, list(answers.values()), sequence

    def _notify(self, events: tuple[Event, ...], sequence: int, now_ms: int) -> None:
        self._history.feed(events, self._state.markets)
        _extend_read_memos(self._state)
        listeners = self._listeners
        if not listeners:
            return
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
        if self._fault is None and self._read_only is None and self._sequence > self._snapshot_sequence:
            try:
                self._save_snapshot()
            except Exception as error:  # noqa: BLE001 -- the journal holds every acknowledged command anyway
                LOG.warning("closing without a snapshot, which the next start does without: %s", error)
        with contextlib.suppress(Exception):  # a journal lost in a fault may fail to close; nothing is left to save
            self._journal.close()
        control.future.set_result(self._sequence)
        return False

    def _save_snapshot(self) -> int:
        # Only this thread changes the state, so encoding it here, between batches, is consistent.
        started = time.perf_counter()
        try:
            extras = {MARKET_HISTORY: self._history.encode()}
            self._stored_parts.save(self._journal, self._sequence, self._state, extras)
        except BaseException as error:
            self._enter_fault(self._journal_fault_kind(error), error)
            raise
        self.stats.record_snapshot(time.perf_counter() - started)
        self._snapshot_sequence = self._sequence
        return self._sequence

    def _forget_expired_signatures_now_and_then(self) -> None:
        if time.monotonic() - self._signatures_forgotten_at < SIGNATURES_FORGOTTEN_EVERY_SECONDS:
            return
        try:
            self._journal.forget_request_signatures(self._guard.now_ms())
        except BaseException as error:
            self._enter_fault(self._journal_fault_kind(error), error)
            raise
        self._signatures_forgotten_at = time.monotonic()

    # Faults ---------------------------------------------------------------------------------

    def _journal_fault_kind(self, error: BaseException) -> FaultKind:
        if isinstance(error, JournalUnavailableError) and self._recovery is not None:
            return FaultKind.JOURNAL_UNAVAILABLE
        if isinstance(error, JournalBehindError):
            return FaultKind.JOURNAL_BEHIND
        return FaultKind.JOURNAL_FAILED

    def _enter_fault(self, kind: FaultKind, error: BaseException) -> Fault:
        """Refuse commands and reads from now on; log the episode's one line. A fatal fault is never replaced."""
        with self._submit_lock:
            current = self._fault
            if current is not None and (current.fatal or current.kind is kind):
                return current
            fault = Fault(kind, describe(kind, error))
            self._fault = fault
        if fault.fatal:
            LOG.error("journal fault: %s The exchange answers 503 MAINTENANCE until it stops.", fault.message)
        else:
            LOG.error("journal fault: %s Until then the exchange answers 503 MAINTENANCE.", fault.message)
        return fault

    def _refuse_waiting(self, control: _Control | None) -> None:
        """Answer the batch caught in the fault (outcome unknown) and everything queued after it (not executed)."""
        fault = self._fault
        assert fault is not None, "a fault was entered first"
        for submission in self._in_flight:
            if not submission.future.done():
                submission.future.set_exception(refusal(fault, executed=None))
        if control is not None and control.kind is _ControlKind.STOP:
            self._queue.put(control)  # close() is waiting for it: keep it for the loop
        elif control is not None and not control.future.done():
            control.future.set_exception(refusal(fault, executed=False))
        self._in_flight = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Control) and item.kind is _ControlKind.STOP:
                self._queue.put(item)  # close() is waiting for it: keep it for the loop
                return
            if isinstance(item, _Submission) and item.signed is not None:
                self._guard.release(item.signed.signature)
            if not item.future.done():
                item.future.set_exception(refusal(fault, executed=False))

    def _recover(self) -> bool:
        """Reopen the journal until it works and resume from it; return False if the service is closing instead.

        Raises when the journal, once reached, cannot be used (that fault is fatal).
        """
        recovery = self._recovery
        assert recovery is not None, "only a service with a Recovery recovers"
        with contextlib.suppress(Exception):  # the broken connection goes; a new one replaces it
            self._journal.close()
        delay = recovery.backoff_first_seconds
        while not self._closing.wait(delay):
            delay = min(delay * 2, recovery.backoff_max_seconds)
            journal: Journal | None = None
            try:
                journal = recovery.reopen()
                rebuilt = rebuild_after_fault(journal, self._sequence)
                answers = journal.request_signatures(self._guard.now_ms())
            except JournalUnavailableError:
                if journal is not None:
                    with contextlib.suppress(Exception):
                        journal.close()
                continue
            except BaseException:
                if journal is not None:
                    with contextlib.suppress(Exception):
                        journal.close()
                raise
            if rebuilt.sequence < self._sequence:
                with contextlib.suppress(Exception):
                    journal.close()
                raise JournalBehindError(
                    f"the journal ends at sequence {rebuilt.sequence}, but sequence {self._sequence} was acknowledged"
                )
            self._resume(journal, rebuilt, answers)
            return True
        return False

    def _resume(self, journal: Journal, rebuilt: Rebuilt, answers: list[RequestSignature]) -> None:
        fault = self._fault
        with self._state_lock:
            self._journal = journal
            self._state = rebuilt.state
            _extend_read_memos(rebuilt.state)
            heard = self._sequence
            self._sequence = rebuilt.sequence
            self._snapshot_sequence = rebuilt.snapshot_sequence
            self._guard.reseed(answers)
            if isinstance(self._clock, ManualClock | AcceleratedClock) and self._clock.now_ms() < rebuilt.state.now_ms:
                self._clock.advance_to(rebuilt.state.now_ms)
            if rebuilt.sequence > heard:
                self._notify(rebuilt.unheard_events, rebuilt.sequence, rebuilt.state.now_ms)
            # Said before it is so: whoever sees the service recovered finds the line already logged.
            seconds = time.monotonic() - fault.started_at if fault is not None else 0.0
            LOG.warning(
                "journal recovered after %.1f s: the state was rebuilt from it at sequence %d (%d acknowledged "
                "before the fault); accepting commands again",
                seconds,
                rebuilt.sequence,
                heard,
            )
            with self._submit_lock:
                self._fault = None

    def _stop_for_good(self, error: BaseException) -> None:
        kind = self._journal_fault_kind(error)
        fault = self._enter_fault(FaultKind.JOURNAL_FAILED if kind is FaultKind.JOURNAL_UNAVAILABLE else kind, error)
        for submission in self._in_flight:
            if not submission.future.done():
                submission.future.set_exception(refusal(fault, executed=None))
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not item.future.done():
                item.future.set_exception(refusal(fault, executed=False))
        # The first error is the one to report; a second one from closing would only hide it.
        with contextlib.suppress(Exception):
            self._journal.close()
        self._fatal.set()


def _extend_read_memos(state: EngineState) -> None:
    """Index what the history gained since the last call: each settlement pass's positions, each pool's index changes.

    Done after each durable batch (and before serving) rather than by the next read of someone's
    settlement rows or interest history, which would otherwise pay, under the state lock, for
    every pass, accrual and entry fee since the last such read: an hour of borrows at once.
    """
    settled_index(state)
    index_changes(state)
