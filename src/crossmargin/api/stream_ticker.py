"""The 24-hour rolling statistics of one market's fills, kept in O(1) amortized per fill.

Fills arrive in time order. The window keeps them in a deque and drops those older than 24 hours;
the high and the low are the fronts of two monotonic deques (each fill enters and leaves each
deque once), so no update ever rescans the day's fills.
"""

from __future__ import annotations

from collections import deque
from typing import Final, NamedTuple

from crossmargin.api.stream_messages import TickerStats

WINDOW_MS: Final = 24 * 3_600_000


class _Entry(NamedTuple):
    serial: int
    at_ms: int
    price_wad: int
    base_atoms: int
    quote_atoms: int


class TickerWindow:
    """The fills of the last 24 hours of one market."""

    __slots__ = ("_base", "_entries", "_highs", "_lows", "_next", "_quote")

    def __init__(self) -> None:
        self._entries: deque[_Entry] = deque()
        self._highs: deque[_Entry] = deque()
        self._lows: deque[_Entry] = deque()
        self._next = 0
        self._base = 0
        self._quote = 0

    def add(self, at_ms: int, price_wad: int, base_atoms: int, quote_atoms: int) -> None:
        """Count one fill (fills come in time order)."""
        entry = _Entry(self._next, at_ms, price_wad, base_atoms, quote_atoms)
        self._next += 1
        self._entries.append(entry)
        self._base += base_atoms
        self._quote += quote_atoms
        while self._highs and self._highs[-1].price_wad <= price_wad:
            self._highs.pop()
        self._highs.append(entry)
        while self._lows and self._lows[-1].price_wad >= price_wad:
            self._lows.pop()
        self._lows.append(entry)

    def expire(self, now_ms: int) -> None:
        """Forget the fills that are 24 hours old or older at `now_ms`."""
        while self._entries and self._entries[0].at_ms <= now_ms - WINDOW_MS:
            gone = self._entries.popleft()
            self._base -= gone.base_atoms
            self._quote -= gone.quote_atoms
            if self._highs[0].serial == gone.serial:
                self._highs.popleft()
            if self._lows[0].serial == gone.serial:
                self._lows.popleft()

    def stats(self) -> TickerStats | None:
        """Return the window's statistics, or None when it holds no fill."""
        if not self._entries:
            return None
        return TickerStats(
            open_wad=self._entries[0].price_wad,
            close_wad=self._entries[-1].price_wad,
            high_wad=self._highs[0].price_wad,
            low_wad=self._lows[0].price_wad,
            base_atoms=self._base,
            quote_atoms=self._quote,
            trades=len(self._entries),
        )
