"""The demo walk: reproducible per seed, on a grid, with each asset's volatility and the market's correlation.

Method: walk two years of hourly steps and measure the annualised volatility of each asset's log
returns and the correlation of BTC's with ETH's and SOL's; they must fall near the profile's
targets (the jumps add a little variance; the bands allow for sampling error of 17,520 returns).
"""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from crossmargin.core.numbers import WAD
from crossmargin.simulation.demo_walk import ASSET_PROFILES, DemoWalk, profile_of
from crossmargin.simulation.price_paths import MS_PER_YEAR, PRICE_QUANTUM_WAD

START = {"USDC": WAD, "USDT": WAD, "BTC": 60_000 * WAD, "ETH": 3_000 * WAD, "SOL": 150 * WAD}
HOUR_MS = 3_600_000
START_MS = 1_767_225_600_000


def walk_hours(seed: int, hours: int) -> list[dict[str, int]]:
    walk = DemoWalk(START, seed=seed, start_ms=START_MS, step_ms=HOUR_MS)
    path = [walk.prices]
    for hour in range(1, hours + 1):
        assert walk.advance_to(START_MS + hour * HOUR_MS)
        path.append(walk.prices)
    return path


def log_returns(path: list[dict[str, int]], symbol: str) -> list[float]:
    return [math.log(after[symbol] / before[symbol]) for before, after in itertools.pairwise(path)]


def test_the_same_seed_gives_the_same_prices_and_another_seed_others() -> None:
    first, again, other = walk_hours(7, 48), walk_hours(7, 48), walk_hours(8, 48)
    assert first == again
    assert first[-1]["BTC"] != other[-1]["BTC"]
    assert all(price % PRICE_QUANTUM_WAD == 0 for prices in first for price in prices.values()), "1e-8 USD steps"


def test_a_price_depends_on_the_engine_time_not_on_when_it_is_asked() -> None:
    often = DemoWalk(START, seed=3, start_ms=START_MS, step_ms=1_000)
    for second in range(1, 601):
        often.advance_to(START_MS + second * 1_000 + 500)
    once = DemoWalk(START, seed=3, start_ms=START_MS, step_ms=1_000)
    assert once.advance_to(START_MS + 600_999)
    assert once.prices == often.prices
    assert once.steps_taken == 600
    assert not once.advance_to(START_MS + 600_999), "no new step: nothing changed"
    assert not DemoWalk(START, seed=3, start_ms=START_MS).advance_to(START_MS - 5_000), "before the start: no step"


def test_volatility_of_each_asset_is_near_its_target() -> None:
    path = walk_hours(11, 2 * 8_760)
    for symbol in ("BTC", "ETH", "SOL"):
        profile = ASSET_PROFILES[symbol]
        target = math.sqrt(profile.volatility**2 + profile.jumps_per_year * profile.jump_size**2)
        measured = statistics.stdev(log_returns(path, symbol)) * math.sqrt(MS_PER_YEAR / HOUR_MS)
        assert measured == pytest.approx(target, rel=0.08), symbol


def test_btc_eth_and_sol_move_together_by_their_market_loadings() -> None:
    path = walk_hours(12, 2 * 8_760)
    btc, eth, sol = (log_returns(path, symbol) for symbol in ("BTC", "ETH", "SOL"))
    assert statistics.correlation(btc, eth) == pytest.approx(0.9 * 0.9, abs=0.05)
    assert statistics.correlation(btc, sol) == pytest.approx(0.9 * 0.8, abs=0.05)
    assert statistics.correlation(eth, sol) == pytest.approx(0.9 * 0.8, abs=0.05)


def test_stablecoins_stay_pinned_and_usdc_does_not_move() -> None:
    path = walk_hours(13, 8_760)
    assert {prices["USDC"] for prices in path} == {WAD}
    assert all(abs(prices["USDT"] - WAD) < WAD // 500 for prices in path), "USDT stays within 0.2% of 1"
    assert len({prices["USDT"] for prices in path}) > 100, "with a little noise"


def test_an_unlisted_symbol_gets_a_coin_or_stablecoin_profile() -> None:
    assert profile_of("PYUSD").pinned
    assert not profile_of("JUP").pinned
    assert profile_of("JUP").loading > 0
    with pytest.raises(ValueError, match="step_ms must be positive"):
        DemoWalk(START, seed=1, start_ms=0, step_ms=0)
    with pytest.raises(ValueError, match="above zero"):
        DemoWalk({"BTC": 0}, seed=1, start_ms=0)
