"""The compiled screening kernels: one pass over rows, no temporaries, single thread.

Each kernel is a plain loop that numba compiles (`@njit(cache=True, fastmath=False)`: IEEE
arithmetic, no reassociation, so the error analysis in `screen.py` holds). Without numba the
same functions run as slow Python and `screen.py` uses the numpy versions instead. A row's
*headroom* is a lower bound of the exact net equity minus maintenance margin; a row is a candidate
when its headroom is <= 0; a row with no exposure (no debt, no perp position) has headroom +inf,
because the exact rule needs a positive maintenance margin.

The flat collateral weight and the MMF base apply below per-asset thresholds (`HAIRCUT_FROM`,
`MMF_FROM`), so most cells need no square root.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

from crossmargin.risk.columns import (
    HAIRCUT_BASE,
    HAIRCUT_FROM,
    HAIRCUT_PENALTY,
    MARK,
    MMF_BASE,
    MMF_FACTOR,
    MMF_FROM,
    MMF_PAD,
    PERP_MMF_BASE,
    PERP_MMF_FACTOR,
    PERP_MMF_FROM,
    PERP_MMF_PAD,
    PRICE,
    QUOTE_PAD,
    WEIGHT,
    Floats,
    Ints,
)

F = TypeVar("F", bound=Callable[..., Any])

try:
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is not installed
    numba = None  # type: ignore[assignment]

HAVE_NUMBA = numba is not None


def compiled(function: F) -> F:
    """Compile with numba (IEEE math, cached) when it is installed; otherwise return the function."""
    if numba is None:  # pragma: no cover - exercised only where numba is not installed
        return function
    jitted: F = cast("F", numba.njit(cache=True, fastmath=False, error_model="numpy")(function))
    return jitted


DELTA = 1e-12
"""Relative safety margin of every float sum; derived in `screen.py` (the float error is < 1e-14)."""
LINE_PAD = 1e-15
"""Absolute USD pad per non-zero cell: the engine's own roundings to 1e-18 USD, times < 1000."""
INF = math.inf


@compiled
def collateral_value(quantity: float, price: float, asset: int, params: Floats) -> float:
    """Return quantity x price x weight(notional) in float (the flat weight below the curve's threshold)."""
    notional = quantity * price
    value = notional * params[WEIGHT, asset]
    if notional >= params[HAIRCUT_FROM, asset]:
        curved = notional * params[HAIRCUT_BASE, asset] / (1.0 + params[HAIRCUT_PENALTY, asset] * math.sqrt(notional))
        value = min(value, curved)
    return float(value)


@compiled
def margin_fraction(notional: float, base: float, factor: float, threshold: float) -> float:
    """Return max(base, factor x sqrt(notional)), skipping the root below the threshold."""
    if notional < threshold:
        return base
    return max(base, factor * math.sqrt(notional))


ROOT_GUESS = 128.0
"""A power of two (so 1 / ROOT_GUESS is exact): sqrt(N) <= (N / ROOT_GUESS + ROOT_GUESS) / 2 for any N
(AM-GM), tight around N = 16,384 USD. The first stage bounds every square root with it."""


@compiled
def root_upper(notional: float) -> float:
    """Return an upper bound of sqrt(notional) with no square root (AM-GM, padded by DELTA)."""
    return (notional * (1.0 / ROOT_GUESS) + ROOT_GUESS) * 0.5 * (1.0 + DELTA)


@compiled
def cheap_asset_sums(row: int, collateral: Floats, owed: Floats, assets: Floats) -> tuple[float, float, float]:
    """Return (positive, negative, cells to pad) of a row's assets with no root and no division.

    The weight curve N b / (1 + p sqrt N) is bounded below by N b (1 - p r) with r >= sqrt N from
    `root_upper` (1 / (1 + x) >= 1 - x), floored at 0; MMF above by max(base, factor r). Branch-free,
    so an empty cell costs only its loads and adds exactly 0; every cell is padded (2 per asset).
    """
    positive = 0.0
    negative = 0.0
    for asset in range(collateral.shape[1]):
        price = assets[PRICE, asset]
        notional = collateral[row, asset] * price
        flat = notional * assets[WEIGHT, asset]
        curved = max(
            0.0, notional * assets[HAIRCUT_BASE, asset] * (1.0 - assets[HAIRCUT_PENALTY, asset] * root_upper(notional))
        )
        positive += min(flat, curved) if notional >= assets[HAIRCUT_FROM, asset] else flat
        debt = owed[row, asset] * price
        fraction = max(assets[MMF_BASE, asset], assets[MMF_FACTOR, asset] * root_upper(debt))
        negative += debt * (1.0 + fraction + assets[MMF_PAD, asset])
    return positive, negative, 2.0 * collateral.shape[1]


