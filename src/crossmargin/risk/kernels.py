"""The compiled screening kernels: tile by tile, contiguous lanes, no temporaries, single thread.

Each kernel is a plain loop that numba compiles (`@njit(cache=True, fastmath=False)`: IEEE
arithmetic, no reassociation, so the error analysis in `screen.py` holds; `error_model="numpy"`,
so a division never raises). Without numba the same functions run as slow Python and `screen.py`
uses the numpy versions instead. A row's *headroom* is a lower bound of the exact net equity minus
maintenance margin; a row is a candidate when its headroom is <= 0; a row with no exposure (no
debt, no perp position: `RiskColumns.exposed`) has headroom +inf, because the exact rule needs a
positive maintenance.

The arrays are tiled (see `columns.py`): the sweep keeps two sums per lane of a tile (positive,
negative) and adds one asset's run after another, so every inner loop runs over
contiguous lanes with loop-invariant parameters and the compiler vectorizes it (AVX2: four lanes,
`vsqrtpd`/`vdivpd`). Every choice inside a lane is a select, never a branch; the only branches are
per tile and asset: an empty run (its maximum is 0) is skipped, and a run whose largest notional
is below the threshold of the weight curve (`HAIRCUT_FROM`) or of the MMF square root (`MMF_FROM`)
takes a loop without roots or divisions. The largest notional of a run is fl(max quantity x price),
at least every lane's fl(quantity x price) (rounding is monotonic), so the tile-wide choice is the
one each lane would make: both loops give the same bits.
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
    TILE_ROWS,
    WEIGHT,
    Bools,
    Floats,
    Ints,
)

F = TypeVar("F", bound=Callable[..., Any])

try:
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is not installed
    numba = None  # type: ignore[assignment]

HAVE_NUMBA = numba is not None
Tiles = tuple[Floats, Floats, Floats, Floats]
"""(collateral, owed, perp size, perp unsettled), each (tiles, columns, TILE_ROWS)."""
Maxima = tuple[Floats, Floats, Floats, Floats]
"""The per-tile maxima of the same four arrays, each (tiles, columns)."""


def compiled(function: F) -> F:
    """Compile with numba (IEEE math, cached) when it is installed; otherwise return the function."""
    if numba is None:  # pragma: no cover - exercised only where numba is not installed
        return function
    jitted: F = cast("F", numba.njit(cache=True, fastmath=False, error_model="numpy")(function))
    return jitted


def inlined(function: F) -> F:
    """Like `compiled`, but inlined into its callers (so a loop calling it still vectorizes)."""
    if numba is None:  # pragma: no cover - exercised only where numba is not installed
        return function
    jitted: F = cast("F", numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")(function))
    return jitted


DELTA = 1e-12
"""Relative safety margin of every float sum; derived in `screen.py` (the float error is < 1e-12)."""
LINE_PAD = 1e-15
"""Absolute USD pad per cell: the engine's own roundings to 1e-18 USD, times < 1000."""
STEP_DOWN = 2.0**-51
"""s - |s| x STEP_DOWN is below every real number that rounds to s (see `screen.py`, price ticks)."""
INF = math.inf


@inlined
def collateral_value(notional: float, weight: float, base: float, penalty: float, threshold: float) -> float:
    """Return notional x weight(notional): the flat weight below the curve's threshold, else the smaller.

    With base <= weight the curve is the smaller in floats as well: fl(N x base) <= fl(N x weight)
    (rounding is monotonic) and dividing by fl(1 + penalty sqrt N) >= 1 cannot raise it. So a loop
    that takes the curve alone (`add_collateral`) gives the same bits.
    """
    flat = notional * weight
    curved = notional * base / (1.0 + penalty * math.sqrt(notional))
    lower = curved if curved < flat else flat  # noqa: FURB136 - a select; numba's min() is a branch, not vectorized
    return lower if notional >= threshold else flat


@inlined
def margin_fraction(notional: float, base: float, factor: float, threshold: float) -> float:
    """Return max(base, factor x sqrt(notional)): the base below the threshold."""
    root = factor * math.sqrt(notional)
    return root if (notional >= threshold and root > base) else base


