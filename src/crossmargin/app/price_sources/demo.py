"""`--prices demo`: the seeded correlated random walk of `simulation/demo_walk.py`, on the engine clock.

Asked at an engine time, it takes every grid step due by then and returns every asset's price, or
None while no step has fallen due (a manual clock that has not moved).
"""

from __future__ import annotations

from collections.abc import Mapping

from crossmargin.simulation.demo_walk import DEMO_STEP_MS, DemoWalk


class DemoPriceSource:
    """A `PriceSource` walking from `start_prices` (WAD) from engine time `start_ms`, seeded by `seed`."""

    def __init__(
        self, start_prices: Mapping[str, int], *, seed: int, start_ms: int, step_ms: int = DEMO_STEP_MS
    ) -> None:
        self.seed = seed
        self._walk = DemoWalk(start_prices, seed=seed, start_ms=start_ms, step_ms=step_ms)
        self._closed = False

    @property
    def name(self) -> str:
        """Return `demo (seed N)`."""
        return f"demo (seed {self.seed})"

    def prices_at(self, now_ms: int) -> dict[str, int] | None:
        """Return every asset's price at the last grid step by `now_ms`, or None when no step fell due."""
        if self._closed or not self._walk.advance_to(now_ms):
            return None
        return self._walk.prices

    def close(self) -> None:
        """Stop answering."""
        self._closed = True
