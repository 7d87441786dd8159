"""Clocks: the wall clock for production, an accelerated one for demos, a manual one for tests.

Time is injected: the service asks its clock for `now_ms` before each command and never lets the
engine's time go back, even when the wall clock steps backwards. The manual clock moves only when
told to, forward only; the service then runs everything that fell due in between, in order (three
days at once charge 72 hourly interests, each at its own hour's rate). Between two advances each
command still runs at its own millisecond, one after the engine's time, and the service moves the
manual clock along with it (`catch_up`), so the clock always reads the engine's time and an
advance of 90 seconds lands 90 seconds after the time a client last read. The accelerated clock runs
`factor` times as fast as the wall clock from the moment it starts (`accelerated:60`: an engine
hour per wall minute); whatever waits on engine time (the scheduler, the price feed) sleeps the
engine duration divided by `clock_rate(clock)`.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Final

from crossmargin.app.ports import Clock


class WallClock:
    """The system's real-time clock."""

    def now_ms(self) -> int:
        """Return the current wall-clock time in milliseconds since the Unix epoch."""
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only forward, and only when told to; safe to share between threads."""

    def __init__(self, start_ms: int = 0) -> None:
        if start_ms < 0:
            raise ValueError("a clock starts at or after the Unix epoch")
        self._now_ms = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the clock's current time in milliseconds."""
        return self._now_ms

    def advance(self, seconds: float) -> int:
        """Move the clock forward by `seconds` (to the millisecond) and return the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a manual clock only moves forward; cannot advance by {seconds} seconds")
        with self._lock:
            self._now_ms += round(seconds * 1000)
            return self._now_ms

    def advance_to(self, now_ms: int) -> int:
        """Move the clock forward to `now_ms` and return it; moving it back is refused."""
        with self._lock:
            if now_ms < self._now_ms:
                raise ValueError(f"a manual clock never goes back: {now_ms} is before {self._now_ms}")
            self._now_ms = now_ms
            return self._now_ms

    def catch_up(self, now_ms: int) -> int:
        """Move the clock forward to `now_ms` if it is behind (a command ran later); never back; return its time."""
        with self._lock:
            self._now_ms = max(self._now_ms, now_ms)
            return self._now_ms


ACCELERATION_MAX: Final = 1_000_000
"""An accelerated clock runs at most a million times as fast as the wall clock (11.6 days a second)."""


class AcceleratedClock:
    """Engine time that runs `factor` times as fast as the wall clock, from `start_ms` at creation."""

    def __init__(self, factor: float, start_ms: int | None = None) -> None:
        if not math.isfinite(factor) or not 0 < factor <= ACCELERATION_MAX:
            raise ValueError(f"an accelerated clock runs more than 0 and at most {ACCELERATION_MAX} times as fast")
        self.factor = factor
        self._origin_ms = WallClock().now_ms() if start_ms is None else start_ms
        self._started_ns = time.monotonic_ns()
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the engine time: the start plus `factor` times the wall time elapsed since."""
        elapsed_ns = time.monotonic_ns() - self._started_ns
        return self._origin_ms + int(elapsed_ns * self.factor) // 1_000_000

    def advance_to(self, now_ms: int) -> int:
        """Move the clock forward to `now_ms` (a journal that ran ahead of it) and run on from there."""
        with self._lock:
            if now_ms > self.now_ms():
                self._origin_ms = now_ms
                self._started_ns = time.monotonic_ns()
            return self.now_ms()


def clock_rate(clock: Clock) -> float:
    """Return how many engine seconds pass per wall second: an accelerated clock's factor, else 1."""
    return clock.factor if isinstance(clock, AcceleratedClock) else 1.0


def parse_clock(text: str) -> str:
    """Check a `--clock` choice: `wall`, `manual` or `accelerated:N` with N a positive number; return it."""
    if text in {"wall", "manual"}:
        return text
    kind, colon, factor = text.partition(":")
    if kind == "accelerated" and colon:
        try:
            rate = float(factor)
        except ValueError:
            rate = math.nan
        if math.isfinite(rate) and 0 < rate <= ACCELERATION_MAX:
            return f"accelerated:{factor}"
    raise ValueError(
        f"{text!r} is not a clock: write wall, manual or accelerated:N, where N (more than 0, at most "
        f"{ACCELERATION_MAX}) is how many times as fast as the wall clock engine time runs, e.g. accelerated:60"
    )


def open_clock(choice: str, start_ms: int | None = None) -> WallClock | ManualClock | AcceleratedClock:
    """Return the clock a `parse_clock` choice names, starting at `start_ms` (default: the wall clock's now)."""
    start = WallClock().now_ms() if start_ms is None else start_ms
    if choice == "wall":
        return WallClock()
    if choice == "manual":
        return ManualClock(start)
    return AcceleratedClock(float(parse_clock(choice).partition(":")[2]), start)