@inlined
def add_collateral(
    collateral: Floats, tile: int, asset: int, lanes: tuple[int, int], assets: Floats, largest: float, sums: Floats
) -> None:
    """Add one asset's collateral values of lanes first..last of a tile to the positive sums (row 0)."""
    first, last = lanes
    price, weight, threshold = assets[PRICE, asset], assets[WEIGHT, asset], assets[HAIRCUT_FROM, asset]
    if largest * price < threshold:
        for lane in range(first, last):
            sums[0, lane - first] += collateral[tile, asset, lane] * price * weight
        return
    base, penalty = assets[HAIRCUT_BASE, asset], assets[HAIRCUT_PENALTY, asset]
    if threshold <= 0.0 and base <= weight:
        # The curve is below the flat weight everywhere, in floats too (see `collateral_value`): no min.
        for lane in range(first, last):
            notional = collateral[tile, asset, lane] * price
            sums[0, lane - first] += notional * base / (1.0 + penalty * math.sqrt(notional))
        return
    for lane in range(first, last):
        notional = collateral[tile, asset, lane] * price
        sums[0, lane - first] += collateral_value(notional, weight, base, penalty, threshold)


@inlined
def add_debt(
    owed: Floats, tile: int, asset: int, lanes: tuple[int, int], assets: Floats, largest: float, sums: Floats
) -> None:
    """Add one asset's debt x (1 + MMF + pad) of lanes first..last to the negative sums (row 1)."""
    first, last = lanes
    price, base, threshold, pad = (
        assets[PRICE, asset],
        assets[MMF_BASE, asset],
        assets[MMF_FROM, asset],
        assets[MMF_PAD, asset],
    )
    if largest * price < threshold:
        scale = 1.0 + base + pad
        for lane in range(first, last):
            sums[1, lane - first] += owed[tile, asset, lane] * price * scale
        return
    factor = assets[MMF_FACTOR, asset]
    for lane in range(first, last):
        notional = owed[tile, asset, lane] * price
        sums[1, lane - first] += notional * (1.0 + margin_fraction(notional, base, factor, threshold) + pad)


@inlined
def add_perp(
    size: Floats, unsettled: Floats, tile: int, market: int, lanes: tuple[int, int], markets: Floats, sums: Floats
) -> None:
    """Add one perp market's lines of lanes first..last: value at mark, unsettled constant, MMF term and pad."""
    first, last = lanes
    mark, base, factor, threshold = (
        markets[MARK, market],
        markets[PERP_MMF_BASE, market],
        markets[PERP_MMF_FACTOR, market],
        markets[PERP_MMF_FROM, market],
    )
    mmf_pad, line_pad = markets[PERP_MMF_PAD, market], markets[QUOTE_PAD, market] + LINE_PAD
    for lane in range(first, last):
        quantity, constant, at = size[tile, market, lane], unsettled[tile, market, lane], lane - first
        notional = abs(quantity) * mark
        fraction = margin_fraction(notional, base, factor, threshold)
        sums[0, at] += notional if quantity > 0.0 else 0.0
        sums[0, at] += constant if constant > 0.0 else 0.0  # noqa: FURB136 - a select, as above
        sums[1, at] += notional if quantity < 0.0 else 0.0
        sums[1, at] += notional * (fraction + mmf_pad)
        sums[1, at] += line_pad if quantity != 0.0 else 0.0
        sums[1, at] -= constant if constant < 0.0 else 0.0  # noqa: FURB136 - a select, as above


@inlined
def lane_sums(
    tile: int,
    lanes: tuple[int, int],
    cells: Tiles,
    maxima: Maxima,
    assets: Floats,
    markets: Floats,
    sums: Floats,
) -> None:
    """Write (positive, negative) of lanes first..last of a tile into sums[0..1, :last - first]."""
    collateral, owed, size, unsettled = cells
    collateral_max, owed_max, size_max, unsettled_max = maxima
    first, last = lanes
    for lane in range(last - first):
        sums[0, lane] = 0.0
        sums[1, lane] = 0.0
    for asset in range(collateral.shape[1]):
        if collateral_max[tile, asset] > 0.0:
            add_collateral(collateral, tile, asset, lanes, assets, collateral_max[tile, asset], sums)
        if owed_max[tile, asset] > 0.0:
            add_debt(owed, tile, asset, lanes, assets, owed_max[tile, asset], sums)
    for market in range(size.shape[1]):
        if size_max[tile, market] > 0.0 or unsettled_max[tile, market] > 0.0:
            add_perp(size, unsettled, tile, market, lanes, markets, sums)


