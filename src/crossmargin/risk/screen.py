"""The risk screen: every row that might be at or past MMR >= 100%, then the exact confirmation.

The exact rule (`MarginSummary.is_liquidatable`) is: maintenance > 0 and maintenance >= net
equity. The screen computes, per row, a float64 *headroom* h that is provably <= the exact
(net equity - maintenance) the engine would compute, and flags the rows with h <= 0. A row the
exact math flags therefore always has h <= 0: the screen never misses. Rows without debt or perp
position have maintenance 0 exactly and get h = +inf.

Why h is a lower bound (u = 2**-53, the unit roundoff; gamma(k) = k u / (1 - k u)):

1. Inputs. Each quantity and price is one exact integer divided by a power of ten (or WAD) in
   Python, which rounds correctly: relative error <= u. Parameters likewise.
2. Terms. Every term is non-negative and goes to one of two sums: P (collateral values, long perp
   values, positive unsettled constants) or N (debt notional x (1 + MMF + pad), short perp values,
   perp notional x (MMF + pad), negative unsettled constants). A term takes at most 10 roundings
   (two inputs, product, weight, root, penalty, sum, quotient, min/max exact), so it is within
   gamma(10) of the real value of the formula. IEEE sqrt and division round correctly.
3. Sums. T terms summed in any order add gamma(T - 1) relative to the sum of the (non-negative)
   terms. P has one term per asset and two per market, N one per asset and four per market (short
   value, MMF term, the line's pad, a negative constant), so T <= 4 x (assets + markets) and with
   at most `MAX_COLUMNS` = 1,000 columns (checked) every sum is within gamma(4,000) < 4.5e-13 of
   the real one; for realistic T (16 assets) within gamma(16) < 2e-15. DELTA = 1e-12 is taken as
   the margin: P x (1 - DELTA) <= real P, N x (1 + DELTA) >= real N. The spare (DELTA minus the
   actual error, >= 2u relative to P + N) also covers the rounding of the final P' - N', so
   h <= real P - real N.
4. The engine's own roundings all go against the account (numbers.py: collateral rounds down,
   debt and margin up), by at most 1e-18 USD per operation, except a perp's value at mark, which
   is floored to a quote atom. The floor of a notional moves a collateral value by at most
   max(weight, base) x 1e-18 (the weight curve's slope is at most its base). The rounded-up root
   and product raise MMF by at most (factor + 1) x 1e-18, padded per asset as (factor + 1) x 2e-18
   (`MMF_PAD`), and the rounded-up notional raises MMF x N by at most 1.5 x MMF x 1e-18. With every
   weight, base and factor <= 100 (checked when the columns are built), LINE_PAD = 1e-15 USD per
   cell covers them all. The compiled sweep pads every asset cell of a row (2 x assets x LINE_PAD,
   empty or not: no count, no branch); the numpy fallback pads the non-empty ones. Each open perp
   line adds one quote atom plus LINE_PAD (`QUOTE_PAD`), added to N as one more term.
5. Thresholds. Below `HAIRCUT_FROM` the flat weight is the smaller, below `MMF_FROM` MMF is its
   base; both thresholds are lowered by 1e-9 relative, far more than the float error of the
   notional compared with them, so the shortcut never picks the wrong branch. The compiled sweep
   makes the choice once per tile and asset from the tile's largest quantity (see `kernels.py`):
   the same choice each lane would make, so the same bits.

All of it is float64 with IEEE rounding (numba `fastmath=False`): float32 for the roots would
save about 2 ms of a 1,000,000-row sweep but needs a margin near 1e-6 instead of 1e-12, and
`fastmath` lets the compiler reassociate the sums and assume no infinities (the thresholds of
identity weights are +inf), which voids the bound above; neither is used.

A price change of one asset moves every holding row's exact headroom by t(after) - t(before) of
that asset's line alone; the incremental update adds a lower bound of t(after) minus an upper bound
of t(before), then steps down: from s = fl(h + d) it keeps s - |s| x 2**-51. A real x with
fl(x) = s has |x - s| <= 2**-53 |s| (s normal), and s - |s| x 2**-51 rounds to within 2**-53 |s| of
the exact difference, so the result is at most s - 3 x 2**-53 |s| <= x. Where s is subnormal
the sum was exact (a sum that lands below the normal range is exact). So h stays a lower bound. The float error
of a long run of updates only lowers h (more false positives); a full `sweep` resets it.
False positives are rows within about DELTA x (P + N) + the pads of the boundary; `confirm` drops
them with the exact integer math.
"""

from __future__ import annotations

import numpy as np

from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView
from crossmargin.risk import kernels, numpy_screen
from crossmargin.risk.columns import MARK, PRICE, ColumnChanges, Ints, RiskColumns, column_values, gather


