"""`crossmargin stress`: Monte-Carlo stress runs fanned out on Ray or local processes, with a progress bar and a report.

It builds a `StressSpec` from the arguments, chooses the executor (`--ray ADDRESS`, `--workers K`,
`--no-ray`, or by default a local Ray with this machine's cores, falling back to local processes
when Ray is not installed), runs every scenario, re-runs the worst one for its paths, writes
`stress.json`, the PNG plots and `stress.html` into `--out` (the worst scenario's own report in
`worst-scenario/`), and prints the percentiles. A bad argument, an unreachable cluster or a failed
audit ends with `error: ...` and status 1.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossmargin.cli.durations import parse_duration
from crossmargin.core.numbers import parse_decimal
from crossmargin.simulation.fanout import (
    FanOutError,
    default_workers,
    ray_available,
    run_processes,
    run_ray,
)
from crossmargin.simulation.fanout import (
    Progress as Tell,
)
from crossmargin.simulation.plots import write_plots
from crossmargin.simulation.price_paths import load_csv
from crossmargin.simulation.report import JSON, build_report, write_json, write_page
from crossmargin.simulation.runner import SimulationError
from crossmargin.simulation.scenario import START_PRICES, demo_markets
from crossmargin.simulation.stress import ScenarioOutcome, StressSpec, replay, worst
from crossmargin.simulation.stress_paths import JumpWalk
from crossmargin.simulation.stress_plots import write_distribution_plots
from crossmargin.simulation.stress_report import build_stress_report, summary_rows


@dataclass(frozen=True, slots=True)
class Executor:
    """Where the scenarios run: `ray` (a cluster at `address`, or local) or `processes`, on `workers`."""

    kind: str
    workers: int
    address: str | None = None

    def describe(self) -> str:
        """Return a line saying where the run goes."""
        if self.kind == "ray":
            return (
                f"on the Ray cluster at {self.address}" if self.address else f"on a local Ray with {self.workers} CPUs"
            )
        return f"on {self.workers} local process(es)"

    def run(self, spec: StressSpec, progress: Tell) -> list[ScenarioOutcome]:
        """Run every scenario of `spec` here; return the outcomes in index order."""
        if self.kind == "ray":
            return run_ray(spec, self.workers, self.address, progress)
        return run_processes(spec, self.workers, progress)


def spec_from(arguments: argparse.Namespace) -> StressSpec:
    """Return the stress run the arguments describe; raise ValueError naming a bad one."""
    source = None
    if arguments.price_file is not None:
        specs, _ = demo_markets()
        listed = {spec.symbol for spec in specs}
        start = {symbol: parse_decimal(price, 18) for symbol, price in START_PRICES.items() if symbol in listed}
        source = tuple(load_csv(arguments.price_file, listed, start))
    spec = StressSpec(
        seed=arguments.seed,
        scenarios=arguments.scenarios,
        accounts=arguments.accounts,
        steps=arguments.steps,
        interval_ms=parse_duration(arguments.interval) * 1_000,
        walk=JumpWalk(arguments.volatility, arguments.jump_probability, arguments.jump_mean, arguments.jump_std),
        source=source,
        source_name=arguments.price_file.name if arguments.price_file is not None else None,
        audit_every=arguments.audit_every,
    )
    spec.check()
    return spec


def executor_from(arguments: argparse.Namespace) -> Executor:
    """Return where to run: --ray, --workers / --no-ray, or a local Ray (local processes without Ray)."""
    if arguments.ray is not None and (arguments.workers is not None or arguments.no_ray):
        raise ValueError("choose one: --ray ADDRESS, or --workers K / --no-ray for local processes")
    if arguments.workers is not None and arguments.workers < 1:
        raise ValueError(f"--workers must be >= 1, not {arguments.workers}")
    workers = arguments.workers or default_workers()
    if arguments.ray is not None:
        return Executor("ray", workers, arguments.ray)
    if arguments.workers is not None or arguments.no_ray or not ray_available():
        return Executor("processes", workers)
    return Executor("ray", workers)


def run_stress(arguments: argparse.Namespace, console: Console) -> int:
    """Run `crossmargin stress`; return the exit status."""
    errors = Console(stderr=True)
    try:
        spec = spec_from(arguments)
        executor = executor_from(arguments)
        if executor.kind == "processes" and arguments.ray is None and not (arguments.workers or arguments.no_ray):
            console.print("Ray is not installed (pip install 'crossmargin[ray]'): running on local processes")
        console.print(f"{spec.scenarios} scenarios {executor.describe()}", soft_wrap=True)
        outcomes = _run_with_progress(spec, executor, console)
        worst_outcome = worst(outcomes)
        worst_run = replay(spec, worst_outcome.index)
    except (ValueError, SimulationError, FanOutError) as error:  # PricePathError is a ValueError
        errors.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
        return 1
    out: Path = arguments.out
    worst_dir = out / "worst-scenario"
    worst_dir.mkdir(parents=True, exist_ok=True)
    report = build_stress_report(spec, outcomes, worst_outcome)
    write_json(report, out / "stress.json")
    worst_settings = {**spec.settings(), "scenario": worst_outcome.index, "scenarioSeed": worst_outcome.seed}
    write_json(build_report(worst_run, worst_settings), worst_dir / "report.json")
    worst_images = write_plots(worst_run.samples, worst_dir, worst_run.state.specs["USDC"].unit_atoms)
    images = write_distribution_plots(outcomes, out)
    _write_page(report, [*images, *worst_images], out / "stress.html")
    _summary(console, report)
    console.print(f"Report: {out / 'stress.html'} (and stress.json, {len(images) + len(worst_images)} PNG plots)")
    return 0


def _run_with_progress(spec: StressSpec, executor: Executor, console: Console) -> list[ScenarioOutcome]:
    if not console.is_terminal:  # a log or a pipe: a line every tenth of the run instead of a bar
        return executor.run(spec, _milestones(console, spec.scenarios))
    columns = (TextColumn("scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("scenarios", total=spec.scenarios)
        return executor.run(spec, lambda done: progress.update(task, completed=done))


def _milestones(console: Console, total: int) -> Tell:
    """Return a progress callback that prints a line each time another tenth of the scenarios is done."""
    step = max(1, total // 10)
    said = [0]

    def tell(done: int) -> None:
        if done // step > said[0] or (done == total and said[0] * step < total):
            said[0] = done // step if done < total else total
            console.print(f"  {done:,} of {total:,} scenarios done")

    return tell


def _write_page(report: JSON, images: list[Path], path: Path) -> None:
    settings = report["settings"]
    assert isinstance(settings, dict), "build_stress_report writes settings as a dict"
    distributions = {
        title: {"unit": unit, "p50": p50, "p95": p95, "p99": p99, "max": top}
        for title, unit, p50, p95, p99, top in summary_rows(report)
    }
    intro = (
        f"{settings['scenarios']} scenarios over one population of {settings['accounts']} subaccounts; "
        f"percentiles by {report['percentileMethod']}; the worst scenario (most bad debt) is drawn last. "
        "Every scenario passed the audit."
    )
    sections = [
        ("Distributions across scenarios", distributions),
        ("Worst scenario", report["worstScenario"]),
        ("Settings", settings),
    ]
    write_page(path, "crossmargin Monte-Carlo stress", intro, images, sections)


def _summary(console: Console, report: JSON) -> None:
    table = Table(title="Stress: distributions across scenarios (USD to the cent; exact in stress.json)")
    for column in ("", "unit", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column in {"", "unit"} else "right")
    for row in summary_rows(report, cents=True):
        table.add_row(*row)
    console.print(table)
    worst_row = report["worstScenario"]
    assert isinstance(worst_row, dict), "build_stress_report writes the worst scenario as a dict"
    console.print(
        f"Worst scenario: #{worst_row['index']} (seed {worst_row['seed']}), bad debt {worst_row['badDebtUsd']} USD"
    )
