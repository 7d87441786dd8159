"""Loss sharing: when a takeover leaves the insurance fund's value below zero.

The fund's deficit is its value below zero (`insurance.fund_value_wad`). It is shared in order:

1. **Auto-deleverage (ADL).** Each of the fund's perp positions (by market) is closed against the
   profitable opposite positions of that market, most profitable first: ranked by PnL (realized by
   settlements since the position opened, plus unrealized) over notional at mark, descending, ties
   by subaccount id. Each closes `x` = the smaller size, at the
   mark value of `x` moved against the counterparty by its share of the loss: at most the
   deficit left, at most its PnL on the closed part (`profit x x / size`), at most
   the mark value itself. The trade is a `Fill` with system order type `LiquidatePositionOnAdl`
   (no fees; each side is recorded as a filled IOC system order of that type, at the ADL price,
   which is generally off the tick grid) and an `AutoDeleveraged` event; both positions settle it
   at the next settlement.
   ADL stops once the deficit is covered (the fund keeps what is left of its position).
2. **Lend-index cut.** What is left is borne by the lenders of the assets the fund owes, largest
   debt first: the pool's lend index falls so lenders' claims shrink by the loss (rounded so they
   lose at least it), and the fund's debt shrinks by the same loss (rounded so it falls by at most
   it); the difference goes to ROUNDING, so the ledger sums to zero and borrowed <= supplied
   still holds. Each cut is a `LendIndexCut` event (index before and after, the loss in atoms) —
   the one recorded exception to INV-POOL-2.

What neither covers (no opposite positions with profit, no lenders) stays as the fund's deficit.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from crossmargin.core.borrow_lend import record_movement
from crossmargin.core.events import (
    AutoDeleveraged,
    BorrowLendEventType,
    BorrowLendSource,
    LendIndexCut,
    PerpPositionChanged,
    Traded,
)
from crossmargin.core.fills import Fill
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.ledger import BORROWERS, LENDERS, ROUNDING, entry
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS, MarketSpec
from crossmargin.core.matching import close_order
from crossmargin.core.numbers import RAY, WAD, mul_div_down, mul_div_up
from crossmargin.core.orders import (
    Order,
    OrderFlags,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    SystemOrderType,
    TimeInForce,
)
from crossmargin.core.perps import PerpPosition, apply_trade
from crossmargin.core.pools import scaled_debt_to_burn
from crossmargin.core.settlement import all_perp_positions
from crossmargin.core.transaction import Transaction

USD_ATOMS_PER_UNIT = 10**6
"""Perp PnL is USDC, counted at 1 USD, with 6 decimals."""


def share_fund_loss(tx: Transaction) -> None:
    """Share the fund's deficit, if any: ADL on its perp positions, then lend-index cuts."""
    deficit_wad = -fund_value_wad(tx)
    if deficit_wad <= 0:
        return
    _auto_deleverage(tx, mul_div_up(deficit_wad, USD_ATOMS_PER_UNIT, WAD))
    _cut_lend_indices(tx, -fund_value_wad(tx))


def _auto_deleverage(tx: Transaction, deficit: int) -> None:
    for position in tx.subaccount_perp_positions(INSURANCE_FUND_ID):
        spec = tx.market(position.market)
        assert spec is not None, "positions belong to listed markets"
        for counterparty in _ranked_opposites(tx, spec, position.quantity_atoms):
            fund = tx.perp_position(INSURANCE_FUND_ID, spec.symbol)
            assert fund is not None, "the fund's position exists while it is closed"
            if deficit <= 0 or fund.quantity_atoms == 0:
                break
            deficit -= _close_against(tx, spec, fund, counterparty, deficit)


def _ranked_opposites(tx: Transaction, spec: MarketSpec, fund_quantity: int) -> list[PerpPosition]:
    mark = tx.perp_mark(spec.symbol)
    opposite = [
        position
        for position in all_perp_positions(tx)
        if position.market == spec.symbol
        and position.subaccount_id != INSURANCE_FUND_ID
        and position.quantity_atoms * fund_quantity < 0
        and _pnl(spec, position, mark) > 0
    ]

    def rank(position: PerpPosition) -> tuple[Fraction, int]:
        notional = abs(spec.value_floor(position.quantity_atoms, mark)) or 1
        return -Fraction(_pnl(spec, position, mark), notional), position.subaccount_id

    return sorted(opposite, key=rank)


def _pnl(spec: MarketSpec, position: PerpPosition, mark: int) -> int:
    """Return a position's PnL since it opened: realized by settlements plus unrealized at mark."""
    return position.realized_pnl_atoms + position.unrealized_atoms(spec, mark)


