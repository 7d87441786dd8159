"""Price paths for Monte-Carlo stress runs: a random walk with jumps, or returns bootstrapped from a file.

Both start every scenario at the same prices (step 0), so the population, generated from the
starting prices, is the same in every scenario; only the moves differ, by the scenario's seed.

- `jump_walk`: each step, every moving asset takes a geometric random-walk step (as
  `price_paths.random_walk`: annual volatility, one normal draw per asset and step, assets in name
  order) and, with probability `jump_probability`, every moving asset also jumps together by one
  market-wide log move drawn from a normal of mean `jump_mean` and deviation `jump_std` (crashes hit
  every coin at once, which is what empties an insurance fund). Levels are floats, each price
  rounded once to 1e-8 USD (`quantize_price`), so the same seed gives the same path on one platform.
- `bootstrap`: the step-to-step returns of a price file (`price_paths.load_csv`), resampled with
  replacement: each step draws one step of the file and moves every asset by that step's exact
  ratio (new = old x after // before, integers only), so moves that happened together stay together.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from crossmargin.core.numbers import WAD
from crossmargin.simulation.price_paths import MS_PER_YEAR, PricePathError, PriceStep, quantize_price


@dataclass(frozen=True, slots=True)
class JumpWalk:
    """The walk's shape: annual volatility, and market-wide jumps (chance per step, log-move mean and deviation)."""

    volatility: float = 0.8
    jump_probability: float = 0.02
    jump_mean: float = -0.05
    jump_std: float = 0.08

    def check(self) -> None:
        """Raise `PricePathError` naming a parameter that cannot shape a walk."""
        numbers = (self.volatility, self.jump_probability, self.jump_mean, self.jump_std)
        if not all(math.isfinite(number) for number in numbers):
            raise PricePathError("the walk's volatility and jump parameters must be finite numbers")
        if self.volatility < 0 or self.jump_std < 0:
            raise PricePathError("volatility and the jump deviation must be >= 0")
        if not 0 <= self.jump_probability <= 1:
            raise PricePathError(f"the jump probability per step is between 0 and 1, not {self.jump_probability}")


def jump_walk(
    start: Mapping[str, int],
    moving: Iterable[str],
    shape: JumpWalk,
    *,
    seed: int,
    steps: int,
    interval_ms: int,
    start_ms: int,
) -> list[PriceStep]:
    """Return a seeded geometric random walk with market-wide jumps (see the module docstring)."""
    shape.check()
    rng = random.Random(seed)  # noqa: S311 -- a seeded, reproducible path, not a secret
    sigma = shape.volatility * math.sqrt(interval_ms / MS_PER_YEAR)
    walking = sorted(set(moving) & set(start))
    levels = {symbol: start[symbol] / WAD for symbol in walking}
    prices = dict(start)
    path = [PriceStep(start_ms, tuple(sorted(prices.items())))]
    for index in range(1, steps + 1):
        jump = rng.gauss(shape.jump_mean, shape.jump_std) if rng.random() < shape.jump_probability else 0.0
        for symbol in walking:
            levels[symbol] *= math.exp(-sigma * sigma / 2 + sigma * rng.gauss(0.0, 1.0) + jump)
            prices[symbol] = quantize_price(levels[symbol])
        path.append(PriceStep(start_ms + index * interval_ms, tuple(sorted(prices.items()))))
    return path


def bootstrap(
    source: Sequence[PriceStep],
    start: Mapping[str, int],
    *,
    seed: int,
    steps: int,
    interval_ms: int,
    start_ms: int,
) -> list[PriceStep]:
    """Return `steps` steps from `start`, each moving every asset by one step of `source` drawn at random."""
    if len(source) < 2:
        raise PricePathError("bootstrapping needs a price file of at least two steps (one move)")
    rng = random.Random(seed)  # noqa: S311 -- a seeded, reproducible path, not a secret
    moves = [(dict(before.prices_wad), dict(after.prices_wad)) for before, after in pairwise(source)]
    prices = dict(start)
    path = [PriceStep(start_ms, tuple(sorted(prices.items())))]
    for index in range(1, steps + 1):
        before, after = moves[rng.randrange(len(moves))]
        for symbol, price in prices.items():
            if before.get(symbol) and after.get(symbol):
                prices[symbol] = max(price * after[symbol] // before[symbol], 1)
        path.append(PriceStep(start_ms + index * interval_ms, tuple(sorted(prices.items()))))
    return path
