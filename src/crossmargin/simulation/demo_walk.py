"""The demo market: a seeded, correlated random walk of every asset's price on a fixed time grid.

Each asset moves by its own profile (`ASSET_PROFILES`): a geometric random walk with a realistic
annual volatility (BTC 50%, ETH 65%, SOL 90%), rare jumps (a Poisson process of a few a year, each
a normal move of a few percent), and a share of one common market factor, so BTC, ETH and SOL move
together: asset i's shock is `loading_i x M + sqrt(1 - loading_i^2) x E_i` with M and E_i
independent standard normals (a one-factor Cholesky mix, always a valid correlation: returns of i
and j correlate by `loading_i x loading_j`, BTC/ETH 0.81, BTC/SOL and ETH/SOL 0.72). Stablecoins
stay near their start price with a tiny mean-reverting noise; USDC, the quote every market settles
in, stays exactly at its start price. An asset the table does not name walks like a mid-cap coin,
or like a stablecoin if its symbol contains USD.

The walk steps on a grid of `step_ms` from `start_ms`: the price at a grid point depends only on
the seed, the start prices and the point, never on when it is asked, so the same seed and the same
engine times give the same prices exactly. Levels are floats; each price is rounded once to 1e-8
USD (`quantize_price`), as in `price_paths.random_walk`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from crossmargin.core.numbers import WAD
from crossmargin.simulation.price_paths import MS_PER_YEAR, quantize_price


@dataclass(frozen=True, slots=True)
class AssetProfile:
    """How one asset's price moves: annual volatility, market-factor loading, jumps, or pinned noise.

    A pinned asset (`pinned=True`) reverts to its start price: its log-distance from it is an
    Ornstein-Uhlenbeck process with standard deviation `volatility` (a fraction, not annualised)
    and half-life `half_life_ms`; a zero volatility keeps it exactly at its start price.
    """

    volatility: float
    loading: float = 0.0
    jumps_per_year: float = 0.0
    jump_size: float = 0.0
    pinned: bool = False
    half_life_ms: int = 3_600_000


STABLE_PROFILE: Final = AssetProfile(volatility=0.0003, pinned=True)
"""A stablecoin wanders about 3 basis points around its peg, back within about an hour."""
COIN_PROFILE: Final = AssetProfile(volatility=0.80, loading=0.6, jumps_per_year=6, jump_size=0.05)
"""An asset the table does not name: a mid-cap coin."""
ASSET_PROFILES: Final = {
    "BTC": AssetProfile(volatility=0.50, loading=0.9, jumps_per_year=4, jump_size=0.03),
    "ETH": AssetProfile(volatility=0.65, loading=0.9, jumps_per_year=4, jump_size=0.04),
    "SOL": AssetProfile(volatility=0.90, loading=0.8, jumps_per_year=6, jump_size=0.05),
    "USDC": AssetProfile(volatility=0.0, pinned=True),
    "USDT": STABLE_PROFILE,
}
DEMO_STEP_MS: Final = 1_000


def profile_of(symbol: str) -> AssetProfile:
    """Return an asset's profile: from the table, else a stablecoin's if its symbol contains USD, else a coin's."""
    if symbol in ASSET_PROFILES:
        return ASSET_PROFILES[symbol]
    return STABLE_PROFILE if "USD" in symbol else COIN_PROFILE


class DemoWalk:
    """The seeded walk of every asset in `start_prices` (USD per unit, WAD), stepping every `step_ms`."""

    def __init__(
        self,
        start_prices: Mapping[str, int],
        *,
        seed: int,
        start_ms: int,
        step_ms: int = DEMO_STEP_MS,
        profiles: Mapping[str, AssetProfile] | None = None,
    ) -> None:
        if step_ms <= 0:
            raise ValueError(f"a walk steps forward: step_ms must be positive, not {step_ms}")
        if any(price <= 0 for price in start_prices.values()):
            raise ValueError("a walk starts from prices above zero")
        self.start_ms = start_ms
        self.step_ms = step_ms
        self.steps_taken = 0
        self._rng = random.Random(seed)  # noqa: S311 -- a seeded, reproducible walk, not a secret
        self._symbols = sorted(start_prices)
        self._profiles = {symbol: (profiles or {}).get(symbol) or profile_of(symbol) for symbol in self._symbols}
        self._anchors = {symbol: start_prices[symbol] / WAD for symbol in self._symbols}
        self._log_moves = dict.fromkeys(self._symbols, 0.0)
        self._prices = dict(start_prices)

    @property
    def prices(self) -> dict[str, int]:
        """Return the prices at the last step taken (the start prices before the first)."""
        return dict(self._prices)

    def step_due(self, now_ms: int) -> int:
        """Return the number of the last grid step at or before `now_ms` (0 before the first)."""
        return max((now_ms - self.start_ms) // self.step_ms, 0)

    def advance_to(self, now_ms: int) -> bool:
        """Take every step due at or before `now_ms`; return whether any was taken."""
        due = self.step_due(now_ms)
        if due <= self.steps_taken:
            return False
        while self.steps_taken < due:
            self._step()
            self.steps_taken += 1
        self._prices = {
            symbol: quantize_price(self._anchors[symbol] * math.exp(self._log_moves[symbol]))
            for symbol in self._symbols
        }
        return True

    def _step(self) -> None:
        # One fixed sequence of draws per step (the factor, then per asset in name order: its own
        # shock and its jump draw), so a step's outcome depends only on the seed and its number.
        gauss, uniform = self._rng.gauss, self._rng.random
        years = self.step_ms / MS_PER_YEAR
        market = gauss(0.0, 1.0)
        for symbol in self._symbols:
            profile = self._profiles[symbol]
            own, jump_draw = gauss(0.0, 1.0), uniform()
            if profile.pinned:
                decay = math.exp(-math.log(2) * self.step_ms / profile.half_life_ms)
                spread = profile.volatility * math.sqrt(1 - decay * decay)
                self._log_moves[symbol] = self._log_moves[symbol] * decay + spread * own
                continue
            shock = profile.loading * market + math.sqrt(1 - profile.loading**2) * own
            sigma = profile.volatility * math.sqrt(years)
            move = -sigma * sigma / 2 + sigma * shock
            if jump_draw < profile.jumps_per_year * years:
                move += profile.jump_size * gauss(0.0, 1.0)
            self._log_moves[symbol] += move
