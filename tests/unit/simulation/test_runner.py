"""The runner: the sweep liquidates until nobody is left, and a broken invariant stops the run by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.core.commands import SetMarkPrices
from crossmargin.core.ledger import WORLD
from crossmargin.core.numbers import WAD
from crossmargin.simulation.demo_walk import DemoWalk
from crossmargin.simulation.population import Role
from crossmargin.simulation.price_paths import PricePathError
from crossmargin.simulation.runner import Simulation, SimulationError
from crossmargin.simulation.scenario import Scenario, build_path, demo_markets, prepare


def set_up(accounts: int = 30) -> Simulation:
    simulation = prepare(Scenario(seed=1, accounts=accounts, steps=4))
    simulation.set_up()
    return simulation


def test_set_up_creates_every_planned_subaccount_and_passes_the_audit() -> None:
    simulation = set_up()
    assert len(simulation.roles) == 30
    assert set(simulation.roles.values()) == set(Role)
    assert simulation.quoter is not None
    assert all(placed > 0 for placed in simulation.quoter.placed.values()), "the maker quotes every book"
    simulation.check("set-up")
    assert simulation.audits == 1
    assert len(simulation.samples) == 1


def test_a_crash_leaves_subaccounts_liquidatable_until_the_sweep_runs() -> None:
    simulation = set_up()
    simulation.execute(SetMarkPrices((("BTC", 30_000 * WAD), ("ETH", 1_500 * WAD), ("SOL", 75 * WAD))))
    with pytest.raises(SimulationError, match=r"after the sweep at the crash, subaccounts \[.+\] are still at MMR"):
        simulation.check("the crash")
    assert simulation.sweep() > 0
    assert simulation.liquidations > 0
    assert not simulation.liquidating
    simulation.check("after the sweep")


def test_a_failed_audit_stops_the_run_naming_the_invariant() -> None:
    simulation = set_up(accounts=6)
    simulation.state.ledger[WORLD, "USDC"] += 1
    with pytest.raises(SimulationError, match=r"the audit failed at step 3 \(time \d+\): INV-LEDGER-2: USDC"):
        simulation.check("step 3")


def test_a_run_records_one_sample_per_step_and_audits_as_asked() -> None:
    simulation = prepare(Scenario(seed=2, accounts=12, steps=6, random_walk=True, audit_every=2))
    done: list[int] = []
    simulation.run(done.append)
    assert done == [1, 2, 3, 4, 5, 6]
    assert len(simulation.samples) == 7, "the set-up, then every step"
    assert simulation.audits == 4, "steps 2, 4 and 6, and the end"
    assert [sample.at_ms for sample in simulation.samples] == [step.at_ms for step in simulation.path]


def test_a_csv_and_a_random_walk_together_are_refused() -> None:
    specs, _ = demo_markets()
    with pytest.raises(PricePathError, match="choose one price source"):
        build_path(Scenario(random_walk=True, prices_csv=Path("prices.csv")), specs)


def test_the_demo_walk_simulates_the_prices_serve_walks_for_the_same_seed() -> None:
    specs, _ = demo_markets()
    path = build_path(Scenario(seed=5, steps=30, interval_ms=60_000, demo_walk=True), specs)
    start = dict(path[0].prices_wad)
    walk = DemoWalk(start, seed=5, start_ms=path[0].at_ms, step_ms=60_000)
    walk.advance_to(path[-1].at_ms)
    assert dict(path[-1].prices_wad) == walk.prices, "the same seed, start and grid give serve's prices exactly"
    assert len(path) == 31
    assert path[1].price("BTC") != path[0].price("BTC"), "BTC moves from the first step"
    with pytest.raises(PricePathError, match="choose one price source"):
        build_path(Scenario(demo_walk=True, random_walk=True), specs)
    assert Scenario(demo_walk=True).settings()["pricePath"] == "demo walk"
    simulation = prepare(Scenario(seed=5, accounts=8, steps=4, demo_walk=True))
    simulation.run(lambda _step: None)
    assert len(simulation.samples) == 5, "the set-up, then every step of the walk"


def test_shocks_start_a_quarter_in_by_default_and_ramp_over_their_duration() -> None:
    specs, _ = demo_markets()
    path = build_path(Scenario(steps=100, interval_ms=60_000, shocks=("BTC=-30%",)), specs)
    btc = [step.price("BTC") for step in path]
    assert btc[25] == 60_000 * WAD
    assert btc[26] < btc[25]
    assert btc[35] == 42_000 * WAD, "ten one-minute steps of the default 10m ramp"
    assert btc[35:] == [42_000 * WAD] * 66
