"""`crossmargin simulate`: run a stress scenario with a progress bar and write its report.

It builds a `Scenario` from the arguments, runs it through the engine (`crossmargin.simulation`),
writes `report.json`, the PNG plots and `report.html` into `--out`, and prints the headline
figures. A bad argument or price file, or a failed audit, ends with `error: ...` and status 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossmargin.cli.durations import parse_duration
from crossmargin.simulation.plots import write_plots
from crossmargin.simulation.report import JSON, build_report, write_html, write_json
from crossmargin.simulation.runner import Simulation, SimulationError
from crossmargin.simulation.scenario import Scenario, prepare


def scenario_from(arguments: argparse.Namespace) -> Scenario:
    """Return the scenario the arguments describe; raise ValueError naming a bad one."""
    shock_at = arguments.shock_at
    return Scenario(
        seed=arguments.seed,
        accounts=arguments.accounts,
        steps=arguments.steps,
        interval_ms=parse_duration(arguments.interval) * 1_000,
        random_walk=arguments.random_walk,
        demo_walk=arguments.demo_walk,
        volatility=arguments.volatility,
        prices_csv=arguments.prices,
        shocks=tuple(arguments.shock),
        shock_at_ms=parse_duration(shock_at) * 1_000 if shock_at is not None else None,
        shock_duration_ms=parse_duration(arguments.shock_duration) * 1_000,
        audit_every=arguments.audit_every,
    )


def run_simulate(arguments: argparse.Namespace, console: Console) -> int:
    """Run `crossmargin simulate`; return the exit status."""
    errors = Console(stderr=True)
    try:
        scenario = scenario_from(arguments)
        simulation = prepare(scenario)
        _run_with_progress(simulation, console)
    except (ValueError, SimulationError) as error:  # PricePathError is a ValueError
        errors.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        return 1
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    report = build_report(simulation, scenario.settings())
    write_json(report, out / "report.json")
    images = write_plots(simulation.samples, out, simulation.state.specs["USDC"].unit_atoms)
    write_html(report, images, out / "report.html")
    _summary(console, report)
    console.print(f"Report: {out / 'report.html'} (and report.json, {len(images)} PNG plots)", soft_wrap=True)
    return 0


def _run_with_progress(simulation: Simulation, console: Console) -> None:
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("steps", total=len(simulation.path) - 1)
        simulation.run(lambda done: progress.update(task, completed=done))


def _summary(console: Console, report: JSON) -> None:
    liquidations, fund, bad_debt = report["liquidations"], report["insuranceFund"], report["badDebt"]
    assert isinstance(liquidations, dict), "build_report writes sections as dicts"
    assert isinstance(fund, dict), "build_report writes sections as dicts"
    assert isinstance(bad_debt, dict), "build_report writes sections as dicts"
    table = Table(title="Stress simulation", show_header=False)
    table.add_row("commands", str(report["commands"]))
    table.add_row("liquidations (subaccounts, steps, backstops)", _liquidation_line(liquidations))
    table.add_row("insurance fund at the end (USD)", str(fund["finalValueUsd"]))
    table.add_row("lend-index cuts, auto-deleverages", f"{bad_debt['lendIndexCuts']}, {bad_debt['autoDeleverages']}")
    table.add_row("loss left with the fund (USD)", str(bad_debt["uncoveredByFundUsd"]))
    table.add_row("audit", "passed")
    console.print(table)


def _liquidation_line(liquidations: dict[str, object]) -> str:
    return f"{liquidations['subaccounts']}, {liquidations['steps']}, {liquidations['backstops']}"
