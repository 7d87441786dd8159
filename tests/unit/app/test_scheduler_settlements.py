"""Under the wall clock the scheduler also ticks when a 10-second settlement falls due."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from crossmargin.app.clock import ManualClock
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.core.commands import Command, Tick
from crossmargin.core.engine import Accepted, Rejected

HOUR_MS = 3_600_000
START_MS = 10 * HOUR_MS + 5_000


class Recorder:
    """A fake `Service.submit` that records each command with the clock's time."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.submitted: list[tuple[Command, int]] = []
        self.event = threading.Event()

    def __call__(self, command: Command) -> Future[Accepted | Rejected]:
        self.submitted.append((command, self.clock.now_ms()))
        self.event.set()
        future: Future[Accepted | Rejected] = Future()
        future.set_result(Accepted(()))
        return future


class Due:
    """A fake `settlement_due_ms` read: what the state would say, and how often it was asked."""

    def __init__(self, due_ms: int | None) -> None:
        self.due_ms = due_ms
        self.reads = 0

    def __call__(self) -> int | None:
        self.reads += 1
        return self.due_ms


def test_a_due_settlement_is_ticked_once_and_not_before() -> None:
    clock = ManualClock(START_MS)
    submit, due = Recorder(clock), Due(10 * HOUR_MS + 10_000)
    scheduler = HourlyScheduler(submit, clock, settlement_due_ms=due, settlement_poll_seconds=0.5)
    assert scheduler.poll() == 0.5, "it polls again after at most the poll interval"
    clock.advance(4.9)
    assert scheduler.poll() == 0.1, "it wakes exactly when the settlement falls due, if that is sooner"
    assert submit.submitted == []
    clock.advance(0.1)
    assert scheduler.poll() == 0
    assert submit.submitted == [(Tick(), 10 * HOUR_MS + 10_000)]
    clock.advance(1)
    scheduler.poll()
    assert len(submit.submitted) == 1, "the same due settlement is ticked once, even before the Tick has run"
    due.due_ms = 10 * HOUR_MS + 20_000
    clock.advance(9)
    scheduler.poll()
    assert [at for _, at in submit.submitted] == [10 * HOUR_MS + 10_000, 10 * HOUR_MS + 20_000]
    assert scheduler.settlement_ticks_submitted == 2


def test_nothing_due_waits_for_the_hour_in_bounded_steps() -> None:
    clock = ManualClock(START_MS)
    submit, due = Recorder(clock), Due(None)
    scheduler = HourlyScheduler(submit, clock, settlement_due_ms=due, settlement_poll_seconds=1.0)
    assert scheduler.poll() == 1.0
    clock.advance_to(11 * HOUR_MS - 300)
    assert scheduler.poll() == 0.3
    clock.advance_to(11 * HOUR_MS)
    scheduler.poll()
    assert submit.submitted == [(Tick(), 11 * HOUR_MS)]
    assert scheduler.settlement_ticks_submitted == 0
    assert due.reads == 2, "the hour's tick needs no settlement lookup"


def test_without_a_settlement_reader_only_the_hour_ticks() -> None:
    clock = ManualClock(START_MS)
    submit = Recorder(clock)
    scheduler = HourlyScheduler(submit, clock, poll_seconds_max=60)
    assert scheduler.poll() == 60
    clock.advance_to(11 * HOUR_MS - 2_000)
    assert scheduler.poll() == 2
    assert submit.submitted == []


def test_the_thread_ticks_a_settlement_that_falls_due() -> None:
    clock = ManualClock(START_MS)
    submit, due = Recorder(clock), Due(10 * HOUR_MS + 10_000)
    scheduler = HourlyScheduler(submit, clock, settlement_due_ms=due, settlement_poll_seconds=0.01)
    scheduler.start()
    try:
        clock.advance(5)
        assert submit.event.wait(timeout=10), "the scheduler notices the due settlement"
    finally:
        scheduler.stop()
    assert submit.submitted[0] == (Tick(), 10 * HOUR_MS + 10_000)
    assert scheduler.settlement_ticks_submitted == 1
