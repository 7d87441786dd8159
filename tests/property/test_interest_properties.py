"""Properties of interest: entry fees compose over split intervals, hourly growth is APR / 8760."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st
from tests.strategies import annual_rates_wad, atoms, indices_ray, rate_curves, ratios_wad

from crossmargin.core.assets import RateCurve
from crossmargin.core.interest import (
    HOURS_PER_YEAR,
    MS_PER_HOUR,
    MS_PER_YEAR,
    accrue_borrow_index_one_hour,
    compute_borrow_rate,
    compute_entry_fee,
    compute_lend_rate,
    compute_utilization,
    floor_hour_ms,
    next_hour_ms,
)
from crossmargin.core.numbers import RAY, WAD
from crossmargin.core.pools import debt_atoms, scaled_debt_to_mint

amounts = atoms(10**24)


def _exact_interest(amount: int, rate_wad: int, interval_ms: int) -> Fraction:
    """Return amount * APR * interval / year, exactly: the naive formula of DESIGN.md."""
    return Fraction(amount * rate_wad * interval_ms, WAD * MS_PER_YEAR)


@st.composite
def split_hours(draw: st.DrawFn) -> tuple[int, int, int]:
    """Return t0 <= t1 <= t2 within one hour (ms offsets from the hour's start)."""
    points = sorted(draw(st.lists(st.integers(0, MS_PER_HOUR), min_size=3, max_size=3)))
    return points[0], points[1], points[2]


@given(amount=amounts, rate=annual_rates_wad(), times=split_hours())
@example(amount=2_000 * 10**6, rate=WAD // 10, times=(0, 50 * 60_000, MS_PER_HOUR))
def test_entry_fees_over_split_intervals_add_up_to_the_whole_within_one_atom_each(
    amount: int, rate: int, times: tuple[int, int, int]
) -> None:
    t0, t1, t2 = times
    first = compute_entry_fee(amount, rate, t1 - t0)
    second = compute_entry_fee(amount, rate, t2 - t1)
    whole = compute_entry_fee(amount, rate, t2 - t0)
    # Each fee is the exact interest rounded up, so the two parts exceed the whole by 0 or 1 atom.
    assert 0 <= first + second - whole <= 1
    assert whole == math.ceil(_exact_interest(amount, rate, t2 - t0))


@given(amount=amounts, rate=annual_rates_wad(), interval=st.integers(0, MS_PER_HOUR))
def test_an_entry_fee_is_the_exact_interest_rounded_up(amount: int, rate: int, interval: int) -> None:
    exact = _exact_interest(amount, rate, interval)
    fee = compute_entry_fee(amount, rate, interval)
    assert exact <= fee < exact + 1


def test_borrowing_2000_usdc_at_00_50_pays_ten_minutes_of_interest() -> None:
    # DESIGN.md's example, at 10% APR: 2000 * 0.1 * 10 min / 1 year, rounded up to the micro-USDC.
    now = 50 * 60_000
    fee = compute_entry_fee(2_000 * 10**6, WAD // 10, next_hour_ms(now) - now)
    assert fee == math.ceil(Fraction(2_000 * 10**6 * 10, 10 * 365 * 24 * 60))
    assert fee == 3_806


@given(now=st.integers(0, 10**13))
def test_next_hour_is_strictly_after_now_and_within_an_hour(now: int) -> None:
    upcoming = next_hour_ms(now)
    assert upcoming % MS_PER_HOUR == 0
    assert now < upcoming <= now + MS_PER_HOUR
    assert floor_hour_ms(now) <= now < floor_hour_ms(now) + MS_PER_HOUR


@given(amount=amounts, rate=annual_rates_wad())
@example(amount=10**6, rate=WAD // 10)
def test_one_hours_growth_of_a_fresh_debt_is_amount_times_apr_over_8760_rounded_up(amount: int, rate: int) -> None:
    index_after = accrue_borrow_index_one_hour(RAY, rate)
    scaled = scaled_debt_to_mint(amount, RAY)
    interest = debt_atoms(scaled, index_after) - debt_atoms(scaled, RAY)
    naive = math.ceil(Fraction(amount * rate, HOURS_PER_YEAR * WAD))
    # The index itself is rounded up (by < 1e-27), which can add one atom to amounts near 1e27.
    assert naive <= interest <= naive + (1 if amount else 0)
    if amount < 10**9:
        assert interest == naive


@given(index=indices_ray(), scaled=atoms(10**24), rate=annual_rates_wad())
def test_one_hours_growth_of_any_debt_is_within_one_atom_of_its_exact_interest(
    index: int, scaled: int, rate: int
) -> None:
    index_after = accrue_borrow_index_one_hour(index, rate)
    exact_before = Fraction(scaled * index, RAY)
    exact_growth = exact_before * Fraction(rate, HOURS_PER_YEAR * WAD)
    assert Fraction(index_after, RAY) >= Fraction(index, RAY) * (1 + Fraction(rate, HOURS_PER_YEAR * WAD))
    interest = debt_atoms(scaled, index_after) - debt_atoms(scaled, index)
    # ceil(after) - ceil(before) is within one atom of after - before, and the index's own
    # upward rounding adds less than scaled / RAY.
    assert exact_growth - 1 < interest < exact_growth + 1 + Fraction(scaled, RAY)


@given(index=indices_ray(), rate=annual_rates_wad(), hours=st.integers(1, 24 * 7))
def test_hourly_index_growth_never_lags_compound_interest(index: int, rate: int, hours: int) -> None:
    grown = index
    for _ in range(hours):
        grown = accrue_borrow_index_one_hour(grown, rate)
    compound = Fraction(index) * (1 + Fraction(rate, HOURS_PER_YEAR * WAD)) ** hours
    assert compound <= grown < compound + hours * (1 + Fraction(rate, HOURS_PER_YEAR * WAD)) ** hours


@given(curve=rate_curves(), low=ratios_wad(), high=ratios_wad())
def test_borrow_rate_does_not_fall_as_utilization_rises(curve: RateCurve, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    assert compute_borrow_rate(curve, low) <= compute_borrow_rate(curve, high)


@given(curve=rate_curves(), utilization=ratios_wad())
def test_borrow_rate_is_the_two_slope_curve_rounded_up(curve: RateCurve, utilization: int) -> None:
    u = Fraction(utilization, WAD)
    optimal = Fraction(curve.optimal_utilization.wad, WAD)
    base, slope1, slope2 = (Fraction(ratio.wad, WAD) for ratio in (curve.base, curve.slope1, curve.slope2))
    exact = base + slope1 * u / optimal if u <= optimal else base + slope1 + slope2 * (u - optimal) / (1 - optimal)
    rate = Fraction(compute_borrow_rate(curve, utilization), WAD)
    assert exact <= rate < exact + Fraction(1, WAD)


@given(borrowed=amounts, supplied=amounts)
def test_utilization_is_borrowed_over_supplied_rounded_up(borrowed: int, supplied: int) -> None:
    utilization = compute_utilization(borrowed, supplied)
    if supplied == 0:
        assert utilization == 0
        return
    exact = Fraction(borrowed * WAD, supplied)
    assert exact <= utilization < exact + 1


@given(rate=annual_rates_wad(), borrowed=amounts, lent=amounts, fee=ratios_wad())
def test_lend_rate_never_exceeds_the_borrow_rate_times_utilization_less_the_fee(
    rate: int, borrowed: int, lent: int, fee: int
) -> None:
    lend_rate = compute_lend_rate(rate, borrowed, lent, fee)
    if lent == 0:
        assert lend_rate == 0
        return
    exact = Fraction(rate * borrowed, lent) * Fraction(WAD - fee, WAD)
    assert exact - 2 < lend_rate <= exact
