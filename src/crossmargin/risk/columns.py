"""RiskColumns: the margin-relevant engine state as float64 columns, one row per subaccount.

Layout: rows are grouped in tiles of `TILE_ROWS`; inside a tile each asset (or market) is a
contiguous run of `TILE_ROWS` values, so an array has shape (tiles, assets, TILE_ROWS) and row r
lives at [r // TILE_ROWS, :, r % TILE_ROWS]. A sweep streams through memory once, tile after tile,
while its per-row sums stay in L1 and every inner loop runs over contiguous lanes (so the compiler
vectorizes it, square roots and divisions included); a price tick reads one contiguous run per tile
of the asset's two arrays instead of one cache line per row. Per tile and asset the arrays
`*_max` hold the largest |value| of the run (0: the run is empty, the screen skips it; below a
threshold: no lane of the run needs a square root). `set_row` keeps them exact (`apply_events` and
`from_state` recompute them once per tile they touched, after all their rows), and the per-row
flag `exposed` (the row owes something or holds a perp position: quantities only, so no price
change can alter it).

Per row and asset: the collateral quantity (spot + locked + lent, in whole units) and the owed
quantity (debt + a negative spot balance). Per row and perp market: the signed position size (base
units) and its unsettled constant: unsettled USDC at mark = size x mark + constant, where constant =
(-basis - pending fee + pending funding) in USDC, so a new mark changes no row. Per row: the
leverage floor 1 / leverageLimit (it moves initial margin only; the maintenance screen does not
read it). Per asset and market: prices and the parameters of the weight and IMF/MMF functions,
packed in small arrays the kernels index by the row constants below.

Every value is converted once from the exact integers the engine holds (`int / int` is correctly
rounded in Python: one rounding per value). `apply_events` re-reads from the state only the rows
of the subaccounts an event touched (`core.events.subaccounts_touched`: the liquidated subaccount,
the insurance fund and an ADL counterparty included). When a pool's borrow or lend index moved
(hourly interest, an entry fee credited to lenders, a loss share), the rows with a lend or debt in
that asset are re-read too: every index is compared with the one last seen, so no event type can
slip through. A change of listed assets or markets rebuilds everything. Rows are appended as
subaccounts appear, with the capacity doubled when full.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from crossmargin.core.assets import AssetSpec, HaircutKind, SqrtFunction
from crossmargin.core.events import (
    ChangeKind,
    Event,
    MarkPricesSet,
    PerpMarksSet,
    change_kind,
    subaccounts_touched,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.margin import Holding, leverage_floor_wad
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.perps import PerpPosition
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.core.view import StateView

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# Rows of the asset parameter array (shape (ASSET_PARAMS, assets)).
PRICE, WEIGHT, HAIRCUT_BASE, HAIRCUT_PENALTY, HAIRCUT_FROM, MMF_BASE, MMF_FACTOR, MMF_FROM, MMF_PAD = range(9)
ASSET_PARAMS = 9
# Rows of the perp market parameter array (shape (MARKET_PARAMS, markets)).
MARK, PERP_MMF_BASE, PERP_MMF_FACTOR, PERP_MMF_FROM, PERP_MMF_PAD, QUOTE_PAD = range(6)
MARKET_PARAMS = 6

THRESHOLD_SLACK = 1e-9
"""Thresholds (where the weight curve or the MMF square root starts to bind) are lowered by this
relative amount, far above the float error of computing them and of the notional compared."""
PARAMETER_MAX = 100.0
"""Weights, bases and factors above this would void the absolute padding derived in `screen.py`."""
INITIAL_CAPACITY = 1024
TILE_ROWS = 256
"""Rows per tile: 16 assets x 2 arrays x 256 x 8 bytes = 64 KiB read per tile, per-row sums 6 KiB."""
MAX_COLUMNS = 1_000
"""Assets + perp markets the screen supports: it bounds the terms per row the error analysis counts."""


def tiled(values: Floats) -> Floats:
    """Return row-major values (rows x columns) in the tiled layout, zero-padded to whole tiles."""
    rows, width = values.shape
    tiles = -(-rows // TILE_ROWS)
    padded = np.zeros((tiles * TILE_ROWS, width), dtype=np.float64)
    padded[:rows] = values
    return np.ascontiguousarray(padded.reshape(tiles, TILE_ROWS, width).transpose(0, 2, 1))


def untiled(tiles: Floats, rows: int) -> Floats:
    """Return the first `rows` rows of a tiled array as a row-major (rows x columns) array."""
    width = tiles.shape[1]
    values: Floats = tiles.transpose(0, 2, 1).reshape(tiles.shape[0] * tiles.shape[2], width)[:rows]
    return values


def tile_maxima(tiles: Floats) -> Floats:
    """Return the largest |value| of every tile and column (shape (tiles, columns))."""
    maxima: Floats = np.abs(tiles).max(axis=2)
    return maxima


def gather(tiles: Floats, rows: Ints) -> Floats:
    """Return the values of some rows (rows x columns) of a tiled array."""
    values: Floats = tiles[rows // TILE_ROWS, :, rows % TILE_ROWS]
    return values


def column_values(tiles: Floats, column: int, rows: int) -> Floats:
    """Return one column of a tiled array as a vector over the first `rows` rows (a copy)."""
    values: Floats = tiles[:, column, :].reshape(-1)[:rows]
    return values


def _ratio(wad: int) -> float:
    return wad / WAD


def _weight_threshold(spec: AssetSpec) -> float:
    """Return the notional below which the flat weight is the smaller one (no square root needed)."""
    haircut = spec.haircut
    weight, base, penalty = (
        _ratio(haircut.weight.wad),
        _ratio(haircut.base.wad),
        _ratio(haircut.positive_curve_penalty.wad),
    )
    if haircut.kind is HaircutKind.IDENTITY or weight == 0.0:
        return math.inf
    if base <= weight:
        return 0.0
    if penalty == 0.0:
        return math.inf
    return ((base / weight - 1.0) / penalty) ** 2 * (1.0 - THRESHOLD_SLACK)


def _mmf_threshold(function: SqrtFunction) -> float:
    """Return the notional below which MMF is its base (factor x sqrt(N) <= base)."""
    factor = _ratio(function.factor.wad)
    if factor == 0.0:
        return math.inf
    return (_ratio(function.base.wad) / factor) ** 2 * (1.0 - THRESHOLD_SLACK)


def _mmf_pad(function: SqrtFunction) -> float:
    """Return what the engine's rounded-up square root and product can add to MMF (see screen.py)."""
    return (_ratio(function.factor.wad) + 1.0) * 2e-18