@compiled
def precise_asset_sums(row: int, collateral: Floats, owed: Floats, assets: Floats) -> tuple[float, float, float]:
    """Return (positive, negative, non-empty cells) of a row's assets with the exact formulas in float."""
    positive = 0.0
    negative = 0.0
    cells = 0.0
    for asset in range(collateral.shape[1]):
        quantity = collateral[row, asset]
        if quantity > 0.0:
            positive += collateral_value(quantity, assets[PRICE, asset], asset, assets)
            cells += 1.0
        debt = owed[row, asset]
        if debt > 0.0:
            notional = debt * assets[PRICE, asset]
            fraction = margin_fraction(
                notional, assets[MMF_BASE, asset], assets[MMF_FACTOR, asset], assets[MMF_FROM, asset]
            )
            negative += notional * (1.0 + fraction + assets[MMF_PAD, asset])
            cells += 1.0
    return positive, negative, cells


@compiled
def perp_sums(row: int, size: Floats, unsettled: Floats, markets: Floats) -> tuple[float, float, float]:
    """Return (positive, negative, pad) of a row's perp lines."""
    positive = 0.0
    negative = 0.0
    pad = 0.0
    for market in range(size.shape[1]):
        quantity = size[row, market]
        if quantity != 0.0:
            notional = abs(quantity) * markets[MARK, market]
            if quantity > 0.0:
                positive += notional
            else:
                negative += notional
            fraction = margin_fraction(
                notional,
                markets[PERP_MMF_BASE, market],
                markets[PERP_MMF_FACTOR, market],
                markets[PERP_MMF_FROM, market],
            )
            negative += notional * (fraction + markets[PERP_MMF_PAD, market])
            pad += markets[QUOTE_PAD, market] + LINE_PAD
        constant = unsettled[row, market]
        if constant > 0.0:
            positive += constant
        else:
            negative -= constant
    return positive, negative, pad


@compiled
def is_exposed(row: int, owed: Floats, size: Floats) -> bool:
    """Return whether a row owes anything or holds a perp position (else maintenance is exactly 0)."""
    for asset in range(owed.shape[1]):
        if owed[row, asset] > 0.0:
            return True
    for market in range(size.shape[1]):  # noqa: SIM110 - numba compiles loops, not generators
        if size[row, market] != 0.0:
            return True
    return False


@compiled
def row_headroom(
    row: int, collateral: Floats, owed: Floats, size: Floats, unsettled: Floats, assets: Floats, markets: Floats
) -> float:
    """Return a lower bound of (net equity - maintenance) of one row, +inf without exposure.

    Two stages: the cheap bounds (no root, no division) settle every row comfortably clear of the
    boundary; the rest are recomputed with the exact formulas in float. Both are lower bounds.
    """
    if not is_exposed(row, owed, size):
        return INF
    perp_positive, perp_negative, perp_pad = perp_sums(row, size, unsettled, markets)
    positive, negative, cells = cheap_asset_sums(row, collateral, owed, assets)
    headroom = (positive + perp_positive) * (1.0 - DELTA) - (
        (negative + perp_negative) * (1.0 + DELTA) + cells * LINE_PAD + perp_pad
    )
    if headroom > 0.0:
        return headroom
    positive, negative, cells = precise_asset_sums(row, collateral, owed, assets)
    return (positive + perp_positive) * (1.0 - DELTA) - (
        (negative + perp_negative) * (1.0 + DELTA) + cells * LINE_PAD + perp_pad
    )


@compiled
def screen_all(  # noqa: PLR0913, PLR0917
    rows: int,
    collateral: Floats,
    owed: Floats,
    size: Floats,
    unsettled: Floats,
    assets: Floats,
    markets: Floats,
    headroom: Floats,
    out: Ints,
) -> int:
    """Write every row's headroom; put the candidate rows (headroom <= 0) in `out`; return their count."""
    count = 0
    for row in range(rows):
        value = row_headroom(row, collateral, owed, size, unsettled, assets, markets)
        headroom[row] = value
        if value <= 0.0:
            out[count] = row
            count += 1
    return count


