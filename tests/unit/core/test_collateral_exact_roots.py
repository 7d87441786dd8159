"""inverseSqrt collateral when sqrt(notional) is a whole number, and at absurd sizes (found by the risk screen)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from crossmargin.asset_config import load_asset_specs
from crossmargin.core.assets import HaircutFunction, HaircutKind
from crossmargin.core.collateral import compute_collateral_value, compute_collateral_weight
from crossmargin.core.numbers import WAD, Ratio


def _exact_floor(haircut: HaircutFunction, notional_wad: int) -> int:
    """floor(N * base / (1 + penalty * sqrt(N))) by bisection on exact rationals (N in USD, WAD-scaled)."""
    base = Fraction(haircut.base.wad, WAD)
    penalty = Fraction(haircut.positive_curve_penalty.wad, WAD)
    notional = Fraction(notional_wad, WAD)
    low, high = 0, notional_wad + 1
    while high - low > 1:  # the largest c with c / WAD * (1 + p sqrt N) <= N base, squared to stay rational
        middle = (low + high) // 2
        room = notional * base - Fraction(middle, WAD)
        if room >= 0 and (Fraction(middle, WAD) * penalty) ** 2 * notional <= room**2:
            low = middle
        else:
            high = middle
    return min(low, notional_wad * haircut.weight.wad // WAD)


def test_24_btc_at_60000_values_exactly_where_the_root_is_whole() -> None:
    btc = next(spec for spec in load_asset_specs() if spec.symbol == "BTC")
    notional = 1_440_000 * WAD  # sqrt(1,440,000) = 1,200: the exact value is a whole number of wei
    value = compute_collateral_value(btc.haircut, notional)
    assert value == 1_265_625 * WAD  # 1,440,000 x 0.9 / (1 + 0.00002 x 1,200)
    assert value == _exact_floor(btc.haircut, notional)


@pytest.mark.parametrize("usd", [1, 4, 10_000, 1_440_000, 10**8, 10**12])
def test_whole_roots_at_many_sizes(usd: int) -> None:
    haircut = HaircutFunction(
        Ratio(9 * WAD // 10), HaircutKind.INVERSE_SQRT, Ratio(9 * WAD // 10), Ratio(2 * WAD // 10**5)
    )
    assert compute_collateral_value(haircut, usd * WAD) == _exact_floor(haircut, usd * WAD)


def test_an_absurd_holding_still_values_exactly() -> None:
    haircut = HaircutFunction(Ratio(WAD), HaircutKind.INVERSE_SQRT, Ratio(WAD), Ratio(5635486))
    value = compute_collateral_value(haircut, 10**37)
    room = 10**37 * WAD - value * WAD
    assert room >= 0
    assert value**2 * 5635486**2 * 10**37 <= room**2 * WAD  # at most the exact value...
    over = value + 1
    over_room = 10**37 * WAD - over * WAD
    assert over**2 * 5635486**2 * 10**37 > over_room**2 * WAD  # ...and one wei more is above it


def test_the_weight_at_a_notional_is_the_value_over_it_rounded_down() -> None:
    haircut = HaircutFunction(
        Ratio(9 * WAD // 10), HaircutKind.INVERSE_SQRT, Ratio(9 * WAD // 10), Ratio(2 * WAD // 10**5)
    )
    notional = 1_000_000 * WAD
    value = compute_collateral_value(haircut, notional)
    assert compute_collateral_weight(haircut, notional) == value * WAD // notional
    assert compute_collateral_weight(haircut, notional, value) == value * WAD // notional
    assert compute_collateral_weight(haircut, 0) == 9 * WAD // 10