def _check_parameters(values: Iterable[float], name: str) -> None:
    for value in values:
        if not 0.0 <= value <= PARAMETER_MAX:
            raise ValueError(f"{name}: parameter {value} is outside [0, {PARAMETER_MAX}] the risk screen supports")


def asset_parameters(specs: Mapping[str, AssetSpec], symbols: tuple[str, ...]) -> Floats:
    """Return the asset parameter array (prices zero) for the assets in column order."""
    params = np.zeros((ASSET_PARAMS, len(symbols)), dtype=np.float64)
    for index, symbol in enumerate(symbols):
        spec = specs[symbol]
        haircut = spec.haircut
        column = (
            0.0,
            _ratio(haircut.weight.wad),
            _ratio(haircut.base.wad) if haircut.kind is HaircutKind.INVERSE_SQRT else 0.0,
            _ratio(haircut.positive_curve_penalty.wad),
            _weight_threshold(spec),
            _ratio(spec.mmf.base.wad),
            _ratio(spec.mmf.factor.wad),
            _mmf_threshold(spec.mmf),
            _mmf_pad(spec.mmf),
        )
        _check_parameters((column[WEIGHT], column[HAIRCUT_BASE], column[MMF_BASE], column[MMF_FACTOR]), symbol)
        params[:, index] = column
    return params


def market_parameters(markets: Mapping[str, MarketSpec], symbols: tuple[str, ...]) -> Floats:
    """Return the perp market parameter array (marks zero) for the markets in column order."""
    params = np.zeros((MARKET_PARAMS, len(symbols)), dtype=np.float64)
    for index, symbol in enumerate(symbols):
        spec = markets[symbol]
        column = (
            0.0,
            _ratio(spec.mmf.base.wad),
            _ratio(spec.mmf.factor.wad),
            _mmf_threshold(spec.mmf),
            _mmf_pad(spec.mmf),
            1.0 / spec.quote_unit_atoms,
        )
        _check_parameters((column[PERP_MMF_BASE], column[PERP_MMF_FACTOR]), symbol)
        params[:, index] = column
    return params


@dataclass(slots=True)
class ColumnChanges:
    """What one `apply_events` call changed: rows re-read, old prices of repriced columns, or a rebuild."""

    rows: set[int] = field(default_factory=set)
    asset_prices_before: dict[int, float] = field(default_factory=dict)
    market_marks_before: dict[int, float] = field(default_factory=dict)
    rebuilt: bool = False


