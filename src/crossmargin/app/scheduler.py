"""Scheduler: on a flowing clock (wall or accelerated), submit a Tick when work falls due, so it happens on time.

Every command already runs what fell due before it (hourly interest and funding, 10-second perp
settlements), so correctness never depends on the scheduler; it makes that work happen on time
even when no command arrives, so that reads (balances, history) show it promptly. It ticks just
after every full hour, and, given a way to read the state's `settlement_due_ms`, when a
settlement falls due: it reads that value at most every `settlement_poll_seconds` (a cheap
lookup, never a busy loop) and submits one Tick per due value. On an accelerated clock it sleeps
the engine time to wait divided by the clock's factor (`clock_rate`), so every hour still gets its
own Tick, in order. On the manual clock
`Service.advance_clock` does the same job and no scheduler runs. While the service refuses
commands during a journal fault, it tries again every `FAULT_RETRY_SECONDS`, and the Tick it
could not submit is submitted once the service is back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Final

from crossmargin.app.clock import clock_rate
from crossmargin.app.faults import FAULT_RETRY_SECONDS, ServiceFailedError, ServiceUnavailableError
from crossmargin.app.ports import Clock
from crossmargin.core.commands import Command, Tick
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.interest import next_hour_ms

SLEEP_SECONDS_MAX: Final = 60.0
SETTLEMENT_POLL_SECONDS: Final = 1.0


class HourlyScheduler:
    """A daemon thread that submits `Tick()` after every full hour and when a settlement falls due."""

    def __init__(
        self,
        submit: Callable[[Command], Future[Accepted | Rejected]],
        clock: Clock,
        *,
        poll_seconds_max: float = SLEEP_SECONDS_MAX,
        settlement_due_ms: Callable[[], int | None] | None = None,
        settlement_poll_seconds: float = SETTLEMENT_POLL_SECONDS,
    ) -> None:
        self._submit = submit
        self._clock = clock
        self._rate = clock_rate(clock)
        self._poll_seconds_max = poll_seconds_max
        self._settlement_due_ms = settlement_due_ms
        self._settlement_poll_seconds = settlement_poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-scheduler", daemon=True)
        self._hour_due_ms = next_hour_ms(clock.now_ms())
        self._settlement_ticked_ms: int | None = None
        self.ticks_submitted = 0
        self.settlement_ticks_submitted = 0

    @property
    def worker_name(self) -> str:
        """Return the name the metrics and the status give this worker."""
        return "scheduler"

    @property
    def running(self) -> bool:
        """Return whether the thread runs (False before `start`, after `stop`, and once an error ended it)."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def poll(self) -> float:
        """Submit a Tick if an hour or a settlement is due; return the wall seconds to wait before the next poll."""
        now_ms = self._clock.now_ms()
        if now_ms >= self._hour_due_ms:
            self._submit(Tick())
            self.ticks_submitted += 1
            self._hour_due_ms = next_hour_ms(now_ms)
            return 0.0
        wait_ms = self._hour_due_ms - now_ms
        if self._settlement_due_ms is None:
            return min(wait_ms / 1000 / self._rate, self._poll_seconds_max)
        due_ms = self._settlement_due_ms()
        if due_ms is not None and due_ms <= now_ms and due_ms != self._settlement_ticked_ms:
            # One Tick per due value: the next settlement, once this one runs, is due at a later boundary.
            self._submit(Tick())
            self._settlement_ticked_ms = due_ms
            self.ticks_submitted += 1
            self.settlement_ticks_submitted += 1
            return 0.0
        if due_ms is not None and due_ms > now_ms:
            wait_ms = min(wait_ms, due_ms - now_ms)
        return min(wait_ms / 1000 / self._rate, self._poll_seconds_max, self._settlement_poll_seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                seconds = self.poll()
            except ServiceFailedError:
                return  # the service is going away; it logged why
            except ServiceUnavailableError:
                seconds = FAULT_RETRY_SECONDS  # a journal fault: what was due is submitted once it is over
            if seconds > 0:
                # Sleep in bounded steps so a clock that jumps (suspend, NTP) is noticed soon.
                self._stop.wait(seconds)