class RiskScreen:
    """Screens a `RiskColumns` all at once, and again incrementally after each `apply_events`."""

    def __init__(self, columns: RiskColumns, *, compiled: bool = kernels.HAVE_NUMBA) -> None:
        self.columns = columns
        self.compiled = compiled
        self._out = np.zeros(0, dtype=np.int64)

    def _buffer(self) -> Ints:
        if self._out.shape[0] < self.columns.rows:
            self._out = np.zeros(self.columns.capacity, dtype=np.int64)
        return self._out

    def sweep(self) -> Ints:
        """Recompute every row's headroom; return the candidate rows (headroom <= 0)."""
        c = self.columns
        if not self.compiled:
            c.headroom[: c.rows] = numpy_screen.screen_all(c.rows, c.cells, c.asset_params, c.market_params)
            return np.flatnonzero(c.headroom[: c.rows] <= 0.0)
        out = self._buffer()
        count = kernels.screen_all(
            c.rows, c.cells, c.maxima, c.exposed, c.asset_params, c.market_params, c.headroom, out
        )
        return out[:count].copy()

    def update(self, changes: ColumnChanges) -> Ints:
        """Bring the headroom up to date with what `apply_events` changed; return all candidate rows."""
        if changes.rebuilt:
            return self.sweep()
        candidates: Ints | None = None
        for asset, before in changes.asset_prices_before.items():
            candidates = self.reprice_asset(asset, before)
        for market, before in changes.market_marks_before.items():
            candidates = self.reprice_market(market, before)
        if changes.rows:
            self.rescreen_rows(np.fromiter(sorted(changes.rows), dtype=np.int64, count=len(changes.rows)))
            candidates = None
        if candidates is None:
            return self.candidates()
        return candidates

    def reprice_asset(self, asset: int, before: float) -> Ints:
        """Shift the headroom for an asset price already set in the columns (it was `before`); return candidates."""
        c = self.columns
        after = float(c.asset_params[PRICE, asset])
        if not self.compiled:
            quantity, debt = column_values(c.collateral, asset, c.rows), column_values(c.owed, asset, c.rows)
            lower, _ = numpy_screen.asset_term_bounds(quantity, debt, after, asset, c.asset_params)
            _, upper = numpy_screen.asset_term_bounds(quantity, debt, before, asset, c.asset_params)
            numpy_screen.shift_headroom(c.headroom[: c.rows], (quantity > 0.0) | (debt > 0.0), lower, upper)
            return self.candidates()
        out = self._buffer()
        count = kernels.reprice_asset(c.rows, c.cells, c.maxima, asset, c.asset_params, before, after, c.headroom, out)
        return out[:count].copy()

    def reprice_market(self, market: int, before: float) -> Ints:
        """Shift the headroom for a perp mark already set in the columns (it was `before`); return candidates."""
        c = self.columns
        after = float(c.market_params[MARK, market])
        if not self.compiled:
            size = column_values(c.perp_size, market, c.rows)
            lower, _ = numpy_screen.perp_term_bounds(size, after, market, c.market_params)
            _, upper = numpy_screen.perp_term_bounds(size, before, market, c.market_params)
            numpy_screen.shift_headroom(c.headroom[: c.rows], size != 0.0, lower, upper)
            return self.candidates()
        out = self._buffer()
        count = kernels.reprice_market(
            c.rows, c.cells, c.maxima, market, c.market_params, before, after, c.headroom, out
        )
        return out[:count].copy()

    def rescreen_rows(self, rows: Ints) -> None:
        """Recompute the headroom of the given rows from their columns."""
        c = self.columns
        if not self.compiled:
            collateral, owed, size, unsettled = (gather(array, rows) for array in c.cells)
            c.headroom[rows] = numpy_screen.block_headroom(
                collateral, owed, size, unsettled, c.asset_params, c.market_params
            )
            return
        kernels.screen_some(rows, c.cells, c.maxima, c.exposed, c.asset_params, c.market_params, c.headroom)

    def candidates(self) -> Ints:
        """Return the rows whose current headroom is <= 0."""
        c = self.columns
        if not self.compiled:
            return np.flatnonzero(c.headroom[: c.rows] <= 0.0)
        out = self._buffer()
        count = kernels.collect(c.rows, c.headroom, out)
        return out[:count].copy()

    def subaccounts(self, rows: Ints) -> list[SubaccountId]:
        """Return the subaccount ids of rows."""
        return [SubaccountId(int(subaccount_id)) for subaccount_id in self.columns.subaccount_ids[rows]]


def confirm(state: EngineState, candidates: list[SubaccountId]) -> list[SubaccountId]:
    """Return the candidates that the exact integer math finds at or past MMR >= 100%, in order given."""
    tx = StateView(state)
    confirmed = []
    for subaccount_id in candidates:
        subaccount = tx.subaccount(subaccount_id)
        if subaccount is not None and compute_subaccount_margin(tx, subaccount).is_liquidatable:
            confirmed.append(subaccount_id)
    return confirmed
