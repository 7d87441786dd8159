"""RiskMonitor: keeps the risk screen current from durable batches and liquidates what it confirms.

It listens to the service (`Service.add_listener`); the listener only queues each batch's events
and sequence and wakes the monitor's own thread, so the sequencer never waits on it. The thread
works in *looks*: inside one `service.read` (the state lock, so the queued batches are exactly
those the state has seen) it drains the queue, brings its `RiskColumns` up to date with
`apply_events` (which re-reads the rows of every subaccount an event touched, as
`core.events.subaccounts_touched` names them: the fund, a backstopped account and an ADL
counterparty included) and updates the `RiskScreen` headroom incrementally.

A look *acts* when its batches hold an event of a `TRIGGERS` kind (prices changed, perps settled,
interest charged or funding paid), or while any subaccount is `liquidating`. Acting means: plan the
round with `crossmargin.risk.plan.plan_liquidations` (the screen's candidates confirmed with the
exact integer math, in chunks, each in its own `service.read` so no single read holds the
sequencer long, plus every liquidating subaccount), submit `Liquidate` for each, then look again
at the batches those commands produced. It repeats until nothing is left to liquidate or a round
makes no progress (every command refused: `NOT_LIQUIDATABLE` means the state moved on, which is
fine), and then publishes the last sequence it has handled, which `settle` waits for.

During a journal fault the service refuses its reads and commands (`ServiceUnavailableError`); it
waits and tries again, and after the recovery looks at every subaccount once more. Its columns stay
true meanwhile: a failed batch is never heard, and the batches a recovery finds in the journal are.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final

from crossmargin.app.faults import FAULT_RETRY_SECONDS
from crossmargin.app.service import (
    BatchCommitted,
    Service,
    ServiceClosedError,
    ServiceFailedError,
    ServiceUnavailableError,
)
from crossmargin.core.commands import Liquidate
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.events import (
    ChangeKind,
    Event,
    LiquidationFinished,
    LiquidationStarted,
    change_kind,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_has_loss_to_share
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView
from crossmargin.risk import kernels
from crossmargin.risk.columns import RiskColumns
from crossmargin.risk.plan import plan_liquidations
from crossmargin.risk.screen import RiskScreen, confirm

LOG = logging.getLogger("crossmargin.risk_monitor")

TRIGGERS: Final = frozenset({ChangeKind.PRICES, ChangeKind.SETTLEMENT, ChangeKind.INTEREST, ChangeKind.FUNDING})
"""Kinds of event after which a subaccount may have crossed MMR >= 100% without a command of its own."""
CONFIRM_CHUNK: Final = 256
"""Candidates confirmed per read: bounds how long one confirmation holds the sequencer's lock."""
ROUNDS_PER_WAKE_MAX: Final = 10_000
"""A safety stop: rounds of liquidations in one catch-up before it waits for the next batch."""
REPLY_TIMEOUT_SECONDS: Final = 60.0
SETTLE_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True, slots=True)
class _Batch:
    events: tuple[Event, ...]
    sequence: int


@dataclass(frozen=True, slots=True)
class Look:
    """What one look at the durable state found: the sequence it saw and whom to act on."""

    sequence: int
    acts: bool
    candidates: tuple[SubaccountId, ...]
    liquidating: tuple[SubaccountId, ...]
    fund_in_deficit: bool = False


@dataclass(slots=True)
class MonitorStats:
    """Counters for operators and tests."""

    looks: int = 0
    rounds: int = 0
    confirmed: int = 0
    submitted: int = 0
    accepted: int = 0
    refused: int = 0


def _confirm_chunk(chunk: list[SubaccountId], state: EngineState) -> list[SubaccountId]:
    return confirm(state, chunk)


