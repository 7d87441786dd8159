"""Models: the margin and interest-rate curves of each asset, computed by the engine's own functions.

`GET /api/v1/models/margin` samples the initial margin fraction of a borrow-lend position against
its notional, with the same function the margin check uses (`compute_margin_fraction`, the asset's
`imfFunction` with no leverage-limit floor): 40 points per decade from $10 to $1,000,000,000.
Each notional is an exact decimal (10^(k/40) to 4 significant digits, found with integer roots),
so a client can recompute every point. `maxLeverage` is 1 / IMF, rounded down to 4 decimals.

`GET /api/v1/models/interestRate` samples the pool's rate curve (`compute_borrow_rate`) at the
utilizations 0.00, 0.01, ..., 1.00, and the lend rate the engine derives from it
(`compute_lend_rate`: borrow rate x utilization x (1 - fee), rounded down), with the pool's
utilization and rates now to mark on the chart.
"""

from __future__ import annotations

import functools
from typing import Final

from crossmargin.api.views.common import JsonObject, JsonValue, reader, wad
from crossmargin.api.views.public import sqrt_function
from crossmargin.core.assets import AssetSpec
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.interest import compute_borrow_rate, compute_lend_rate, compute_utilization
from crossmargin.core.margin import compute_margin_fraction
from crossmargin.core.numbers import WAD, format_scaled
from crossmargin.core.state import EngineState

POINTS_PER_DECADE: Final = 40
FIRST_DECADE: Final = 1  # $10
LAST_DECADE: Final = 9  # $1,000,000,000
SIGNIFICANT_DIGITS: Final = 4
LEVERAGE_DECIMALS: Final = 4
UTILIZATION_STEPS: Final = 100  # 0.00 .. 1.00


def _integer_root(value: int, degree: int) -> int:
    """Return floor(value ** (1 / degree)) for a non-negative integer, exactly."""
    low, high = 0, 1 << (value.bit_length() // degree + 1)
    while low < high:
        middle = (low + high + 1) // 2
        if middle**degree <= value:
            low = middle
        else:
            high = middle - 1
    return low


def _round_significant(value: int, digits: int) -> int:
    """Return a positive integer rounded half up to `digits` significant digits."""
    drop = max(0, len(str(value)) - digits)
    unit: int = 10**drop
    return (value + unit // 2) // unit * unit


@functools.cache
def notional_points_wad() -> tuple[int, ...]:
    """Return the sampled notionals in USD (WAD): 10^(k/40) for k from 40 to 360, to 4 significant digits."""
    points = []
    for step in range(FIRST_DECADE * POINTS_PER_DECADE, LAST_DECADE * POINTS_PER_DECADE + 1):
        # floor(10^(step/40) * 10^18) = floor((10^(step + 40 * 18)) ^ (1/40)), exactly.
        exact = _integer_root(10 ** (step + POINTS_PER_DECADE * 18), POINTS_PER_DECADE)
        points.append(_round_significant(exact, SIGNIFICANT_DIGITS))
    return tuple(points)


def max_leverage(imf_wad: int) -> str | None:
    """Return 1 / IMF rounded down to 4 decimals (None for an IMF of zero: no limit)."""
    if imf_wad <= 0:
        return None
    scale: int = 10**LEVERAGE_DECIMALS
    return format_scaled(WAD * scale // imf_wad, LEVERAGE_DECIMALS)


def view_margin_model(spec: AssetSpec) -> JsonObject:
    """Return `GET /api/v1/models/margin`: IMF and max initial leverage against a borrow's notional."""
    points: list[JsonValue] = []
    for notional in notional_points_wad():
        imf = compute_margin_fraction(spec.imf, notional, 0)
        points.append({"notional": wad(notional), "imf": wad(imf), "maxLeverage": max_leverage(imf)})
    return {"symbol": spec.symbol, "imfFunction": sqrt_function(spec.imf), "points": points}


def _utilization_text(step: int) -> str:
    return f"{step // UTILIZATION_STEPS}.{step % UTILIZATION_STEPS:02d}"


def view_interest_rate_model(state: EngineState, spec: AssetSpec) -> JsonObject:
    """Return `GET /api/v1/models/interestRate`: the pool's rates against utilization, and where it is now."""
    tx = reader(state)
    pool = tx.pool(spec.symbol)
    utilization = compute_utilization(pool.borrowed_atoms, pool_supplied(tx, spec.symbol))
    rate = compute_borrow_rate(spec.rate_curve, utilization)
    points: list[JsonValue] = []
    for step in range(UTILIZATION_STEPS + 1):
        borrow_rate = compute_borrow_rate(spec.rate_curve, step * WAD // UTILIZATION_STEPS)
        points.append(
            {
                "utilization": _utilization_text(step),
                "borrowInterestRate": wad(borrow_rate),
                # Utilization step / 100 as borrowed / lent: the engine's own lend-rate formula.
                "lendInterestRate": wad(compute_lend_rate(borrow_rate, step, UTILIZATION_STEPS, spec.fee.wad)),
            }
        )
    return {
        "symbol": spec.symbol,
        "utilization": wad(utilization),
        "borrowInterestRate": wad(rate),
        "lendInterestRate": wad(compute_lend_rate(rate, pool.borrowed_atoms, pool.lent_atoms, spec.fee.wad)),
        "optimalUtilization": str(spec.rate_curve.optimal_utilization),
        "maxUtilization": str(spec.max_utilization),
        "fee": str(spec.fee),
        "points": points,
    }
