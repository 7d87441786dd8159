"""`--prices FILE`: replay a `timestamp,symbol,price` CSV (the format `simulate --prices` reads).

The file's times are mapped onto the engine clock in one of two ways:

- **relative** (the default, since a historical file lies in the past): the first row applies at
  the engine time the server starts at, and each later row as much later as the file says; on
  `--clock accelerated:N` the file plays N times as fast.
- **absolute**: each row applies once the engine time reaches its timestamp; the rows already past
  at start apply at once (the latest price of each asset), the rest as their time comes.

Asked at an engine time, the source returns the prices set by every row that fell due since the
last call (the latest per asset), or None. After the last row it returns None: prices stay where
the file left them (and go stale if a price age limit is set). CSV only: Parquet needs pyarrow,
which crossmargin does not install.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Self

from crossmargin.simulation.price_paths import read_csv_rows


class FileReplay:
    """A `PriceSource` replaying time-ordered price groups, shifted by `offset_ms` onto the engine clock."""

    def __init__(self, label: str, groups: list[tuple[int, dict[str, int]]], *, offset_ms: int) -> None:
        self._label = label
        self._groups = groups
        self._offset_ms = offset_ms
        self._next = 0

    @classmethod
    def open(cls, path: Path, listed: Iterable[str], *, start_ms: int, absolute: bool) -> Self:
        """Read `path` (refusing its first bad row); replay it from `start_ms`, or at its own times if `absolute`."""
        groups = read_csv_rows(path, listed)
        offset_ms = 0 if absolute else start_ms - groups[0][0]
        return cls(f"file {path.name} ({'absolute' if absolute else 'relative'} times)", groups, offset_ms=offset_ms)

    @property
    def name(self) -> str:
        """Return `file NAME (relative times)` or `(absolute times)`."""
        return self._label

    @property
    def rows_left(self) -> int:
        """Return how many time groups of the file are still to come."""
        return len(self._groups) - self._next

    def prices_at(self, now_ms: int) -> dict[str, int] | None:
        """Return the prices of every group due by `now_ms` since the last call (the latest per asset), or None."""
        due: dict[str, int] = {}
        while self._next < len(self._groups) and self._groups[self._next][0] + self._offset_ms <= now_ms:
            due.update(self._groups[self._next][1])
            self._next += 1
        return due or None

    def close(self) -> None:
        """Replay nothing more."""
        self._next = len(self._groups)
