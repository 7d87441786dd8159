"""Cross margin: one account, every holding is collateral, every borrow needs margin.

For a subaccount: net equity = sum of collateral values - sum of borrow notionals. Each borrow
of notional N locks IMF(N) * N, where IMF(N) = max(base, 1 / leverageLimit, factor * sqrt(N)),
and needs MMF(N) * N for maintenance. available = net equity - locked. Voluntary actions must
keep available >= 0; liquidation starts when maintenance >= net equity (MMR >= 100%).
Everything is USD scaled by WAD; required margin rounds up and collateral down, so the check is
never looser than exact arithmetic. Every computation of a subaccount's margin lives here
(`compute_subaccount_margin`, `compute_perp_lines`); its figures are in `margin_figures.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from crossmargin.core.assets import AssetSpec, SqrtFunction
from crossmargin.core.collateral import compute_collateral_value, compute_collateral_weight, value_down, value_up
from crossmargin.core.ledger import LedgerAccount, locked, spot
from crossmargin.core.margin_figures import AssetMargin, Holding, MarginSummary, PerpMargin
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, Ratio, mul_div_up, sqrt_wad_up
from crossmargin.core.perps import PerpPosition
from crossmargin.core.pools import debt_atoms, lend_atoms

__all__ = [
    "AssetMargin",
    "Holding",
    "LineMemo",
    "MarginSummary",
    "PerpMargin",
    "compute_asset_margin",
    "compute_margin",
    "compute_margin_fraction",
    "compute_perp_lines",
    "compute_perp_margin_from_totals",
    "compute_subaccount_margin",
    "leverage_floor_wad",
]

if TYPE_CHECKING:
    from crossmargin.core.accounts import Subaccount
    from crossmargin.core.ids import SubaccountId
    from crossmargin.core.transaction import Transaction


def compute_margin_fraction(function: SqrtFunction, notional_wad: int, floor_wad: int) -> int:
    """Return max(floor, base, factor * sqrt(notional in USD)) as WAD, rounded up."""
    curved = mul_div_up(function.factor.wad, sqrt_wad_up(notional_wad), WAD)
    return max(floor_wad, function.base.wad, curved)


def leverage_floor_wad(leverage_limit: Ratio) -> int:
    """Return 1 / leverageLimit as WAD, rounded up: the least IMF the leverage limit allows."""
    return mul_div_up(WAD, WAD, leverage_limit.wad)


def compute_asset_margin(spec: AssetSpec, holding: Holding, mark_price_wad: int, imf_floor_wad: int) -> AssetMargin:
    """Return the margin view of one holding."""
    quantity = max(holding.spot_atoms, 0) + holding.locked_atoms + holding.lend_atoms
    owed = holding.debt_atoms + max(-holding.spot_atoms, 0)
    notional = value_down(quantity, mark_price_wad, spec.unit_atoms)
    collateral = compute_collateral_value(spec.haircut, notional)
    debt_notional = value_up(owed, mark_price_wad, spec.unit_atoms)
    imf = mmf = 0
    if owed:
        imf = compute_margin_fraction(spec.imf, debt_notional, imf_floor_wad)
        mmf = compute_margin_fraction(spec.mmf, debt_notional, 0)
    return AssetMargin(
        symbol=spec.symbol,
        quantity_atoms=quantity,
        debt_atoms=owed,
        mark_price_wad=mark_price_wad,
        balance_notional_wad=notional,
        weight_wad=compute_collateral_weight(spec.haircut, notional, collateral),
        collateral_value_wad=collateral,
        debt_notional_wad=debt_notional,
        imf_wad=imf,
        mmf_wad=mmf,
    )


def compute_perp_margin_from_totals(
    spec: MarketSpec,
    position: PerpPosition | None,
    open_totals: tuple[int, int],
    mark_price_wad: int,
    imf_floor_wad: int,
) -> PerpMargin:
    """Return the margin line of one perp market from the open bid and ask quantities there.

    The open orders reserve initial margin on how far they could take the size: the worse of
    every bid and every ask filling, beyond |size|, at the IMF of that larger size.
    """
    bids, asks = open_totals
    quantity = position.quantity_atoms if position else 0
    worst = max(abs(quantity + bids), abs(quantity - asks), abs(quantity))
    unit = spec.base_unit_atoms
    notional = value_up(abs(quantity), mark_price_wad, unit)
    worst_notional = value_up(worst, mark_price_wad, unit)
    unsettled_atoms = position.unsettled_atoms(spec, mark_price_wad) if position else 0
    return PerpMargin(
        market=spec.symbol,
        quantity_atoms=quantity,
        mark_price_wad=mark_price_wad,
        notional_wad=notional,
        reserve_notional_wad=worst_notional - notional,
        unsettled_wad=(unsettled_atoms * WAD) // spec.quote_unit_atoms,
        imf_wad=compute_margin_fraction(spec.imf, worst_notional, imf_floor_wad) if worst else 0,
        mmf_wad=compute_margin_fraction(spec.mmf, notional, 0) if quantity else 0,
    )


def compute_margin(
    specs: Mapping[str, AssetSpec],
    mark_prices_wad: Mapping[str, int],
    holdings: Mapping[str, Holding],
    leverage_limit: Ratio,
    perps: tuple[PerpMargin, ...] = (),
) -> MarginSummary:
    """Return the cross-margin summary of a subaccount's holdings and perp lines, in symbol order.

    An asset without a mark price counts zero as collateral; a debt always has a price (a
    borrow is refused without one, and prices are never removed).
    """
    floor = leverage_floor_wad(leverage_limit)
    assets = [
        _asset_memo((), compute_asset_margin(specs[symbol], holdings[symbol], mark_prices_wad.get(symbol, 0), floor))
        for symbol in sorted(holdings)
    ]
    return _summarize(assets, [_perp_memo((), perp) for perp in perps])


class LineMemo:
    """One margin line with what it adds to initial and maintenance margin, and the inputs it came from.

    A plain class with read-only attributes, not a NamedTuple: compiled, its constructor is native
    (a NamedTuple's `__new__` is interpreted), and every margin check builds one per changed line.
    """

    __slots__ = ("inputs", "line", "locked_wad", "maintenance_wad")

    def __init__(
        self, inputs: tuple[object, ...], line: AssetMargin | PerpMargin | None, locked_wad: int, maintenance_wad: int
    ) -> None:
        self.inputs: Final = inputs
        self.line: Final = line
        self.locked_wad: Final = locked_wad
        self.maintenance_wad: Final = maintenance_wad

    def __reduce__(self) -> tuple[type[LineMemo], tuple[tuple[object, ...], AssetMargin | PerpMargin | None, int, int]]:
        # A state holding memos is deep-copied (what-if tests) and pickled; compiled, pickle's
        # default would call a constructor without arguments.
        return LineMemo, (self.inputs, self.line, self.locked_wad, self.maintenance_wad)


def _asset_memo(inputs: tuple[object, ...], line: AssetMargin | None) -> LineMemo:
    if line is None:
        return LineMemo(inputs, None, 0, 0)
    locked_wad = mul_div_up(line.imf_wad, line.debt_notional_wad, WAD)
    return LineMemo(inputs, line, locked_wad, mul_div_up(line.mmf_wad, line.debt_notional_wad, WAD))


def _perp_memo(inputs: tuple[object, ...], line: PerpMargin) -> LineMemo:
    return LineMemo(inputs, line, line.locked_wad, line.maintenance_wad)


def _summarize(assets: list[LineMemo], perps: list[LineMemo]) -> MarginSummary:
    asset_lines: list[AssetMargin] = []
    perp_lines: list[PerpMargin] = []
    collateral = liability = locked_wad = maintenance = unsettled = perp_notional = 0
    for memo in assets:
        line = memo.line
        if isinstance(line, AssetMargin):
            asset_lines.append(line)
            collateral += line.collateral_value_wad
            liability += line.debt_notional_wad
            locked_wad += memo.locked_wad
            maintenance += memo.maintenance_wad
    for memo in perps:
        perp = memo.line
        assert isinstance(perp, PerpMargin), "a perp memo holds a perp line"
        perp_lines.append(perp)
        locked_wad += memo.locked_wad
        maintenance += memo.maintenance_wad
        unsettled += perp.unsettled_wad
        perp_notional += perp.notional_wad
    return MarginSummary(
        assets=tuple(asset_lines),
        collateral_value_wad=collateral,
        borrow_liability_wad=liability,
        locked_wad=locked_wad,
        maintenance_wad=maintenance,
        perps=tuple(perp_lines),
        unsettled_wad=unsettled,
        perp_notional_wad=perp_notional,
    )


# A subaccount's margin, line by line -------------------------------------------------------
#
# Each line (one asset, or one perp market with its open orders) is a pure function of a few
# inputs read from the transaction. The state keeps the last line computed for each (subaccount,
# asset) and (subaccount, market) with those inputs (`EngineState.margin_lines`, derived, never
# in a snapshot); a check reads the inputs, reuses a line whose inputs are unchanged and
# recomputes only the lines a command changed (or a price moved). A memo is only ever reused for
# equal inputs, so the result is the same integers as computing every line afresh.


def compute_subaccount_margin(tx: Transaction, subaccount: Subaccount) -> MarginSummary:
    """Return a subaccount's margin summary as of the transaction, in symbol then market order."""
    floor = leverage_floor_wad(subaccount.leverage_limit)
    account = subaccount.subaccount_id
    memos = tx.state.margin_lines
    accounts = (spot(account), locked(account))
    assets = [_asset_line(tx, memos, accounts, account, symbol, floor) for symbol in sorted(tx.held_symbols(account))]
    return _summarize(assets, _perp_lines(tx, tx.state.perp_margin_lines, account, floor))


def compute_perp_lines(tx: Transaction, subaccount: Subaccount) -> tuple[PerpMargin, ...]:
    """Return the margin lines of a subaccount's perp positions and perp orders, by market."""
    floor = leverage_floor_wad(subaccount.leverage_limit)
    memos = _perp_lines(tx, tx.state.perp_margin_lines, subaccount.subaccount_id, floor)
    return tuple(memo.line for memo in memos if isinstance(memo.line, PerpMargin))


def _asset_line(
    tx: Transaction,
    memos: dict[tuple[SubaccountId, str], LineMemo],
    accounts: tuple[LedgerAccount, LedgerAccount],
    account: SubaccountId,
    symbol: str,
    floor: int,
) -> LineMemo:
    spec = tx.spec(symbol)
    assert spec is not None, "a subaccount holds listed assets only"
    position = tx.position(account, symbol)
    pool = None if position is None else tx.pool(symbol)
    indices = (0, 0) if pool is None else (pool.lend_index_ray, pool.borrow_index_ray)
    # The position counts by its two scaled amounts (integers: no interpreted `Position.__eq__`).
    scaled = (0, 0) if position is None else (position.lend_scaled, position.debt_scaled)
    spot_atoms = tx.balance(accounts[0], symbol)
    locked_atoms = tx.balance(accounts[1], symbol)
    mark = tx.mark_price(symbol)
    inputs = (spot_atoms, locked_atoms, scaled, indices, mark, spec, floor)
    key = (account, symbol)
    memo = memos.get(key)
    if memo is not None and memo.inputs == inputs:
        return memo
    lent = owed = 0
    if position is not None:
        lent, owed = lend_atoms(scaled[0], indices[0]), debt_atoms(scaled[1], indices[1])
    line = None
    if spot_atoms or lent or owed or locked_atoms:  # an asset held in no way has no line
        line = compute_asset_margin(spec, Holding(spot_atoms, lent, owed, locked_atoms), mark, floor)
    memos[key] = memo = _asset_memo(inputs, line)
    return memo


def _perp_lines(
    tx: Transaction, memos: dict[tuple[SubaccountId, str], LineMemo], account: SubaccountId, floor: int
) -> list[LineMemo]:
    """Return the memos of a subaccount's perp lines: O(perp markets), orders count through their totals."""
    found = []
    for spec in tx.perp_markets():
        market = spec.symbol
        position = tx.perp_position(account, market)
        totals = tx.perp_order_totals(account, market)
        if (position is None or position.is_flat) and totals == (0, 0):
            continue
        mark = tx.perp_mark(market)
        inputs = (position, totals, mark, spec, floor)
        key = (account, market)
        memo = memos.get(key)
        if memo is None or memo.inputs != inputs:
            memos[key] = memo = _perp_memo(inputs, compute_perp_margin_from_totals(spec, position, totals, mark, floor))
        found.append(memo)
    return found
