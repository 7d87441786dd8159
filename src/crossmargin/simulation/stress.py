"""Monte-Carlo stress: many seeded price paths over one population, each through the simulation's runner.

A `StressSpec` names the base seed, the number of scenarios, the population and the path's shape;
scenario `i` runs with the seed `scenario_seed(base, i)` (a hash of the two, never of the worker or
the order that ran it), so every executor (serial, processes, Ray) gets the same outcome for the
same scenario. The population is generated once per scenario from the base seed at the common
starting prices, hence the same in all of them; only the price path differs.

Each run is reduced to a `ScenarioOutcome` of exact integers (USD values in WAD, counts), the only
thing that travels back from a worker; the report re-runs the worst scenario (`replay`) to draw its
paths, which is cheaper than shipping every scenario's samples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from crossmargin.core.events import BorrowLendEventType
from crossmargin.core.numbers import parse_decimal
from crossmargin.simulation.price_paths import PriceStep
from crossmargin.simulation.report import AUTO_BORROW_SOURCES
from crossmargin.simulation.runner import Simulation
from crossmargin.simulation.scenario import STABLECOINS, START_MS, START_PRICES, demo_markets, simulation_on
from crossmargin.simulation.stress_paths import JumpWalk, bootstrap, jump_walk

SEED_DOMAIN: Final = b"crossmargin-stress"


@dataclass(frozen=True, slots=True)
class StressSpec:
    """What a stress run replays: `scenarios` paths of `steps` steps over `accounts` generated subaccounts.

    `source` (the steps of a price file) makes every path a bootstrap of its returns; otherwise each
    path is a `JumpWalk`. `source_name` is how the report names the file (no machine paths).
    """

    seed: int = 1
    scenarios: int = 100
    accounts: int = 100
    steps: int = 100
    interval_ms: int = 60_000
    walk: JumpWalk = field(default_factory=JumpWalk)
    source: tuple[PriceStep, ...] | None = None
    source_name: str | None = None
    audit_every: int = 0

    def check(self) -> None:
        """Raise ValueError naming a setting that cannot run."""
        if self.scenarios < 1 or self.accounts < 0 or self.steps < 1 or self.interval_ms < 1 or self.audit_every < 0:
            raise ValueError("scenarios and steps must be >= 1, accounts and --audit-every >= 0, the interval >= 1")
        if self.source is None:
            self.walk.check()

    def settings(self) -> dict[str, object]:
        """Return the run's settings as the report shows them."""
        walk = self.source is None
        return {
            "seed": self.seed,
            "scenarios": self.scenarios,
            "accounts": self.accounts,
            "steps": self.steps,
            "intervalMs": self.interval_ms,
            "pricePath": "random walk with jumps" if walk else f"bootstrap of {self.source_name}",
            "volatility": self.walk.volatility if walk else None,
            "jumpProbabilityPerStep": self.walk.jump_probability if walk else None,
            "jumpMean": self.walk.jump_mean if walk else None,
            "jumpStd": self.walk.jump_std if walk else None,
            "auditEvery": self.audit_every,
            "scenarioSeeds": "sha256(crossmargin-stress:seed:index), first 8 bytes",
        }


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """One scenario's result, in exact integers: USD values are WAD (1e18 per dollar), the rest counts."""

    index: int
    seed: int
    bad_debt_wad: int
    fund_drawdown_wad: int
    fund_deficit_before_sharing_wad: int
    lender_loss_wad: int
    adl_loss_wad: int
    uncovered_wad: int
    lend_index_cuts: int
    auto_deleverages: int
    liquidations: int
    backstops: int
    auto_borrows: int
    auto_borrowed_usdc_atoms: int
    commands: int


def scenario_seed(base: int, index: int) -> int:
    """Return scenario `index`'s seed: the first 8 bytes of sha256(domain:base:index), as an integer."""
    digest = hashlib.sha256(SEED_DOMAIN + f":{base}:{index}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big")


def scenario_path(spec: StressSpec, index: int) -> list[PriceStep]:
    """Return scenario `index`'s price path (the common start, then the seeded moves)."""
    specs, _ = demo_markets()
    listed = {asset.symbol for asset in specs}
    start = {symbol: parse_decimal(price, 18) for symbol, price in START_PRICES.items() if symbol in listed}
    seed = scenario_seed(spec.seed, index)
    timing = {"seed": seed, "steps": spec.steps, "interval_ms": spec.interval_ms, "start_ms": START_MS}
    if spec.source is not None:
        return bootstrap(spec.source, start, **timing)
    return jump_walk(start, listed - STABLECOINS, spec.walk, **timing)


def replay(spec: StressSpec, index: int) -> Simulation:
    """Run scenario `index` and return the finished simulation (its samples, state and counters)."""
    specs, markets = demo_markets()
    path = scenario_path(spec, index)
    simulation = simulation_on(
        path, specs, markets, seed=spec.seed, accounts=spec.accounts, audit_every=spec.audit_every
    )
    simulation.run()
    return simulation


def run_scenario(spec: StressSpec, index: int) -> ScenarioOutcome:
    """Run scenario `index` and reduce it to its outcome."""
    return outcome_of(replay(spec, index), index, scenario_seed(spec.seed, index))


def run_chunk(spec: StressSpec, indices: Sequence[int]) -> list[ScenarioOutcome]:
    """Run the scenarios `indices`, one after another: what one worker task carries."""
    return [run_scenario(spec, index) for index in indices]


def outcome_of(simulation: Simulation, index: int, seed: int) -> ScenarioOutcome:
    """Reduce a finished run to exact figures (see `ScenarioOutcome`)."""
    samples = simulation.samples
    peak, drawdown = samples[0].fund_value_wad, 0
    for sample in samples:
        peak = max(peak, sample.fund_value_wad)
        drawdown = max(drawdown, peak - sample.fund_value_wad)
    uncovered = max(-samples[-1].fund_value_wad, 0)
    auto = [
        movement
        for movement in simulation.state.movements
        if movement.event_type is BorrowLendEventType.BORROW and movement.source.value in AUTO_BORROW_SOURCES
    ]
    return ScenarioOutcome(
        index=index,
        seed=seed,
        bad_debt_wad=simulation.lender_loss_wad + simulation.adl_loss_wad + uncovered,
        fund_drawdown_wad=drawdown,
        fund_deficit_before_sharing_wad=max(-min(sample.fund_before_sharing_wad for sample in samples), 0),
        lender_loss_wad=simulation.lender_loss_wad,
        adl_loss_wad=simulation.adl_loss_wad,
        uncovered_wad=uncovered,
        lend_index_cuts=len(simulation.state.lend_index_cuts),
        auto_deleverages=len(simulation.state.auto_deleverages),
        liquidations=simulation.liquidations,
        backstops=len(simulation.state.backstops),
        auto_borrows=len(auto),
        auto_borrowed_usdc_atoms=sum(movement.quantity_atoms for movement in auto if movement.symbol == "USDC"),
        commands=simulation.commands,
    )


def worst(outcomes: Sequence[ScenarioOutcome]) -> ScenarioOutcome:
    """Return the worst scenario: most bad debt, then deepest fund deficit before sharing, then lowest index."""
    return max(outcomes, key=lambda item: (item.bad_debt_wad, item.fund_deficit_before_sharing_wad, -item.index))