@compiled
def screen_some(  # noqa: PLR0913, PLR0917
    which: Ints,
    collateral: Floats,
    owed: Floats,
    size: Floats,
    unsettled: Floats,
    assets: Floats,
    markets: Floats,
    headroom: Floats,
) -> None:
    """Recompute the headroom of the given rows only."""
    for index in range(which.shape[0]):
        row = which[index]
        headroom[row] = row_headroom(row, collateral, owed, size, unsettled, assets, markets)


@compiled
def asset_term_bounds(quantity: float, debt: float, price: float, asset: int, assets: Floats) -> tuple[float, float]:
    """Return (lower, upper) bounds of one asset's exact collateral - debt - maintenance at a price."""
    value = collateral_value(quantity, price, asset, assets) if quantity > 0.0 else 0.0
    notional = debt * price
    fraction = margin_fraction(notional, assets[MMF_BASE, asset], assets[MMF_FACTOR, asset], assets[MMF_FROM, asset])
    pad = (LINE_PAD if quantity > 0.0 else 0.0) + (LINE_PAD if debt > 0.0 else 0.0)
    lower = value * (1.0 - DELTA) - (notional * (1.0 + fraction + assets[MMF_PAD, asset]) * (1.0 + DELTA) + pad)
    upper = value * (1.0 + DELTA) - notional * (1.0 + fraction) * (1.0 - DELTA)
    return lower, upper


@compiled
def perp_term_bounds(quantity: float, mark: float, market: int, markets: Floats) -> tuple[float, float]:
    """Return (lower, upper) bounds of one perp line's mark-dependent value - maintenance at a mark."""
    notional = abs(quantity) * mark
    fraction = margin_fraction(
        notional, markets[PERP_MMF_BASE, market], markets[PERP_MMF_FACTOR, market], markets[PERP_MMF_FROM, market]
    )
    below, above = (1.0 - DELTA, 1.0 + DELTA) if quantity > 0.0 else (-1.0 - DELTA, -1.0 + DELTA)
    pad = markets[QUOTE_PAD, market] + LINE_PAD
    lower = notional * below - (notional * (fraction + markets[PERP_MMF_PAD, market]) * (1.0 + DELTA) + pad)
    upper = notional * above - notional * fraction * (1.0 - DELTA)
    return lower, upper


@compiled
def reprice_asset(  # noqa: PLR0913, PLR0917
    rows: int,
    collateral: Floats,
    owed: Floats,
    asset: int,
    assets: Floats,
    before: float,
    after: float,
    headroom: Floats,
    out: Ints,
) -> int:
    """Move every headroom by the bounded change of one asset's price; collect all candidate rows."""
    count = 0
    for row in range(rows):
        value = headroom[row]
        if value != INF:
            quantity = collateral[row, asset]
            debt = owed[row, asset]
            if quantity > 0.0 or debt > 0.0:
                lower, _ = asset_term_bounds(quantity, debt, after, asset, assets)
                _, upper = asset_term_bounds(quantity, debt, before, asset, assets)
                value = np.nextafter(value + (lower - upper), -INF)
                headroom[row] = value
            if value <= 0.0:
                out[count] = row
                count += 1
    return count


@compiled
def reprice_market(  # noqa: PLR0913, PLR0917
    rows: int, size: Floats, market: int, markets: Floats, before: float, after: float, headroom: Floats, out: Ints
) -> int:
    """Move every headroom by the bounded change of one perp market's mark; collect all candidate rows."""
    count = 0
    for row in range(rows):
        value = headroom[row]
        if value != INF:
            quantity = size[row, market]
            if quantity != 0.0:
                lower, _ = perp_term_bounds(quantity, after, market, markets)
                _, upper = perp_term_bounds(quantity, before, market, markets)
                value = np.nextafter(value + (lower - upper), -INF)
                headroom[row] = value
            if value <= 0.0:
                out[count] = row
                count += 1
    return count


@compiled
def collect(rows: int, headroom: Floats, out: Ints) -> int:
    """Put the rows whose headroom is <= 0 in `out`; return their count."""
    count = 0
    for row in range(rows):
        if headroom[row] <= 0.0:
            out[count] = row
            count += 1
    return count
