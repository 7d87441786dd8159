"""Stress fan-out: scenarios per second serially (the baseline), on 1 and 2 local processes, and on Ray with 1 and 2 CPUs.

A few seconds of small scenarios (`SCENARIOS` paths of `STEPS` steps over `ACCOUNTS` generated
subaccounts, the CLI's default jump walk), so `make bench` stays cheap (about a minute, most of it
Ray starting). Wall-clock time, best of `REPEATS` runs (one for a cold Ray); the machine's load
average is printed beside the figures, since a shared machine moves them. Every executor's outcomes are
checked equal to the serial run's. Process pools are timed from their creation (the workers'
start and imports included). Ray is timed twice: cold, as `crossmargin stress` runs it (starting
a local Ray and shutting it down included), and warm, on an already started Ray after one warm-up
run (what a long run or a cluster sees). Skipped with a note where Ray is not installed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import partial

from bench.common import progress, save
from crossmargin.simulation.fanout import (
    chunk_size,
    ray_available,
    run_on_ray,
    run_processes,
    run_ray,
    run_serial,
    start_ray,
)
from crossmargin.simulation.stress import ScenarioOutcome, StressSpec

SCENARIOS = int(os.environ.get("BENCH_STRESS_SCENARIOS", "24"))
ACCOUNTS = 5
STEPS = 10
REPEATS = 3
SPEC = StressSpec(seed=1, scenarios=SCENARIOS, accounts=ACCOUNTS, steps=STEPS)


def timed(work: Callable[[], list[ScenarioOutcome]], repeats: int = 1) -> tuple[float, list[ScenarioOutcome]]:
    """Return the least wall time of `repeats` runs of `work` and its (last) outcomes."""
    fastest, outcomes = float("inf"), []
    for _ in range(repeats):
        started = time.perf_counter()
        outcomes = work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, outcomes


def warm_ray(workers: int, expected: list[ScenarioOutcome]) -> float:
    """Start a local Ray with `workers` CPUs, run once to warm its workers up, then time a second run."""
    ray = start_ray(workers)
    try:
        run_on_ray(ray, SPEC, workers)
        seconds, outcomes = timed(lambda: run_on_ray(ray, SPEC, workers), REPEATS)
    finally:
        ray.shutdown()
    assert outcomes == expected, "Ray gives the serial run's outcomes"
    return seconds


def main() -> None:
    progress(f"stress fan-out: {SCENARIOS} scenarios, serial baseline")
    serial, expected = timed(lambda: run_serial(SPEC), REPEATS)
    seconds: dict[str, float] = {"serial": serial}
    for workers in (1, 2):
        progress(f"stress fan-out: {workers} local process(es)")
        spent, outcomes = timed(partial(run_processes, SPEC, workers), REPEATS)
        assert outcomes == expected, "processes give the serial run's outcomes"
        seconds[f"processes x{workers}"] = spent
    if ray_available():
        for workers in (1, 2):
            progress(f"stress fan-out: local Ray with {workers} CPU(s), cold then warm")
            spent, outcomes = timed(partial(run_ray, SPEC, workers))
            assert outcomes == expected, "Ray gives the serial run's outcomes"
            seconds[f"ray x{workers} (cold: start included)"] = spent
            seconds[f"ray x{workers} (warm)"] = warm_ray(workers, expected)
    else:
        print("stress fan-out: Ray is not installed (pip install 'crossmargin[ray]'); its rows are skipped")
    report(seconds)


def report(seconds: dict[str, float]) -> None:
    serial = seconds["serial"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0]
    print(
        f"\nStress fan-out: {SCENARIOS} scenarios x {STEPS} steps x {ACCOUNTS} accounts, {cores} cores, load {load:.1f}"
    )
    print(f"(chunk size with 2 workers: {chunk_size(SCENARIOS, 2)} scenarios per task)")
    print(f"{'executor (wall time, best of 3)':<36}{'s':>8}{'scenarios/s':>13}{'x serial':>10}")
    for name, spent in seconds.items():
        print(f"{name:<36}{spent:>8.2f}{SCENARIOS / spent:>13.2f}{serial / spent:>10.2f}")
    path = save(
        "stress",
        {
            "scenarios": SCENARIOS,
            "steps": STEPS,
            "accounts": ACCOUNTS,
            "cores": cores,
            "timer": f"wall clock, best of {REPEATS} (a cold Ray: one run)",
            "load_average": round(load, 2),
            "seconds": {name: round(spent, 3) for name, spent in seconds.items()},
            "scenarios_per_second": {name: round(SCENARIOS / spent, 2) for name, spent in seconds.items()},
            "ratio_to_serial": {name: round(serial / spent, 2) for name, spent in seconds.items()},
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
