"""The crash liquidation gives the same events and state, to the atom, as the code before its speed-ups.

The digests below were recorded from the liquidation code before the margin shortcuts of issue 13
(per-step reuse of margin lines and summaries, cheaper holding reads): a seeded crash
(`tests/support/crash_replay.py`) with every kind of step — sells of collateral, buys of the
borrowed asset, repays from spot, perp reductions with lowered fees, lend redemptions and
backstops — must hash the same. A change that alters what liquidation does on purpose records new
digests, saying why; a speed-up never may.
"""

from __future__ import annotations

import pytest
from crash_replay import bench_crash, run

RECORDED = {
    1: (
        "4892f32d1bfcfeacea30911b5f219c7b877538768ff7ca174d8e346f6cafb5ba",
        {"BuyBorrowed": 30, "ReducePosition": 33, "SellCollateral": 9, "backstop": 16, "redeem": 6},
    ),
    2: (
        "4f0d0c321266f08f90b6a0caca6a351ee81738f84adea3b21366b7a0fdb3e24c",
        {"BuyBorrowed": 30, "ReducePosition": 9, "Repay": 1, "SellCollateral": 11, "backstop": 18, "redeem": 8},
    ),
}


@pytest.mark.parametrize("seed", sorted(RECORDED))
def test_a_seeded_crash_liquidates_exactly_as_recorded(seed: int) -> None:
    digest, counts = run(seed)
    assert (digest, counts) == RECORDED[seed]


def test_the_benchmarks_crash_liquidates_exactly_as_recorded() -> None:
    """150 of the crash benchmark's BTC-backed USDC borrowers, liquidated in order: the same events and state."""
    assert bench_crash(150) == "593efe25e8c523a460afb2c552b16987458f3f7b3a18651467534c361bf9ff60"
