"""A scenario: everything one run needs (path source, shocks, population, audit cadence), and running it.

The edges (the `crossmargin simulate` command, tests) fill a `Scenario`; `build_path` turns it into
price steps with the demo assets and markets, `prepare` into a ready `Simulation`. The demo starting
prices are the server's (`crossmargin serve --demo`); the random walk moves every asset but the
stablecoins. A shock starts at `shock_at_ms` after the start (by default a quarter into the path)
and ramps over `shock_duration_ms`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.assets import AssetSpec
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import parse_decimal
from crossmargin.market_config import parse_market_specs
from crossmargin.simulation.demo_walk import DemoWalk
from crossmargin.simulation.population import Market, generate_population
from crossmargin.simulation.price_paths import (
    PricePathError,
    PriceStep,
    apply_shock,
    flat_path,
    load_csv,
    parse_shock,
    random_walk,
)
from crossmargin.simulation.runner import Simulation

START_MS: Final = 1_767_225_600_000  # 2026-01-01 00:00 UTC, as the demo
START_PRICES: Final = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
STABLECOINS: Final = frozenset({"USDC", "USDT"})


@dataclass(frozen=True, slots=True)
class Scenario:
    """What to replay and with whom; see the module docstring for the defaults."""

    seed: int = 1
    accounts: int = 200
    steps: int = 100
    interval_ms: int = 60_000
    random_walk: bool = False
    demo_walk: bool = False
    volatility: float = 0.8
    prices_csv: Path | None = None
    shocks: tuple[str, ...] = ()
    shock_at_ms: int | None = None
    shock_duration_ms: int = 600_000
    audit_every: int = 0

    def settings(self) -> dict[str, object]:
        """Return the scenario as the report shows it (no machine paths: a CSV by its file name)."""
        source = "random walk" if self.random_walk else "demo walk" if self.demo_walk else "flat"
        if self.prices_csv is not None:
            source = f"CSV {self.prices_csv.name}"
        return {
            "seed": self.seed,
            "accounts": self.accounts,
            "pricePath": source,
            "steps": self.steps if self.prices_csv is None else None,
            "intervalMs": self.interval_ms if self.prices_csv is None else None,
            "volatility": self.volatility if self.random_walk else None,
            "shocks": list(self.shocks),
            "shockAtMs": self.shock_at_ms,
            "shockDurationMs": self.shock_duration_ms if self.shocks else None,
            "auditEvery": self.audit_every,
        }


def demo_markets() -> tuple[tuple[AssetSpec, ...], tuple[MarketSpec, ...]]:
    """Return the demo asset and market specs (`src/crossmargin/data/assets.toml`)."""
    document = load_document()
    specs = parse_asset_specs(document)
    return specs, parse_market_specs(document, specs)


def build_path(scenario: Scenario, specs: tuple[AssetSpec, ...]) -> list[PriceStep]:
    """Return the scenario's price steps: CSV, random walk or flat, then every shock."""
    if (scenario.prices_csv is not None) + scenario.random_walk + scenario.demo_walk > 1:
        raise PricePathError("choose one price source: a CSV file, --random-walk or --demo-walk, not two")
    listed = {spec.symbol for spec in specs}
    start = {symbol: parse_decimal(price, 18) for symbol, price in START_PRICES.items() if symbol in listed}
    if scenario.prices_csv is not None:
        path = load_csv(scenario.prices_csv, listed, start)
    elif scenario.random_walk:
        path = random_walk(
            start,
            listed - STABLECOINS,
            seed=scenario.seed,
            steps=scenario.steps,
            interval_ms=scenario.interval_ms,
            volatility=scenario.volatility,
            start_ms=START_MS,
        )
    elif scenario.demo_walk:
        path = demo_walk_path(start, seed=scenario.seed, steps=scenario.steps, interval_ms=scenario.interval_ms)
    else:
        path = flat_path(start, scenario.steps, scenario.interval_ms, START_MS)
    if len(path) < 2:
        raise PricePathError("the price path needs at least two steps: a start and one move")
    for text in scenario.shocks:
        begin, length = _shock_window(path, scenario)
        path = apply_shock(path, parse_shock(text), begin, length)
    return path


def demo_walk_path(start: Mapping[str, int], *, seed: int, steps: int, interval_ms: int) -> list[PriceStep]:
    """Return `steps` steps of the correlated demo walk `serve --prices demo` runs, from `start` (step 0)."""
    walk = DemoWalk(start, seed=seed, start_ms=START_MS, step_ms=interval_ms)
    path = [PriceStep(START_MS, tuple(sorted(start.items())))]
    for step in range(1, steps + 1):
        at_ms = START_MS + step * interval_ms
        walk.advance_to(at_ms)
        path.append(PriceStep(at_ms, tuple(sorted(walk.prices.items()))))
    return path


def _shock_window(path: list[PriceStep], scenario: Scenario) -> tuple[int, int]:
    """Return the step where shocks start and how many steps they ramp over."""
    first = path[0].at_ms
    offset = scenario.shock_at_ms if scenario.shock_at_ms is not None else (path[-1].at_ms - first) // 4
    begin = _first_step_at(path, first + offset)
    end = _first_step_at(path, path[begin].at_ms + scenario.shock_duration_ms)
    return begin, end - begin


def _first_step_at(path: list[PriceStep], at_ms: int) -> int:
    return next((index for index, step in enumerate(path) if step.at_ms >= at_ms), len(path) - 1)


def prepare(scenario: Scenario) -> Simulation:
    """Return a simulation ready to `run`: demo markets, the scenario's path and a seeded population."""
    if scenario.accounts < 0 or scenario.steps < 1 or scenario.interval_ms < 1 or scenario.audit_every < 0:
        raise ValueError("accounts must be >= 0, steps and the interval >= 1, and --audit-every >= 0")
    specs, markets = demo_markets()
    path = build_path(scenario, specs)
    return simulation_on(
        path, specs, markets, seed=scenario.seed, accounts=scenario.accounts, audit_every=scenario.audit_every
    )


def simulation_on(
    path: list[PriceStep],
    specs: tuple[AssetSpec, ...],
    markets: tuple[MarketSpec, ...],
    *,
    seed: int,
    accounts: int,
    audit_every: int = 0,
) -> Simulation:
    """Return a simulation of `path` with a population seeded by `seed`, generated at the path's starting prices."""
    market = Market(
        {spec.symbol: spec for spec in specs}, {spec.symbol: spec for spec in markets}, dict(path[0].prices_wad)
    )
    plans = generate_population(seed, accounts, market)
    return Simulation(specs, markets, path, plans, audit_every=audit_every)