class RiskMonitor:
    """Screens every subaccount after each durable batch and liquidates the confirmed ones, on its own thread."""

    def __init__(self, service: Service, *, compiled: bool = kernels.HAVE_NUMBA) -> None:
        """Watch `service`; call `start` to attach and run the thread."""
        self._service = service
        self._compiled = compiled
        self._queue: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        self._columns: RiskColumns | None = None
        self._screen: RiskScreen | None = None
        self._liquidating: set[SubaccountId] = set()
        self._seen = 0
        self._done = 0
        self._force = True
        self._stopped = False
        self._done_changed = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-risk-monitor", daemon=True)
        self.stats = MonitorStats()

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Mirror the current state, listen from exactly after it, and start the thread (one full check first)."""
        self._service.read(self._attach)
        self._wake.set()
        self._thread.start()

    def _attach(self, state: EngineState) -> None:
        self._columns = RiskColumns.from_state(state)
        self._screen = RiskScreen(self._columns, compiled=self._compiled)
        # Mirrored rows start with an unknown (infinite) headroom: screen them all once, or an
        # account already past maintenance (a restart after a price fall) would never be a candidate.
        self._screen.sweep()
        self._liquidating = {sub.subaccount_id for sub in state.subaccounts.values() if sub.liquidating}
        self._seen = self._service.sequence
        self._service.add_listener(self._on_batch)

    def stop(self) -> None:
        """Stop listening and wait for the thread; `settle` returns at once from then on."""
        self._service.remove_listener(self._on_batch)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._mark_stopped()

    @property
    def worker_name(self) -> str:
        """Return the name the metrics and the status give this worker."""
        return "risk-monitor"

    @property
    def running(self) -> bool:
        """Return whether the thread runs (False before `start`, after `stop`, and once an error ended it)."""
        return self._thread.is_alive() and not self._stopped

    def settle(self, sequence: int | None = None, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
        """Wait until the monitor has handled every batch up to `sequence` (default: the latest durable one).

        Return True when it has (every liquidation those batches called for is done), False on
        timeout or when the monitor has stopped.
        """
        target = self._service.sequence if sequence is None else sequence
        with self._done_changed:
            self._done_changed.wait_for(lambda: self._done >= target or self._stopped, timeout)
            return self._done >= target

    @property
    def handled_sequence(self) -> int:
        """Return the last batch sequence whose liquidations are done."""
        return self._done

    def _on_batch(self, batch: BatchCommitted) -> None:
        """Queue the batch and wake the thread (runs on the sequencer: only a put and a flag)."""
        self._queue.put(_Batch(batch.events, batch.sequence))
        self._wake.set()

    # The thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.catch_up()
            except ServiceUnavailableError as error:
                if isinstance(error, ServiceFailedError):
                    self._mark_stopped()
                    return  # the service is going away; it logged why
                # A journal fault (the service logs it): look at everyone again once the state is rebuilt.
                self._force = True
                self._stop.wait(FAULT_RETRY_SECONDS)
                self._wake.set()
            except ServiceClosedError:
                self._mark_stopped()
                return
            except Exception:  # a bug: liquidations stop
                if not self._stop.is_set():
                    LOG.exception("the risk monitor stopped")
                self._mark_stopped()
                return

    def _mark_stopped(self) -> None:
        with self._done_changed:
            self._stopped = True
            self._done_changed.notify_all()

    def catch_up(self) -> int:
        """Handle every queued batch, liquidating until nothing is left; return the sequence handled."""
        look = self._service.read(lambda state: self.look(state, force=self._force))
        self._force = False
        rounds = 0
        fund_asked = False
        while look.acts and rounds < ROUNDS_PER_WAKE_MAX and not self._stop.is_set():
            targets = plan_liquidations(look.candidates, look.liquidating, self._confirm)
            if look.fund_in_deficit and not fund_asked:  # once per wake: sharing may not cover it all
                targets.append(INSURANCE_FUND_ID)
                fund_asked = True
            if not targets or not self._liquidate(targets):
                break
            rounds += 1
            look = self._service.read(lambda state: self.look(state, force=True))
        if rounds >= ROUNDS_PER_WAKE_MAX:
            LOG.warning("the risk monitor paused after %d rounds of liquidations; it goes on at the next batch", rounds)
        self.stats.rounds += rounds
        with self._done_changed:
            self._done = max(self._done, look.sequence)
            self._done_changed.notify_all()
        return look.sequence

    def look(self, state: EngineState, *, force: bool) -> Look:
        """Bring the columns and headroom up to date with the queued batches (under the state lock)."""
        assert self._columns is not None, "start() mirrors the state first"
        assert self._screen is not None, "start() builds the screen first"
        events: list[Event] = []
        while True:
            try:
                batch = self._queue.get_nowait()
            except queue.Empty:
                break
            events.extend(batch.events)
            self._seen = batch.sequence
        self.stats.looks += 1
        drained = tuple(events)
        changes = self._columns.apply_events(state, drained)
        self._follow_liquidations(drained)
        rows = self._screen.update(changes)
        acts = force or bool(self._liquidating) or any(change_kind(event) in TRIGGERS for event in drained)
        if not acts:
            return Look(self._seen, acts=False, candidates=(), liquidating=())
        fund_in_deficit = fund_has_loss_to_share(StateView(state))
        return Look(
            self._seen,
            acts=True,
            candidates=tuple(self._screen.subaccounts(rows)),
            liquidating=tuple(sorted(self._liquidating)),
            fund_in_deficit=fund_in_deficit,
        )

    def _follow_liquidations(self, events: tuple[Event, ...]) -> None:
        for event in events:
            if isinstance(event, LiquidationStarted):
                self._liquidating.add(event.subaccount_id)
            elif isinstance(event, LiquidationFinished):
                self._liquidating.discard(event.subaccount_id)

    def _confirm(self, candidates: list[SubaccountId]) -> list[SubaccountId]:
        confirmed: list[SubaccountId] = []
        for start in range(0, len(candidates), CONFIRM_CHUNK):
            chunk = candidates[start : start + CONFIRM_CHUNK]
            confirmed.extend(self._service.read(functools.partial(_confirm_chunk, chunk)))
        self.stats.confirmed += len(confirmed)
        return confirmed

    def _liquidate(self, targets: list[SubaccountId]) -> int:
        """Submit `Liquidate` for each target and wait for all; return how many were accepted."""
        futures: list[tuple[SubaccountId, Future[Accepted | Rejected]]] = [
            (subaccount_id, self._service.submit(Liquidate(subaccount_id))) for subaccount_id in targets
        ]
        accepted = 0
        for subaccount_id, future in futures:
            result = future.result(REPLY_TIMEOUT_SECONDS)
            if isinstance(result, Accepted):
                accepted += 1
            elif result.rejection.reason is not RejectReason.NOT_LIQUIDATABLE:
                LOG.warning("liquidating subaccount %s was refused: %s", subaccount_id, result.rejection.message)
        self.stats.submitted += len(targets)
        self.stats.accepted += accepted
        self.stats.refused += len(targets) - accepted
        return accepted
