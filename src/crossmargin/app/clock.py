"""Clocks: the wall clock for production and a manual clock for tests, demos and simulation.

Time is injected: the service asks its clock for `now_ms` before each command and never lets the
engine's time go back, even when the wall clock steps backwards. The manual clock moves only when
told to, forward only; the service then runs everything that fell due in between, in order (three
days at once charge 72 hourly interests, each at its own hour's rate).
"""

from __future__ import annotations

import math
import threading
import time


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
