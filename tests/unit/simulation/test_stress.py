"""Stress runs: per-scenario seeds come from the base seed and the index only, so every executor agrees."""

from __future__ import annotations

import dataclasses

import pytest

from crossmargin.simulation import fanout
from crossmargin.simulation.fanout import chunk_size, chunks, run_processes, run_serial
from crossmargin.simulation.stress import StressSpec, outcome_of, replay, run_scenario, scenario_seed, worst
from crossmargin.simulation.stress_paths import JumpWalk

# Small and stormy: a jump every other step on average, so some scenarios share losses.
SMALL = StressSpec(seed=1, scenarios=6, accounts=5, steps=10, walk=JumpWalk(jump_probability=0.2))


def test_scenario_seeds_depend_on_the_base_seed_and_the_index_only() -> None:
    seeds = [scenario_seed(1, index) for index in range(1_000)]
    assert len(set(seeds)) == 1_000
    assert seeds == [scenario_seed(1, index) for index in range(1_000)]
    assert scenario_seed(2, 0) != seeds[0]
    assert all(0 <= seed < 2**64 for seed in seeds)


def test_chunks_cover_every_scenario_once_in_order() -> None:
    assert [list(block) for block in chunks(7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert chunk_size(1_000, 2) == 16, "capped"
    assert chunk_size(40, 2) == 5, "four chunks per worker"
    assert chunk_size(3, 8) == 1


def test_serial_and_processes_give_identical_outcomes_for_one_seed() -> None:
    done: list[int] = []
    serial = run_serial(SMALL, done.append)
    assert done[-1] == SMALL.scenarios
    assert [outcome.index for outcome in serial] == list(range(SMALL.scenarios))
    assert run_processes(SMALL, 2) == serial, "two processes, any order, the same outcomes"
    assert any(outcome.liquidations for outcome in serial), "the storm liquidates someone"
    assert run_scenario(SMALL, 3) == serial[3], "a scenario alone is the same as in the run"
    other = run_serial(dataclasses.replace(SMALL, seed=2, scenarios=2))
    assert other != serial[:2], "another base seed, other scenarios"


def test_the_worst_scenario_replays_to_its_outcome() -> None:
    outcomes = run_serial(SMALL)
    bad = worst(outcomes)
    assert bad.bad_debt_wad == max(outcome.bad_debt_wad for outcome in outcomes)
    assert bad.bad_debt_wad > 0, "the storm leaves bad debt somewhere"
    simulation = replay(SMALL, bad.index)
    assert outcome_of(simulation, bad.index, bad.seed) == bad
    assert len(simulation.samples) == SMALL.steps + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [({"scenarios": 0}, "scenarios"), ({"steps": 0}, "steps"), ({"walk": JumpWalk(jump_probability=2)}, "between 0")],
)
def test_a_spec_that_cannot_run_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMALL, **change).check()  # type: ignore[arg-type]


class _RefusingRay:
    """Stands in for `ray` whose `init` is refused, as a token-authenticated cluster refuses a driver without a token."""

    @staticmethod
    def init(**_options: object) -> None:
        raise ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390")


def test_a_refused_join_says_how_to_join_a_cluster_with_token_authentication(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "_import_ray", lambda: _RefusingRay)
    monkeypatch.setattr(fanout, "check_reachable", lambda _address: None)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(fanout.FanOutError, match="run with RAY_AUTH_MODE=token") as refused:
        fanout.start_ray(2, "127.0.0.1:6390")
    assert "cannot start or join Ray at 127.0.0.1:6390: Failed to connect" in str(refused.value)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    with pytest.raises(fanout.FanOutError) as again:
        fanout.start_ray(2, "127.0.0.1:6390")
    assert "RAY_AUTH_MODE" not in str(again.value), "no hint once the driver already says token"
    with pytest.raises(fanout.FanOutError) as local:
        fanout.start_ray(2)
    assert "a local Ray" in str(local.value)