@inlined
def finish(sums: Floats, width: int, cell_pad: float, exposed: Bools, start: int, headroom: Floats) -> None:
    """Write headroom[start:start + width]: P (1 - DELTA) - (N (1 + DELTA) + cell_pad), +inf where not exposed."""
    for lane in range(width):
        value = sums[0, lane] * (1.0 - DELTA) - (sums[1, lane] * (1.0 + DELTA) + cell_pad)
        headroom[start + lane] = value if exposed[start + lane] else INF


@inlined
def collect_run(headroom: Floats, start: int, stop: int, out: Ints, count: int) -> int:
    """Append the rows start..stop whose headroom is <= 0 to `out` (branch-free); return the new count."""
    for row in range(start, stop):
        out[count] = row
        count += headroom[row] <= 0.0
    return count


@compiled
def screen_all(  # noqa: PLR0913, PLR0917
    rows: int,
    cells: Tiles,
    maxima: Maxima,
    exposed: Bools,
    assets: Floats,
    markets: Floats,
    headroom: Floats,
    out: Ints,
) -> int:
    """Write every row's headroom; put the candidate rows (headroom <= 0) in `out`; return their count."""
    sums = np.zeros((2, TILE_ROWS))
    cell_pad = 2.0 * cells[0].shape[1] * LINE_PAD
    count = 0
    for tile in range((rows + TILE_ROWS - 1) // TILE_ROWS):
        start = tile * TILE_ROWS
        width = min(TILE_ROWS, rows - start)
        lane_sums(tile, (0, width), cells, maxima, assets, markets, sums)
        finish(sums, width, cell_pad, exposed, start, headroom)
        count = collect_run(headroom, start, start + width, out, count)
    return count


@compiled
def screen_some(
    which: Ints, cells: Tiles, maxima: Maxima, exposed: Bools, assets: Floats, markets: Floats, headroom: Floats
) -> None:
    """Recompute the headroom of the given rows only (the same sums as `screen_all`, one lane at a time)."""
    sums = np.zeros((2, 1))
    cell_pad = 2.0 * cells[0].shape[1] * LINE_PAD
    for index in range(which.shape[0]):
        row = which[index]
        tile, lane = row // TILE_ROWS, row % TILE_ROWS
        lane_sums(tile, (lane, lane + 1), cells, maxima, assets, markets, sums)
        finish(sums, 1, cell_pad, exposed, row, headroom)


@inlined
def asset_term_bounds(  # noqa: PLR0913, PLR0917
    quantity: float,
    debt: float,
    price: float,
    weight: float,
    base: float,
    penalty: float,
    threshold: float,
    mmf: tuple[float, float, float, float],
) -> tuple[float, float]:
    """Return (lower, upper) bounds of one asset's exact collateral - debt - maintenance at a price."""
    mmf_base, mmf_factor, mmf_from, mmf_pad = mmf
    value = collateral_value(quantity * price, weight, base, penalty, threshold)
    notional = debt * price
    fraction = margin_fraction(notional, mmf_base, mmf_factor, mmf_from)
    pad = (LINE_PAD if quantity > 0.0 else 0.0) + (LINE_PAD if debt > 0.0 else 0.0)
    lower = value * (1.0 - DELTA) - (notional * (1.0 + fraction + mmf_pad) * (1.0 + DELTA) + pad)
    upper = value * (1.0 + DELTA) - notional * (1.0 + fraction) * (1.0 - DELTA)
    return lower, upper


@inlined
def shift_asset_run(
    cells: Tiles, tile: int, run: tuple[int, int], assets: Floats, prices: tuple[float, float], headroom: Floats
) -> None:
    """Move the headroom of a tile's exposed lanes holding the asset by lower(after) - upper(before), rounded down."""
    collateral, owed, _, _ = cells
    (asset, width), (before, after), start = run, prices, tile * TILE_ROWS
    weight, base, penalty, threshold = (
        assets[WEIGHT, asset],
        assets[HAIRCUT_BASE, asset],
        assets[HAIRCUT_PENALTY, asset],
        assets[HAIRCUT_FROM, asset],
    )
    mmf = (assets[MMF_BASE, asset], assets[MMF_FACTOR, asset], assets[MMF_FROM, asset], assets[MMF_PAD, asset])
    for lane in range(width):
        held, debt, value = collateral[tile, asset, lane], owed[tile, asset, lane], headroom[start + lane]
        lower, _ = asset_term_bounds(held, debt, after, weight, base, penalty, threshold, mmf)
        _, upper = asset_term_bounds(held, debt, before, weight, base, penalty, threshold, mmf)
        moved = value + (lower - upper)
        moved -= abs(moved) * STEP_DOWN
        headroom[start + lane] = moved if (held + debt > 0.0 and value != INF) else value


@compiled
def reprice_asset(  # noqa: PLR0913, PLR0917
    rows: int,
    cells: Tiles,
    maxima: Maxima,
    asset: int,
    assets: Floats,
    before: float,
    after: float,
    headroom: Floats,
    out: Ints,
) -> int:
    """Move every headroom by the bounded change of one asset's price; collect all candidate rows."""
    collateral_max, owed_max, _, _ = maxima
    count = 0
    for tile in range((rows + TILE_ROWS - 1) // TILE_ROWS):
        start = tile * TILE_ROWS
        width = min(TILE_ROWS, rows - start)
        if collateral_max[tile, asset] > 0.0 or owed_max[tile, asset] > 0.0:
            shift_asset_run(cells, tile, (asset, width), assets, (before, after), headroom)
        count = collect_run(headroom, start, start + width, out, count)
    return count


@inlined
def perp_term_bounds(
    quantity: float, mark: float, mmf: tuple[float, float, float, float], pad: float
) -> tuple[float, float]:
    """Return (lower, upper) bounds of one perp line's mark-dependent value - maintenance at a mark."""
    base, factor, threshold, mmf_pad = mmf
    notional = abs(quantity) * mark
    fraction = margin_fraction(notional, base, factor, threshold)
    below = 1.0 - DELTA if quantity > 0.0 else -1.0 - DELTA
    above = 1.0 + DELTA if quantity > 0.0 else -1.0 + DELTA
    lower = notional * below - (notional * (fraction + mmf_pad) * (1.0 + DELTA) + pad)
    upper = notional * above - notional * fraction * (1.0 - DELTA)
    return lower, upper


@inlined
def shift_market_run(
    size: Floats, tile: int, run: tuple[int, int], markets: Floats, prices: tuple[float, float], headroom: Floats
) -> None:
    """Move the headroom of a tile's lanes with a position by lower(after) - upper(before), rounded down."""
    (market, width), (before, after), start = run, prices, tile * TILE_ROWS
    mmf = (
        markets[PERP_MMF_BASE, market],
        markets[PERP_MMF_FACTOR, market],
        markets[PERP_MMF_FROM, market],
        markets[PERP_MMF_PAD, market],
    )
    pad = markets[QUOTE_PAD, market] + LINE_PAD
    for lane in range(width):
        quantity, value = size[tile, market, lane], headroom[start + lane]
        lower, _ = perp_term_bounds(quantity, after, mmf, pad)
        _, upper = perp_term_bounds(quantity, before, mmf, pad)
        moved = value + (lower - upper)
        moved -= abs(moved) * STEP_DOWN
        headroom[start + lane] = moved if (quantity != 0.0 and value != INF) else value


@compiled
def reprice_market(  # noqa: PLR0913, PLR0917
    rows: int,
    cells: Tiles,
    maxima: Maxima,
    market: int,
    markets: Floats,
    before: float,
    after: float,
    headroom: Floats,
    out: Ints,
) -> int:
    """Move every headroom by the bounded change of one perp market's mark; collect all candidate rows."""
    _, _, size, _ = cells
    _, _, size_max, _ = maxima
    count = 0
    for tile in range((rows + TILE_ROWS - 1) // TILE_ROWS):
        start = tile * TILE_ROWS
        width = min(TILE_ROWS, rows - start)
        if size_max[tile, market] > 0.0:
            shift_market_run(size, tile, (market, width), markets, (before, after), headroom)
        count = collect_run(headroom, start, start + width, out, count)
    return count


@compiled
def collect(rows: int, headroom: Floats, out: Ints) -> int:
    """Put the rows whose headroom is <= 0 in `out`; return their count."""
    return collect_run(headroom, 0, rows, out, 0)