@dataclass(slots=True)
class RiskColumns:
    """Float64 columns of every subaccount's margin inputs; see the module docstring for the layout."""

    asset_symbols: tuple[str, ...]
    market_symbols: tuple[str, ...]
    asset_specs: dict[str, AssetSpec]
    market_specs: dict[str, MarketSpec]
    asset_params: Floats
    market_params: Floats
    collateral: Floats
    owed: Floats
    perp_size: Floats
    perp_unsettled: Floats
    collateral_max: Floats
    owed_max: Floats
    perp_size_max: Floats
    perp_unsettled_max: Floats
    leverage_floor: Floats
    subaccount_ids: Ints
    exposed: Bools
    rows: int = 0
    row_of: dict[SubaccountId, int] = field(default_factory=dict)
    headroom: Floats = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    pool_rows: dict[str, set[int]] = field(default_factory=dict)
    pool_indexes: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def empty(
        cls, specs: Mapping[str, AssetSpec], markets: Mapping[str, MarketSpec], capacity: int = INITIAL_CAPACITY
    ) -> RiskColumns:
        """Return columns for these assets and (perp) markets with no rows yet (capacity: whole tiles)."""
        assets = tuple(sorted(specs))
        perps = tuple(sorted(symbol for symbol, spec in markets.items() if spec.is_perp))
        if len(assets) + len(perps) > MAX_COLUMNS:
            raise ValueError(f"the risk screen supports at most {MAX_COLUMNS} assets and perp markets together")
        tiles = max(-(-capacity // TILE_ROWS), 1)
        capacity = tiles * TILE_ROWS
        return cls(
            asset_symbols=assets,
            market_symbols=perps,
            asset_specs=dict(specs),
            market_specs={symbol: markets[symbol] for symbol in perps},
            asset_params=asset_parameters(specs, assets),
            market_params=market_parameters(markets, perps),
            collateral=np.zeros((tiles, len(assets), TILE_ROWS), dtype=np.float64),
            owed=np.zeros((tiles, len(assets), TILE_ROWS), dtype=np.float64),
            perp_size=np.zeros((tiles, len(perps), TILE_ROWS), dtype=np.float64),
            perp_unsettled=np.zeros((tiles, len(perps), TILE_ROWS), dtype=np.float64),
            collateral_max=np.zeros((tiles, len(assets)), dtype=np.float64),
            owed_max=np.zeros((tiles, len(assets)), dtype=np.float64),
            perp_size_max=np.zeros((tiles, len(perps)), dtype=np.float64),
            perp_unsettled_max=np.zeros((tiles, len(perps)), dtype=np.float64),
            leverage_floor=np.zeros(capacity, dtype=np.float64),
            subaccount_ids=np.zeros(capacity, dtype=np.int64),
            exposed=np.zeros(capacity, dtype=np.bool_),
            headroom=np.full(capacity, math.inf, dtype=np.float64),
        )

    @classmethod
    def from_state(cls, state: EngineState) -> RiskColumns:
        """Return columns mirroring every subaccount of an engine state, at its prices."""
        columns = cls.empty(state.specs, state.markets, capacity=max(INITIAL_CAPACITY, len(state.subaccounts)))
        for symbol, price in state.mark_prices_wad.items():
            columns.set_price(symbol, price)
        for market, mark in state.perp_marks_wad.items():
            columns.set_mark(market, mark)
        tx = StateView(state)
        columns.refresh_maxima({columns.refresh_row(tx, sub, maxima=False) for sub in state.subaccounts})
        columns.pool_indexes = _indexes(state)
        return columns

    @property
    def capacity(self) -> int:
        """Return how many rows fit before the arrays grow."""
        return int(self.subaccount_ids.shape[0])

    def set_price(self, symbol: str, price_wad: int) -> int | None:
        """Set an asset's mark price; return its column (None for an asset not listed)."""
        if symbol not in self.asset_specs:
            return None
        index = self.asset_symbols.index(symbol)
        self.asset_params[PRICE, index] = _ratio(price_wad)
        return index

    def set_mark(self, market: str, mark_wad: int) -> int | None:
        """Set a perp market's mark price; return its column (None for a market not mirrored)."""
        if market not in self.market_specs:
            return None
        index = self.market_symbols.index(market)
        self.market_params[MARK, index] = _ratio(mark_wad)
        return index

    def row(self, subaccount_id: SubaccountId) -> int:
        """Return the row of a subaccount, appending one (growing the arrays) when it is new."""
        found = self.row_of.get(subaccount_id)
        if found is not None:
            return found
        if self.rows == self.capacity:
            self._grow(self.capacity * 2)
        row = self.rows
        self.rows += 1
        self.row_of[subaccount_id] = row
        self.subaccount_ids[row] = subaccount_id
        return row

    def _grow(self, capacity: int) -> None:
        def grown(array: Floats, size: int, fill: float = 0.0) -> Floats:
            bigger = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
            bigger[: array.shape[0]] = array
            return bigger

        tiles = capacity // TILE_ROWS
        self.collateral = grown(self.collateral, tiles)
        self.owed = grown(self.owed, tiles)
        self.perp_size = grown(self.perp_size, tiles)
        self.perp_unsettled = grown(self.perp_unsettled, tiles)
        self.collateral_max = grown(self.collateral_max, tiles)
        self.owed_max = grown(self.owed_max, tiles)
        self.perp_size_max = grown(self.perp_size_max, tiles)
        self.perp_unsettled_max = grown(self.perp_unsettled_max, tiles)
        self.leverage_floor = grown(self.leverage_floor, capacity)
        self.headroom = grown(self.headroom, capacity, math.inf)
        exposed = np.zeros(capacity, dtype=np.bool_)
        exposed[: self.rows] = self.exposed[: self.rows]
        self.exposed = exposed
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self.rows] = self.subaccount_ids[: self.rows]
        self.subaccount_ids = ids

    def set_row(
        self,
        subaccount_id: SubaccountId,
        holdings: Mapping[str, Holding],
        positions: Mapping[str, PerpPosition],
        leverage_floor_wad: int,
        *,
        maxima: bool = True,
    ) -> int:
        """Write one subaccount's exact holdings and perp positions into its row; return the row.

        With `maxima=False` the row's tile maxima are left for the caller to bring up to date
        (`refresh_maxima`), once per tile for a batch of rows instead of once per row.
        """
        row = self.row(subaccount_id)
        tile, lane = divmod(row, TILE_ROWS)
        # Python floats, written into the tiles in one slice each: numpy's per-item writes and the
        # small arrays cost more than the row's arithmetic.
        collateral = [0.0] * len(self.asset_symbols)
        owed = [0.0] * len(self.asset_symbols)
        for index, symbol in enumerate(self.asset_symbols):
            holding = holdings.get(symbol)
            if holding is None:
                self.pool_rows.get(symbol, set()).discard(row)
                continue
            unit = self.asset_specs[symbol].unit_atoms
            collateral[index] = (max(holding.spot_atoms, 0) + holding.locked_atoms + holding.lend_atoms) / unit
            owed[index] = (holding.debt_atoms + max(-holding.spot_atoms, 0)) / unit
            if holding.lend_atoms or holding.debt_atoms:
                self.pool_rows.setdefault(symbol, set()).add(row)
            else:
                self.pool_rows.get(symbol, set()).discard(row)
        size = [0.0] * len(self.market_symbols)
        unsettled = [0.0] * len(self.market_symbols)
        for index, market in enumerate(self.market_symbols):
            position = positions.get(market)
            if position is None:
                continue
            spec = self.market_specs[market]
            size[index] = position.quantity_atoms / spec.base_unit_atoms
            constant = (
                -position.basis_atoms
                - position.pending_fee_atoms
                - position.pending_system_fee_atoms
                + position.pending_funding_atoms
            )
            unsettled[index] = constant / spec.quote_unit_atoms
        self.collateral[tile, :, lane] = collateral
        self.owed[tile, :, lane] = owed
        self.perp_size[tile, :, lane] = size
        self.perp_unsettled[tile, :, lane] = unsettled
        if maxima:
            self._refresh_maxima(tile)
        self.exposed[row] = any(value > 0.0 for value in owed) or any(value != 0.0 for value in size)
        self.leverage_floor[row] = _ratio(leverage_floor_wad)
        return row

    def refresh_maxima(self, rows: Iterable[int]) -> None:
        """Bring the tile maxima of these rows up to date (rows set with `maxima=False`), each tile once."""
        for tile in sorted({row // TILE_ROWS for row in rows}):
            self._refresh_maxima(tile)

    def _refresh_maxima(self, tile: int) -> None:
        """Recompute the per-column maxima of one tile (exact, so an emptied run is skipped again)."""
        self.collateral_max[tile] = tile_maxima(self.collateral[tile : tile + 1])[0]
        self.owed_max[tile] = tile_maxima(self.owed[tile : tile + 1])[0]
        self.perp_size_max[tile] = tile_maxima(self.perp_size[tile : tile + 1])[0]
        self.perp_unsettled_max[tile] = tile_maxima(self.perp_unsettled[tile : tile + 1])[0]

    @property
    def cells(self) -> tuple[Floats, Floats, Floats, Floats]:
        """Return the tiled (collateral, owed, perp size, perp unsettled) arrays, as the kernels take them."""
        return (self.collateral, self.owed, self.perp_size, self.perp_unsettled)

    @property
    def maxima(self) -> tuple[Floats, Floats, Floats, Floats]:
        """Return the per-tile maxima of the same four arrays."""
        return (self.collateral_max, self.owed_max, self.perp_size_max, self.perp_unsettled_max)

    def row_values(self, row: int) -> tuple[Floats, Floats, Floats, Floats]:
        """Return one row's (collateral, owed, perp size, perp unsettled) vectors (views into the tiles)."""
        tile, lane = divmod(row, TILE_ROWS)
        return (
            self.collateral[tile, :, lane],
            self.owed[tile, :, lane],
            self.perp_size[tile, :, lane],
            self.perp_unsettled[tile, :, lane],
        )

    def refresh_row(self, tx: Transaction, subaccount_id: SubaccountId, *, maxima: bool = True) -> int:
        """Re-read one subaccount's row from the engine (exact values, converted once); `maxima` as in `set_row`."""
        subaccount = tx.subaccount(subaccount_id)
        assert subaccount is not None, "rows mirror existing subaccounts"
        positions = {
            market: position
            for market in self.market_symbols
            if (position := tx.perp_position(subaccount_id, market)) is not None
        }
        floor = leverage_floor_wad(subaccount.leverage_limit)
        return self.set_row(subaccount_id, tx.holdings(subaccount_id), positions, floor, maxima=maxima)

    def apply_events(self, state: EngineState, events: Iterable[Event]) -> ColumnChanges:
        """Bring the columns up to date with a committed command's events, re-reading touched rows only."""
        changes = ColumnChanges()
        touched: set[SubaccountId] = set()
        for event in events:
            if isinstance(event, MarkPricesSet):
                self._reprice(event.prices_wad, changes)
            elif isinstance(event, PerpMarksSet):
                self._remark(event.marks_wad, changes)
            elif change_kind(event) is ChangeKind.CONFIG:
                changes.rebuilt = True
            else:
                touched.update(subaccounts_touched(event))
        if changes.rebuilt:
            return self._rebuild(state)
        tx = StateView(state)
        changes.rows = {self.refresh_row(tx, subaccount_id, maxima=False) for subaccount_id in touched}
        indexes = _indexes(state)
        for symbol, pair in indexes.items():
            if self.pool_indexes.get(symbol) != pair:
                # Interest, an entry fee or a loss share moved an index: every lend and debt of the pool changed.
                rows = self.pool_rows.get(symbol, set()) - changes.rows
                ids = [SubaccountId(int(self.subaccount_ids[row])) for row in rows]
                changes.rows.update(self.refresh_row(tx, subaccount_id, maxima=False) for subaccount_id in ids)
        self.refresh_maxima(changes.rows)
        self.pool_indexes = indexes
        return changes

    def _reprice(self, prices: tuple[tuple[str, int], ...], changes: ColumnChanges) -> None:
        for symbol, price in prices:
            if symbol in self.asset_specs:
                index = self.asset_symbols.index(symbol)
                changes.asset_prices_before.setdefault(index, float(self.asset_params[PRICE, index]))
                self.set_price(symbol, price)

    def _remark(self, marks: tuple[tuple[str, int], ...], changes: ColumnChanges) -> None:
        for market, mark in marks:
            if market in self.market_specs:
                index = self.market_symbols.index(market)
                changes.market_marks_before.setdefault(index, float(self.market_params[MARK, index]))
                self.set_mark(market, mark)

    def _rebuild(self, state: EngineState) -> ColumnChanges:
        fresh = RiskColumns.from_state(state)
        for name in RiskColumns.__slots__:
            setattr(self, name, getattr(fresh, name))
        return ColumnChanges(rows=set(range(self.rows)), rebuilt=True)


def _indexes(state: EngineState) -> dict[str, tuple[int, int]]:
    return {symbol: (pool.borrow_index_ray, pool.lend_index_ray) for symbol, pool in state.pools.items()}
