"""Stress price paths: the jump walk repeats per seed and jumps together; the bootstrap moves by the file's exact ratios."""

from __future__ import annotations

import math

import pytest

from crossmargin.core.numbers import WAD
from crossmargin.simulation.price_paths import PricePathError, PriceStep
from crossmargin.simulation.stress_paths import JumpWalk, bootstrap, jump_walk

START = {"BTC": 60_000 * WAD, "ETH": 3_000 * WAD, "USDC": WAD}


def walk(shape: JumpWalk, seed: int = 7, steps: int = 20) -> list[PriceStep]:
    return jump_walk(START, {"BTC", "ETH"}, shape, seed=seed, steps=steps, interval_ms=60_000, start_ms=0)


def test_the_same_seed_gives_the_same_walk_and_another_seed_another() -> None:
    assert walk(JumpWalk()) == walk(JumpWalk())
    assert walk(JumpWalk()) != walk(JumpWalk(), seed=8)
    first = walk(JumpWalk())
    assert first[0].prices_wad == tuple(sorted(START.items())), "every scenario starts at the same prices"
    assert all(step.price("USDC") == WAD for step in first), "assets not named as moving stay put"
    assert [step.at_ms for step in first] == [60_000 * index for index in range(21)]


def test_a_certain_jump_moves_every_asset_together() -> None:
    crash = walk(JumpWalk(volatility=0.0, jump_probability=1.0, jump_mean=-0.1, jump_std=0.0), steps=3)
    for asset in ("BTC", "ETH"):
        ratio = crash[3].price(asset) / crash[0].price(asset)
        assert math.isclose(ratio, math.exp(-0.3), rel_tol=1e-6), "three market-wide jumps of -10% log each"


@pytest.mark.parametrize(
    "shape",
    [JumpWalk(volatility=-1), JumpWalk(jump_probability=1.5), JumpWalk(jump_std=float("nan")), JumpWalk(jump_std=-1)],
)
def test_a_walk_that_cannot_be_shaped_is_refused(shape: JumpWalk) -> None:
    with pytest.raises(PricePathError):
        walk(shape)


def test_the_bootstrap_moves_every_asset_by_one_step_of_the_file_exactly() -> None:
    source = [
        PriceStep(0, (("BTC", 100 * WAD), ("ETH", 10 * WAD))),
        PriceStep(1, (("BTC", 90 * WAD), ("ETH", 11 * WAD))),
    ]
    path = bootstrap(source, START, seed=3, steps=2, interval_ms=1_000, start_ms=5)
    assert path[1].price("BTC") == 60_000 * WAD * 90 // 100
    assert path[1].price("ETH") == 3_000 * WAD * 11 // 10
    assert path[2].price("BTC") == path[1].price("BTC") * 90 // 100, "the only move, drawn again"
    assert path[2].price("USDC") == WAD, "an asset the file does not price keeps its price"
    assert [step.at_ms for step in path] == [5, 1_005, 2_005]
    assert bootstrap(source, START, seed=3, steps=2, interval_ms=1_000, start_ms=5) == path


def test_a_bootstrap_of_one_step_is_refused() -> None:
    with pytest.raises(PricePathError, match="at least two steps"):
        bootstrap([PriceStep(0, (("BTC", WAD),))], START, seed=1, steps=2, interval_ms=1, start_ms=0)