def _close_against(tx: Transaction, spec: MarketSpec, fund: PerpPosition, other: PerpPosition, deficit: int) -> int:
    """Close the fund's position against one opposite position; return the loss it bore."""
    mark = tx.perp_mark(spec.symbol)
    size = min(abs(fund.quantity_atoms), abs(other.quantity_atoms))
    value = spec.value_floor(size, mark)
    profit = _pnl(spec, other, mark) * size // abs(other.quantity_atoms)
    loss = min(deficit, profit, value)
    fund_sells = fund.quantity_atoms > 0
    quote = value + loss if fund_sells else value - loss
    signed = -size if fund_sells else size
    for position, change in ((fund, signed), (other, -signed)):
        after = apply_trade(position, change, quote, 0)
        long_change = max(after.quantity_atoms, 0) - max(position.quantity_atoms, 0)
        tx.open_interest_atoms[spec.symbol] = tx.open_interest(spec.symbol) + long_change
        tx.set_perp_position(after)
        tx.emit(PerpPositionChanged(after, tx.now_ms))
    price = quote * spec.base_unit_atoms * WAD // (size * spec.quote_unit_atoms)
    fund_side = OrderSide.ASK if fund_sells else OrderSide.BID
    fund_order = _adl_order(tx, spec, fund, fund_side, size, quote, price)
    other_order = _adl_order(tx, spec, other, OrderSide.BID if fund_sells else OrderSide.ASK, size, quote, price)
    tx.emit(
        Traded(
            Fill(
                trade_id=tx.take_id("next_trade_id"),
                market=spec.symbol,
                price_wad=price,
                quantity_atoms=size,
                quote_atoms=quote,
                taker_side=fund_side,
                maker_order_id=other_order,
                taker_order_id=fund_order,
                maker_subaccount_id=other.subaccount_id,
                taker_subaccount_id=INSURANCE_FUND_ID,
                maker_fee_atoms=0,
                taker_fee_atoms=0,
                maker_fee_symbol=spec.quote,
                taker_fee_symbol=spec.quote,
                at_ms=tx.now_ms,
                system_order_type=SystemOrderType.LIQUIDATE_POSITION_ON_ADL,
            )
        )
    )
    tx.emit(AutoDeleveraged(spec.symbol, INSURANCE_FUND_ID, other.subaccount_id, size, quote, loss, tx.now_ms))
    tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)
    return loss


def _adl_order(
    tx: Transaction, spec: MarketSpec, position: PerpPosition, side: OrderSide, size: int, quote: int, price: int
) -> OrderId:
    """Record one side of an ADL trade as a filled system order; return its id.

    Its price is the ADL price, quote / size rounded down to the WAD: the mark moved by the loss
    share, not a book price, so it is generally off the tick grid (the quote is exact).
    """
    order = Order(
        order_id=OrderId(tx.take_id("next_order_id")),
        subaccount_id=position.subaccount_id,
        market=spec.symbol,
        side=side,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.IOC,
        price_wad=price,
        quantity_atoms=size,
        created_ms=tx.now_ms,
        flags=OrderFlags(reduce_only=True),
        system_order_type=SystemOrderType.LIQUIDATE_POSITION_ON_ADL,
        executed_atoms=size,
        executed_quote_atoms=quote,
    )
    close_order(tx, order, OrderStatus.FILLED)
    return order.order_id


def _cut_lend_indices(tx: Transaction, deficit_wad: int) -> None:
    specs = tx.all_specs()
    owed = sorted(
        (-holding.debt_atoms * tx.mark_price(symbol) // specs[symbol].unit_atoms, symbol)
        for symbol, holding in tx.holdings(INSURANCE_FUND_ID).items()
        if holding.debt_atoms and tx.pool(symbol).lent_atoms
    )
    for _, symbol in owed:
        if deficit_wad <= 0:
            return
        deficit_wad -= _cut(tx, symbol, deficit_wad)


def _cut(tx: Transaction, symbol: str, deficit_wad: int) -> int:
    """Cut one pool's lend index by the fund's loss in it (at most its debt); return the loss in USD WAD."""
    spec = tx.spec(symbol)
    position = tx.position(INSURANCE_FUND_ID, symbol)
    assert spec is not None, "owed assets are listed"
    assert position is not None, "the fund owes this asset"
    pool = tx.pool(symbol)
    price = tx.mark_price(symbol)
    debt = tx.holding(INSURANCE_FUND_ID, symbol).debt_atoms
    loss = min(debt, mul_div_up(deficit_wad, spec.unit_atoms, price), pool.lent_atoms)
    index_after = mul_div_down(pool.lent_atoms - loss, RAY, pool.lend_scaled_total)
    burn = position.debt_scaled if loss == debt else scaled_debt_to_burn(loss, pool.borrow_index_ray)
    after = replace(pool, lend_index_ray=index_after, debt_scaled_total=pool.debt_scaled_total - burn)
    claims_removed = pool.lent_atoms - after.lent_atoms
    debt_removed = pool.borrowed_atoms - after.borrowed_atoms
    assert claims_removed >= loss >= debt_removed, "lenders lose at least the loss, the debt falls by at most it"
    tx.post(
        entry(symbol, (LENDERS, -claims_removed), (BORROWERS, debt_removed), (ROUNDING, claims_removed - debt_removed))
    )
    tx.pools[symbol] = after
    forgiven = replace(
        position, debt_scaled=position.debt_scaled - burn, principal_atoms=max(0, position.principal_atoms - loss)
    )
    tx.set_position(forgiven)
    cut = LendIndexCut(symbol, pool.lend_index_ray, index_after, claims_removed, loss, tx.now_ms, tx.movement_count())
    tx.emit(cut)
    # The fund's debt falls by the loss the lenders bore: a repay in its history (so its hourly
    # interest rows follow its real debt), by the backstop provider.
    record_movement(tx, -debt, forgiven, BorrowLendEventType.BORROW_REPAY, BorrowLendSource.BACKSTOP_PROVIDER, loss, 0)
    return mul_div_down(loss, price, spec.unit_atoms)
