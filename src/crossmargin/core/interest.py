"""Interest: the borrow rate from utilization, hourly index growth and the entry fee.

Borrow APR is a two-slope curve of utilization U = borrowed / supplied. Interest is charged on the
hour for the hour ahead: each hour the borrow index grows by APR / 365 / 24 (rounded up, in the
pool's favour), so every debt, scaled by that index, grows by amount * APR / 365 / 24 in O(1) per
pool. A new borrow pays an entry fee at once for the time left until the next full hour. Lenders
receive what borrowers pay less the exchange's `fee` (rounded down).
"""

from __future__ import annotations

from typing import Final

from crossmargin.core.assets import RateCurve
from crossmargin.core.numbers import WAD, mul_div_down, mul_div_up

HOURS_PER_YEAR: Final = 365 * 24
MS_PER_HOUR: Final = 3_600_000
MS_PER_YEAR: Final = HOURS_PER_YEAR * MS_PER_HOUR


def compute_utilization(borrowed_atoms: int, supplied_atoms: int) -> int:
    """Return borrowed / supplied as WAD, rounded up (a higher rate favours the pool)."""
    if supplied_atoms == 0:
        return 0
    return mul_div_up(borrowed_atoms, WAD, supplied_atoms)


def compute_borrow_rate(curve: RateCurve, utilization_wad: int) -> int:
    """Return the borrow APR (WAD) at a utilization, rounded up."""
    optimal = curve.optimal_utilization.wad
    if utilization_wad <= optimal:
        slope = mul_div_up(curve.slope1.wad, utilization_wad, optimal) if optimal else 0
        return curve.base.wad + slope
    excess = min(utilization_wad, WAD) - optimal
    steep = mul_div_up(curve.slope2.wad, excess, WAD - optimal)
    return curve.base.wad + curve.slope1.wad + steep


def compute_lend_rate(borrow_rate_wad: int, borrowed_atoms: int, lent_atoms: int, fee_wad: int) -> int:
    """Return the APR lenders earn (WAD, rounded down): borrow APR * borrowed * (1 - fee) / lent."""
    if lent_atoms == 0:
        return 0
    gross = mul_div_down(borrow_rate_wad, borrowed_atoms, lent_atoms)
    return mul_div_down(gross, WAD - fee_wad, WAD)


def accrue_borrow_index_one_hour(index_ray: int, rate_wad: int) -> int:
    """Return the borrow index after one hour at an APR: index * (1 + APR / 8760), rounded up."""
    return mul_div_up(index_ray, HOURS_PER_YEAR * WAD + rate_wad, HOURS_PER_YEAR * WAD)


def compute_yearly_yield(rate_wad: int, *, borrower: bool) -> int:
    """Return the APY (WAD) an APR held for a year compounds to, charged hourly as the pools do.

    A borrower's index grows each hour by APR / 8760 rounded up (`accrue_borrow_index_one_hour`),
    so a borrower's APY rounds up; a lender's each hour rounded down, so a lender's APY rounds down:
    both in the exchange's favour. 8,760 exact integer steps.
    """
    index = WAD
    for _ in range(HOURS_PER_YEAR):
        if borrower:
            index = accrue_borrow_index_one_hour(index, rate_wad)
        else:
            index = mul_div_down(index, HOURS_PER_YEAR * WAD + rate_wad, HOURS_PER_YEAR * WAD)
    return index - WAD


def compute_entry_fee(amount_atoms: int, rate_wad: int, interval_ms: int) -> int:
    """Return the interest on an amount at an APR over an interval, rounded up to the atom."""
    return mul_div_up(amount_atoms * rate_wad, interval_ms, WAD * MS_PER_YEAR)


def next_hour_ms(now_ms: int) -> int:
    """Return the first full hour strictly after `now_ms`."""
    return (now_ms // MS_PER_HOUR + 1) * MS_PER_HOUR


def floor_hour_ms(now_ms: int) -> int:
    """Return the start of the hour containing `now_ms`."""
    return now_ms // MS_PER_HOUR * MS_PER_HOUR
