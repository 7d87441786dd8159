"""The fund chart shows losses where they happen: before loss sharing the fund dips below zero, at each sharing step."""

from __future__ import annotations

from crossmargin.simulation.plots import fund_lines
from crossmargin.simulation.report import build_report
from crossmargin.simulation.runner import Simulation
from crossmargin.simulation.scenario import Scenario, prepare

CRASH = Scenario(seed=1, accounts=50, steps=30, shocks=("BTC=-50%",), shock_duration_ms=60_000)


def crashed() -> Simulation:
    simulation = prepare(CRASH)
    simulation.run()
    return simulation


def test_a_crash_that_shares_losses_shows_the_fund_below_zero_before_sharing() -> None:
    simulation = crashed()
    assert simulation.state.lend_index_cuts, "the scenario must cut a lend index"
    assert simulation.state.auto_deleverages, "the scenario must auto-deleverage"
    lines = fund_lines(simulation.samples)
    assert min(lines.values) >= 0, "after sharing, the fund itself stays at or above zero in this scenario"
    assert min(lines.before_sharing) < 0, "the series behind the chart goes below zero"
    assert lines.lend_index_cuts, "each lend-index cut is marked"
    assert lines.auto_deleverages, "each ADL is marked"
    first_mark = min(lines.lend_index_cuts + lines.auto_deleverages)
    assert all(value == 0 for value in lines.before_sharing[:first_mark]), "no deficit before the first sharing"
    assert lines.before_sharing[first_mark] < 0, "the dip starts where the loss is shared"


def test_what_sharing_covered_is_what_lenders_and_adl_counterparties_lost() -> None:
    simulation = crashed()
    last = simulation.samples[-1]
    assert last.fund_before_sharing_wad == last.fund_value_wad - simulation.loss_shared_wad
    borne = simulation.lender_loss_wad + simulation.adl_loss_wad
    assert simulation.adl_loss_wad > 0
    assert simulation.lender_loss_wad > 0
    rounding = borne - simulation.loss_shared_wad
    assert 0 <= rounding < 10**15, "lenders lose at least the debt forgiven, more by a few atoms (< 0.001 USD)"
    shared = build_report(simulation, {})["badDebt"]
    assert isinstance(shared, dict)
    assert shared["lossSharingSteps"] == simulation.loss_sharing_steps >= 1
    assert shared["fundMinBeforeLossSharingUsd"].startswith("-")


def test_a_run_without_sharing_has_no_marks_and_no_deficit() -> None:
    simulation = prepare(Scenario(seed=1, accounts=20, steps=5))
    simulation.run()
    lines = fund_lines(simulation.samples)
    assert lines.lend_index_cuts == lines.auto_deleverages == []
    assert lines.before_sharing == lines.values
    assert simulation.loss_shared_wad == 0
