"""Scheduler: on the wall clock, submit a Tick at every full hour so interest is charged on time.

Every command already charges the hours that fell due before it, so correctness never depends on
the scheduler; it makes the charge happen on the hour even when no command arrives, so that reads
(balances, history) show the hour's interest promptly. On the manual clock `Service.advance_clock`
does the same job and no scheduler runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Final

from crossmargin.app.ports import Clock
from crossmargin.core.commands import Command, Tick
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.interest import next_hour_ms

SLEEP_SECONDS_MAX: Final = 60.0


class HourlyScheduler:
    """A daemon thread that submits `Tick()` just after every full hour of the clock."""

    def __init__(
        self,
        submit: Callable[[Command], Future[Accepted | Rejected]],
        clock: Clock,
        *,
        poll_seconds_max: float = SLEEP_SECONDS_MAX,
    ) -> None:
        self._submit = submit
        self._clock = clock
        self._poll_seconds_max = poll_seconds_max
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-scheduler", daemon=True)
        self.ticks_submitted = 0

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        due_ms = next_hour_ms(self._clock.now_ms())
        while not self._stop.is_set():
            remaining_ms = due_ms - self._clock.now_ms()
            if remaining_ms > 0:
                # Sleep in bounded steps so a clock that jumps (suspend, NTP) is noticed soon.
                self._stop.wait(min(remaining_ms / 1000, self._poll_seconds_max))
                continue
            self._submit(Tick())
            self.ticks_submitted += 1
            due_ms = next_hour_ms(self._clock.now_ms())
