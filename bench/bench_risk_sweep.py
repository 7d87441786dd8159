"""Risk sweep over 1,000,000 subaccounts x 16 assets, against a floor measured in the same run.

The floor reads the same bytes as the screen (collateral and owed quantity of every row and asset,
in the screen's tiled layout) and writes one float per row, with trivial math (a sum of products),
compiled the same way. A second floor reads the same values laid out row-major (rows x assets, the
layout before the tiles) for reference. The screen is `crossmargin.risk`'s numba kernel, then its
numpy fallback (blocks of rows), then a straightforward whole-array numpy version on row-major
arrays. The incremental figures: one asset's price tick (headroom of every row holding it shifted
by a bounded delta, all candidates collected) and 1,000 changed rows re-screened. One thread; JIT
warmed up before timing; CPU time (the process's, not the wall clock: the machine is shared), best
of N runs.

Synthetic data (seeded): each cell holds collateral with probability 1/4 and debt with probability
1/10; 10 of the 16 assets use the inverseSqrt weight with base = weight (a square root for every
holding, like BTC/ETH/SOL in the demo config), 6 the identity weight.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import numpy as np

from bench.common import progress, save
from crossmargin.risk import kernels, numpy_screen
from crossmargin.risk.columns import (
    ASSET_PARAMS,
    HAIRCUT_BASE,
    HAIRCUT_FROM,
    HAIRCUT_PENALTY,
    MARKET_PARAMS,
    MMF_BASE,
    MMF_FACTOR,
    MMF_FROM,
    MMF_PAD,
    PRICE,
    TILE_ROWS,
    WEIGHT,
    tile_maxima,
    tiled,
)

ROWS = int(os.environ.get("BENCH_RISK_ROWS", "1000000"))
ASSETS = 16
CURVED_ASSETS = 10
REPEATS = 9


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Return the least CPU time (seconds) of `repeats` runs of `work`."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        fastest = min(fastest, time.process_time() - started)
    return fastest


@kernels.compiled
def floor_pass(rows: int, collateral: np.ndarray, owed: np.ndarray, prices: np.ndarray, out: np.ndarray) -> int:
    """Read every cell of both tiled arrays, write one sum of products per row: the memory floor."""
    sums = np.zeros(TILE_ROWS)
    count = 0
    for tile in range((rows + TILE_ROWS - 1) // TILE_ROWS):
        start = tile * TILE_ROWS
        width = min(TILE_ROWS, rows - start)
        sums[:] = 0.0
        for asset in range(collateral.shape[1]):
            price = prices[asset]
            for lane in range(width):
                sums[lane] += (collateral[tile, asset, lane] - owed[tile, asset, lane]) * price
        for lane in range(width):
            out[start + lane] = sums[lane]
            count += sums[lane] <= 0.0
    return count


@kernels.compiled
def row_major_floor_pass(
    rows: int, collateral: np.ndarray, owed: np.ndarray, prices: np.ndarray, out: np.ndarray
) -> int:
    """The same floor over row-major arrays (rows x assets)."""
    count = 0
    for row in range(rows):
        total = 0.0
        for asset in range(collateral.shape[1]):
            total += (collateral[row, asset] - owed[row, asset]) * prices[asset]
        out[row] = total
        if total <= 0.0:
            count += 1
    return count


def synthetic(
    rows: int, seed: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prices = np.concatenate([[1.0, 1.0], rng.uniform(0.5, 70_000.0, ASSETS - 2)])
    assets = np.zeros((ASSET_PARAMS, ASSETS))
    assets[PRICE] = prices
    assets[WEIGHT] = np.where(np.arange(ASSETS) < ASSETS - CURVED_ASSETS, 1.0, 0.9)
    curved = np.arange(ASSETS) >= ASSETS - CURVED_ASSETS
    assets[HAIRCUT_BASE] = np.where(curved, 0.9, 0.0)
    assets[HAIRCUT_PENALTY] = np.where(curved, 0.00003, 0.0)
    assets[HAIRCUT_FROM] = np.where(curved, 0.0, np.inf)
    assets[MMF_BASE] = 0.05
    assets[MMF_FACTOR] = 0.00003
    assets[MMF_FROM] = (0.05 / 0.00003) ** 2 * (1 - 1e-9)
    assets[MMF_PAD] = 2.1e-18
    held = rng.random((rows, ASSETS)) < 0.25
    collateral = np.where(held, rng.exponential(20_000.0, (rows, ASSETS)) / prices, 0.0)
    borrowed = (rng.random((rows, ASSETS)) < 0.10) & ~held
    owed = np.where(borrowed, rng.exponential(8_000.0, (rows, ASSETS)) / prices, 0.0)
    markets = np.zeros((MARKET_PARAMS, 0))
    empty = np.zeros((rows, 0))
    return collateral, owed, empty, empty.copy(), assets, markets


def straightforward_numpy(
    collateral: np.ndarray,
    owed: np.ndarray,
    size: np.ndarray,
    unsettled: np.ndarray,
    assets: np.ndarray,
    markets: np.ndarray,
) -> np.ndarray:
    """The same bounds as one whole-array numpy expression (no blocking)."""
    return numpy_screen.block_headroom(collateral, owed, size, unsettled, assets, markets)


def exposure(owed: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Return per row (row-major inputs) whether it owes anything or holds a perp position.

    The rule `RiskColumns.set_row` applies to one row, over the whole synthetic array at once.
    """
    flags: np.ndarray = (owed > 0.0).any(axis=1) | (size != 0.0).any(axis=1)
    return flags


