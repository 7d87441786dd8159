"""The numpy fallback of the screening kernels: the same bounds, vectorized over blocks of rows.

Used when numba is not installed. Rows are processed in blocks so the temporaries stay in cache;
each block of tiles is first copied to row-major order (rows x columns). Cells are padded only
where non-empty here (the kernels pad every asset cell): both are bounds the analysis covers.
The sums run in a different order than the compiled loop (numpy sums pairwise); the error bound
of `screen.py` covers any order. Cells holding nothing contribute exactly zero, as in the loop.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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
    Floats,
    untiled,
)
from crossmargin.risk.kernels import DELTA, LINE_PAD, Tiles

BLOCK_ROWS = 4096


def collateral_values(quantity: Floats, price: Floats, assets: Floats) -> Floats:
    """Return quantity x price x weight(notional) per cell (rows x assets)."""
    notional = quantity * price
    value = notional * assets[WEIGHT]
    curved_cells = notional >= assets[HAIRCUT_FROM]
    if curved_cells.any():
        curved = notional * assets[HAIRCUT_BASE] / (1.0 + assets[HAIRCUT_PENALTY] * np.sqrt(notional))
        value = np.where(curved_cells, np.minimum(value, curved), value)
    values: Floats = value
    return values


def margin_fractions(notional: Floats, base: Floats, factor: Floats, threshold: Floats) -> Floats:
    """Return max(base, factor x sqrt(notional)) per cell, the base below the threshold."""
    fractions: Floats = np.where(notional < threshold, base, np.maximum(base, factor * np.sqrt(notional)))
    return fractions


def block_headroom(
    collateral: Floats, owed: Floats, size: Floats, unsettled: Floats, assets: Floats, markets: Floats
) -> Floats:
    """Return the headroom of a block of rows (the same bound as `kernels.row_headroom`)."""
    positive = collateral_values(collateral, assets[PRICE], assets).sum(axis=1)
    debt_notional = owed * assets[PRICE]
    fraction = margin_fractions(debt_notional, assets[MMF_BASE], assets[MMF_FACTOR], assets[MMF_FROM])
    negative = (debt_notional * (1.0 + fraction + assets[MMF_PAD])).sum(axis=1)
    pad = LINE_PAD * ((collateral > 0.0).sum(axis=1) + (owed > 0.0).sum(axis=1))
    exposed = (owed > 0.0).any(axis=1)
    if size.shape[1]:
        notional = np.abs(size) * markets[MARK]
        positive += np.where(size > 0.0, notional, 0.0).sum(axis=1) + np.maximum(unsettled, 0.0).sum(axis=1)
        perp_fraction = margin_fractions(
            notional, markets[PERP_MMF_BASE], markets[PERP_MMF_FACTOR], markets[PERP_MMF_FROM]
        )
        negative += (np.where(size < 0.0, notional, 0.0) + notional * (perp_fraction + markets[PERP_MMF_PAD])).sum(
            axis=1
        ) - np.minimum(unsettled, 0.0).sum(axis=1)
        pad += np.where(size != 0.0, markets[QUOTE_PAD] + LINE_PAD, 0.0).sum(axis=1)
        exposed |= (size != 0.0).any(axis=1)
    headroom = positive * (1.0 - DELTA) - (negative * (1.0 + DELTA) + pad)
    return np.where(exposed, headroom, np.inf)


def screen_all(rows: int, cells: Tiles, assets: Floats, markets: Floats) -> Floats:
    """Return every row's headroom, computed a block of tiles at a time from the tiled arrays."""
    headroom = np.empty(rows, dtype=np.float64)
    tiles = BLOCK_ROWS // TILE_ROWS
    for first in range(0, -(-rows // TILE_ROWS), tiles):
        start = first * TILE_ROWS
        count = min(BLOCK_ROWS, rows - start)
        collateral, owed, size, unsettled = (untiled(array[first : first + tiles], count) for array in cells)
        headroom[start : start + count] = block_headroom(collateral, owed, size, unsettled, assets, markets)
    return headroom


def asset_term_bounds(
    quantity: Floats, debt: Floats, price: float, asset: int, assets: Floats
) -> tuple[Floats, Floats]:
    """Return (lower, upper) bounds per row of one asset's collateral - debt - maintenance at a price."""
    column = assets[:, asset : asset + 1]
    value = collateral_values(quantity[:, None], np.array([price]), column)[:, 0]
    notional = debt * price
    fraction = margin_fractions(notional, column[MMF_BASE], column[MMF_FACTOR], column[MMF_FROM])
    pad = LINE_PAD * ((quantity > 0.0).astype(np.float64) + (debt > 0.0))
    lower = value * (1.0 - DELTA) - (notional * (1.0 + fraction + column[MMF_PAD]) * (1.0 + DELTA) + pad)
    upper = value * (1.0 + DELTA) - notional * (1.0 + fraction) * (1.0 - DELTA)
    return lower, upper


def perp_term_bounds(quantity: Floats, mark: float, market: int, markets: Floats) -> tuple[Floats, Floats]:
    """Return (lower, upper) bounds per row of one perp line's mark-dependent value - maintenance."""
    column = markets[:, market]
    notional = np.abs(quantity) * mark
    fraction = margin_fractions(notional, column[PERP_MMF_BASE], column[PERP_MMF_FACTOR], column[PERP_MMF_FROM])
    long = quantity > 0.0
    below = np.where(long, 1.0 - DELTA, -1.0 - DELTA)
    above = np.where(long, 1.0 + DELTA, -1.0 + DELTA)
    pad = np.where(quantity != 0.0, column[QUOTE_PAD] + LINE_PAD, 0.0)
    lower = notional * below - (notional * (fraction + column[PERP_MMF_PAD]) * (1.0 + DELTA) + pad)
    upper = notional * above - notional * fraction * (1.0 - DELTA)
    return lower, upper


def shift_headroom(headroom: Floats, moved: npt.NDArray[np.bool_], lower: Floats, upper: Floats) -> None:
    """Add lower - upper to the headroom of the moved rows (exposed ones), rounding toward -inf."""
    rows = moved & (headroom != np.inf)
    headroom[rows] = np.nextafter(headroom[rows] + (lower[rows] - upper[rows]), -np.inf)
