"""Stress on Ray: a local Ray (2 CPUs, no dashboard) gives the same outcomes per seed as the serial run.

Starting a local Ray costs several seconds (about 7 s here, with the run); one test, few scenarios.
Skipped with a note where Ray is not installed (`pip install 'crossmargin[ray]'`); a failure under CI=true,
where `make test` installs it with the dev extra.
"""

from __future__ import annotations

from tests.environment import missing

from crossmargin.simulation.fanout import ray_available, run_processes, run_ray, run_serial
from crossmargin.simulation.stress import StressSpec
from crossmargin.simulation.stress_paths import JumpWalk

SMALL = StressSpec(seed=5, scenarios=6, accounts=5, steps=10, walk=JumpWalk(jump_probability=0.2))


def test_ray_gives_the_same_outcomes_as_processes_and_the_serial_run() -> None:
    if not ray_available():
        missing("Ray", "Ray is an optional extra: pip install 'crossmargin[ray]'")
    done: list[int] = []
    on_ray = run_ray(SMALL, workers=2, progress=done.append)
    assert done == sorted(done), "progress only goes forward"
    assert done[-1] == SMALL.scenarios
    assert on_ray == run_serial(SMALL), "the same seed gives the same outcomes on Ray"
    assert on_ray == run_processes(SMALL, 2)
    import ray  # noqa: PLC0415 -- optional

    assert not ray.is_initialized(), "the local Ray is shut down after the run"