def main() -> None:
    if not kernels.HAVE_NUMBA:
        print("bench_risk_sweep: numba is not installed; only the numpy figures would be meaningful")
    progress(f"risk sweep: building {ROWS:,} x {ASSETS} synthetic columns")
    collateral, owed, size, unsettled, assets, markets = synthetic(ROWS)
    cells = (tiled(collateral), tiled(owed), tiled(size), tiled(unsettled))
    maxima = (tile_maxima(cells[0]), tile_maxima(cells[1]), tile_maxima(cells[2]), tile_maxima(cells[3]))
    exposed = exposure(owed, size)
    headroom = np.empty(ROWS)
    out = np.empty(ROWS, dtype=np.int64)
    floor_out = np.empty(ROWS)
    prices = assets[PRICE].copy()
    asset = ASSETS - 1  # a curved asset: square roots on every holding row
    changed = np.sort(np.random.default_rng(1).choice(ROWS, 1_000, replace=False)).astype(np.int64)

    def sweep() -> int:
        return int(kernels.screen_all(ROWS, cells, maxima, exposed, assets, markets, headroom, out))

    def tick() -> None:
        before = assets[PRICE, asset]
        assets[PRICE, asset] = before * 0.999
        kernels.reprice_asset(ROWS, cells, maxima, asset, assets, before, assets[PRICE, asset], headroom, out)

    progress("warming up the JIT")
    floor_pass(ROWS, cells[0], cells[1], prices, floor_out)
    row_major_floor_pass(ROWS, collateral, owed, prices, floor_out)
    sweep()
    kernels.reprice_asset(ROWS, cells, maxima, asset, assets, prices[-1], prices[-1], headroom, out)
    kernels.screen_some(changed, cells, maxima, exposed, assets, markets, headroom)

    results: dict[str, float] = {}
    progress("timing the floors")
    results["floor"] = best_of(REPEATS, lambda: floor_pass(ROWS, cells[0], cells[1], prices, floor_out))
    results["floor, row-major layout"] = best_of(
        REPEATS, lambda: row_major_floor_pass(ROWS, collateral, owed, prices, floor_out)
    )
    progress("timing the numba screen")
    results["numba screen"] = best_of(REPEATS, sweep)
    candidates = sweep()
    progress("timing the numpy screens")
    reference = numpy_screen.screen_all(ROWS, cells, assets, markets)
    assert int((reference <= 0.0).sum()) == candidates, "numba and numpy screens flag the same rows here"
    results["numpy screen (blocked)"] = best_of(3, lambda: numpy_screen.screen_all(ROWS, cells, assets, markets))
    results["numpy screen (whole array)"] = best_of(
        2, lambda: straightforward_numpy(collateral, owed, size, unsettled, assets, markets)
    )
    progress("timing the incremental updates")
    results["price tick, one asset"] = best_of(REPEATS, tick)
    results["1,000 changed rows"] = best_of(
        REPEATS, lambda: kernels.screen_some(changed, cells, maxima, exposed, assets, markets, headroom)
    )
    sweep()
    check = headroom[changed].copy()
    kernels.screen_some(changed, cells, maxima, exposed, assets, markets, headroom)
    assert np.array_equal(check, headroom[changed]), "re-screening rows gives the sweep's bits"
    report(results, candidates, cells[0].nbytes + cells[1].nbytes)


SCREENS = {"floor", "floor, row-major layout", "numba screen", "numpy screen (blocked)", "numpy screen (whole array)"}


def report(results: dict[str, float], candidates: int, nbytes: int) -> None:
    floor = results["floor"]
    print(f"\nRisk sweep: {ROWS:,} subaccounts x {ASSETS} assets, float64, one thread ({nbytes / 1e6:.0f} MB read)")
    print(f"{'pass (CPU time, best of N)':<30}{'ms':>10}{'M rows/s':>12}{'% of floor':>12}")
    for name, seconds in results.items():
        share = f"{100 * floor / seconds:.0f}%" if name in SCREENS else ""
        print(f"{name:<30}{seconds * 1e3:>10.3f}{ROWS / seconds / 1e6:>12.1f}{share:>12}")
    print(f"candidates flagged by the screen: {candidates:,} ({100 * candidates / ROWS:.2f}% of rows)")
    path = save(
        "risk_sweep",
        {
            "rows": ROWS,
            "assets": ASSETS,
            "layout": f"tiles of {TILE_ROWS} rows, asset-major inside a tile",
            "timer": "process CPU time, best of N",
            "ms": {name: round(seconds * 1e3, 3) for name, seconds in results.items()},
            "percent_of_floor": {name: round(100 * floor / results[name], 1) for name in results if name in SCREENS},
            "candidates": candidates,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
