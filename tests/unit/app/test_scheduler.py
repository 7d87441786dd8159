"""The wall-clock scheduler submits a Tick once per full hour, and only then."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.core.commands import Command, Tick
from crossmargin.core.engine import Accepted, Rejected

HOUR_MS = 3_600_000


class FastClock:
    """A clock that runs an hour every 50 ms of real time, starting half an hour before a full hour."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def now_ms(self) -> int:
        return 10 * HOUR_MS - HOUR_MS // 2 + int((time.monotonic() - self.started) * 72_000_000)


def test_one_tick_is_submitted_per_full_hour() -> None:
    clock = FastClock()
    submitted: list[tuple[Command, int]] = []
    three_hours = threading.Event()

    def submit(command: Command) -> Future[Accepted | Rejected]:
        submitted.append((command, clock.now_ms()))
        if len(submitted) == 3:
            three_hours.set()
        future: Future[Accepted | Rejected] = Future()
        future.set_result(Accepted(()))
        return future

    scheduler = HourlyScheduler(submit, clock, poll_seconds_max=0.002)
    scheduler.start()
    assert three_hours.wait(timeout=10), "three hours of the fast clock pass within 10 s"
    scheduler.stop()
    hours = [at_ms // HOUR_MS for _, at_ms in submitted[:3]]
    assert hours == [10, 11, 12], "one tick just after each full hour, none skipped or repeated"
    assert all(command == Tick() for command, _ in submitted)
    assert scheduler.ticks_submitted == len(submitted)


def test_a_stopped_scheduler_submits_nothing() -> None:
    calls: list[Command] = []

    def submit(command: Command) -> Future[Accepted | Rejected]:
        calls.append(command)
        return Future()

    class FrozenClock:
        def now_ms(self) -> int:
            return 5 * HOUR_MS + 1

    scheduler = HourlyScheduler(submit, FrozenClock())
    scheduler.start()
    scheduler.stop()
    assert calls == []
