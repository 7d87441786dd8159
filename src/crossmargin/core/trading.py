"""Placing and cancelling orders: validation, locking, matching, resting, margin.

An order is tried in a what-if transaction: checked against its market's grid and options
(`validation.py`), its spot funds locked (borrowing or redeeming what it lacks when its margin
flags allow, source `SpotMargin`), matched, and then either rested (GTC limit) or closed (filled,
IOC, FOK, market). Only then is the subaccount's margin checked: an order that would leave
available margin below zero is refused and leaves no trace, unless it only reduces a perp
position without lowering available margin. System orders (collateral conversions) skip the
margin check: they run to restore it.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.account_limits import check_account_limits
from crossmargin.core.accounts import Subaccount
from crossmargin.core.assets import describe
from crossmargin.core.commands import CancelAllOrders, CancelOrder, PlaceOrder
from crossmargin.core.events import BorrowLendSource, OrderChanged
from crossmargin.core.funding import apply_auto_settings, fund_outflow
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import entry, locked, spot
from crossmargin.core.limits import compute_subaccount_margin, refuse_new_risk_on_stale_prices
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS, MarketSpec
from crossmargin.core.matching import crosses, preview_fill
from crossmargin.core.numbers import format_scaled
from crossmargin.core.oracle import refuse_order_on_stale_market
from crossmargin.core.order_rules import check_reduce_only_size
from crossmargin.core.orders import (
    ExpiryReason,
    Order,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    SystemOrderType,
    TimeInForce,
)
from crossmargin.core.price_bands import check_price_bands
from crossmargin.core.price_impact import match_within_impact
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.spot_orders import after_spot_fills, close_and_repay
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import check_market_priced, check_order_liquidating, check_order_shape, find_market


def _reject(reason: RejectReason, message: str) -> Rejection:
    return Rejection(reason, message)


def new_order(tx: Transaction, spec: MarketSpec, command: PlaceOrder, system: SystemOrderType) -> Order:
    """Return the order a command asks for, with a fresh id (quantity 0 until a quote order is sized)."""
    market_order = command.order_type is OrderType.MARKET
    return Order(
        order_id=OrderId(tx.take_id("next_order_id")),
        subaccount_id=command.subaccount_id,
        market=spec.symbol,
        side=command.side,
        order_type=command.order_type,
        time_in_force=TimeInForce.IOC
        if market_order and command.time_in_force is TimeInForce.GTC
        else command.time_in_force,
        price_wad=command.price_wad or 0,
        quantity_atoms=command.quantity_atoms or 0,
        created_ms=tx.now_ms,
        client_id=command.client_id,
        flags=command.flags,
        self_trade_prevention=command.self_trade_prevention,
        quote_quantity_atoms=command.quote_quantity_atoms,
        system_order_type=system,
    )


def place_order(tx: Transaction, command: PlaceOrder) -> Rejection | None:
    """Backpack's `POST /api/v1/order`."""
    subaccount = tx.subaccount(command.subaccount_id)
    if subaccount is None:
        return _reject(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {command.subaccount_id} does not exist")
    spec = find_market(tx, command.market)
    if isinstance(spec, Rejection):
        return spec
    refused = (
        check_order_liquidating(subaccount, command)
        or check_order_shape(spec, command)
        or check_market_priced(tx, spec)
        or check_price_bands(tx, spec, command)
        or check_reduce_only_size(tx, spec, command)
    )
    if refused:
        return refused
    trial = Transaction(tx, tx.now_ms)
    outcome = run_order(trial, spec, subaccount, new_order(trial, spec, command, SystemOrderType.NONE))
    if isinstance(outcome, Rejection):
        return outcome
    refused = check_order_outcome(tx, trial, spec, subaccount, command, outcome)
    if refused:
        return refused
    trial.commit()
    return None


def check_order_outcome(
    tx: Transaction, trial: Transaction, spec: MarketSpec, subaccount: Subaccount, command: PlaceOrder, order: Order
) -> Rejection | None:
    """Refuse what every user's order, placed or fired, must not do once run: margin, fresh prices, account limits."""
    return (
        _check_margin(tx, trial, spec, subaccount, order)
        or _check_fresh_prices(tx, trial, spec, command, order)
        or check_account_limits(tx, trial, subaccount.subaccount_id)
    )


def _check_fresh_prices(
    tx: Transaction, trial: Transaction, spec: MarketSpec, command: PlaceOrder, order: Order
) -> Rejection | None:
    """While a price is stale, accept only orders that reduce exposure to it (`oracle.py`)."""
    if spec.is_perp:
        reduces = command.flags.reduce_only or _only_reduces(tx, trial, spec, order)
    else:
        reduces = command.side is OrderSide.ASK
    return refuse_order_on_stale_market(tx, spec, reduces=reduces) or refuse_new_risk_on_stale_prices(
        tx, trial, command.subaccount_id
    )


def _check_margin(
    tx: Transaction, trial: Transaction, spec: MarketSpec, subaccount: Subaccount, order: Order
) -> Rejection | None:
    """Refuse an order leaving available margin < 0 or MMR >= 100%, unless it only reduces a perp position."""
    after = compute_subaccount_margin(trial, subaccount)
    if after.available_wad >= 0 and not after.is_liquidatable:
        return None
    before = compute_subaccount_margin(tx, subaccount)
    if _only_reduces(tx, trial, spec, order) and after.available_wad >= before.available_wad:
        return None
    available = format_scaled(max(before.available_wad, 0), 18)
    return _reject(
        RejectReason.MARGIN_INSUFFICIENT,
        f"Order would take your available margin below zero: you have {available} USD available",
    )


def _only_reduces(tx: Transaction, trial: Transaction, spec: MarketSpec, order: Order) -> bool:
    if not spec.is_perp or order.is_open:
        return False
    before = tx.perp_position(order.subaccount_id, spec.symbol)
    after = trial.perp_position(order.subaccount_id, spec.symbol)
    size_before = abs(before.quantity_atoms) if before else 0
    size_after = abs(after.quantity_atoms) if after else 0
    same_side = before is not None and after is not None and (before.quantity_atoms >= 0) == (after.quantity_atoms >= 0)
    return size_after < size_before and (size_after == 0 or same_side)


def run_order(
    tx: Transaction, spec: MarketSpec, subaccount: Subaccount, order: Order, cause: BorrowLendSource | None = None
) -> Order | Rejection:
    """Lock, match and rest or close an order inside `tx`; return it as it ends up.

    `cause` is the source of what the taker's auto settings then do (a liquidation's `Liquidation`).
    """
    prepared = _prepare(tx, spec, subaccount, order)
    if not isinstance(prepared, Order) or not prepared.is_open:
        return prepared
    order = prepared
    long_before = tx.open_interest(spec.symbol)
    order, makers = match_within_impact(tx, spec, order)
    if spec.is_perp:
        refused = _check_open_interest(tx, spec, long_before)
        if refused:
            return refused
        if order.executed_atoms:
            tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)
    order = _rest_or_close(tx, order)
    if not spec.is_perp:
        after_spot_fills(tx, spec, order)
    for touched in sorted({subaccount.subaccount_id, *makers}):
        apply_auto_settings(tx, touched, cause if touched == subaccount.subaccount_id else None)
    return order


def _prepare(tx: Transaction, spec: MarketSpec, subaccount: Subaccount, order: Order) -> Order | Rejection:
    """Refuse a crossing post-only order, size it, expire an unfillable FOK, lock spot funds."""
    best = tx.book(spec.symbol).opposite(order.side).best_price()
    if order.flags.post_only and best is not None and crosses(order, best):
        return _reject(
            RejectReason.POST_ONLY_WOULD_TAKE,
            f"Post-only order would trade at once against {spec.symbol} at {format_scaled(best, 18)}",
        )
    sized = _size(tx, spec, order)
    if isinstance(sized, Rejection):
        return sized
    if sized.time_in_force is TimeInForce.FOK and preview_fill(tx, spec, sized)[0] < sized.quantity_atoms:
        return _finish(tx, sized, OrderStatus.EXPIRED, ExpiryReason.FILL_OR_KILL)
    return sized if spec.is_perp else _lock(tx, spec, subaccount, sized)


def _size(tx: Transaction, spec: MarketSpec, order: Order) -> Order | Rejection:
    """Size a quote-quantity market order and cap a reduce-only one to the position."""
    if order.quote_quantity_atoms is not None:
        quantity, _ = preview_fill(tx, spec, order, quote_budget=order.quote_quantity_atoms)
        if quantity == 0:
            step = format_scaled(spec.step_atoms, spec.base_decimals)
            return _reject(
                RejectReason.NO_LIQUIDITY,
                f"quoteQuantity buys less than one {spec.symbol} step ({step} {spec.base}) "
                "at the prices on the book now, or the book is empty",
            )
        return order.changed(quantity_atoms=quantity)
    if order.flags.reduce_only:
        position = tx.perp_position(order.subaccount_id, spec.symbol)
        held = position.quantity_atoms if position else 0
        reducing = (held > 0 and order.side is OrderSide.ASK) or (held < 0 and order.side is OrderSide.BID)
        if not reducing:
            return _reject(
                RejectReason.REDUCE_ONLY_NOT_REDUCED, f"A reduce-only order must reduce your {spec.symbol} position"
            )
        return order.changed(quantity_atoms=min(order.quantity_atoms, abs(held)))
    return order


def _lock(tx: Transaction, spec: MarketSpec, subaccount: Subaccount, order: Order) -> Order | Rejection:
    """Lock what a spot order may spend, borrowing or redeeming what is lacking if allowed."""
    if order.side is OrderSide.ASK:
        asset, need = spec.base, order.quantity_atoms
    elif order.quote_quantity_atoms is not None:
        asset, need = spec.quote, order.quote_quantity_atoms
    elif order.order_type is OrderType.MARKET:
        asset, need = spec.quote, preview_fill(tx, spec, order)[1]
    else:
        asset, need = spec.quote, spec.quote_atoms(order.quantity_atoms, order.price_wad)
    asset_spec = tx.spec(asset)
    assert asset_spec is not None, "a market's assets are listed"
    if need == 0:
        return order
    account = subaccount.subaccount_id
    source = spot(account)
    # With the balance there, funding the outflow would do nothing: skip reading the whole holding.
    refused = None
    borrowed = 0
    if tx.balance(source, asset) < need:
        debt_before = tx.holding(account, asset).debt_atoms
        refused = fund_outflow(
            tx,
            account,
            asset_spec,
            need,
            auto_borrow=order.flags.auto_borrow,
            auto_lend_redeem=order.flags.auto_lend_redeem or subaccount.auto_lend,
            source=_FUNDING_SOURCES[order.system_order_type],
        )
        borrowed = tx.holding(account, asset).debt_atoms - debt_before
    if refused:
        return replace(refused, message=f"Order needs {describe(asset_spec, need)}: {refused.message}")
    tx.post(entry(asset, (source, -need), (locked(account), need)))
    return order.changed(locked_atoms=need, borrowed_atoms=borrowed)


_FUNDING_SOURCES = {
    SystemOrderType.NONE: BorrowLendSource.SPOT_MARGIN,
    SystemOrderType.COLLATERAL_CONVERSION: BorrowLendSource.RECONCILIATION,
    SystemOrderType.LIQUIDATE_POSITION_ON_BOOK: BorrowLendSource.LIQUIDATION,
    SystemOrderType.LIQUIDATE_POSITION_ON_ADL: BorrowLendSource.LIQUIDATION,
}
"""The source of a redemption or borrow that funds an order's lock: why the order was placed."""


def _check_open_interest(tx: Transaction, spec: MarketSpec, long_before: int) -> Rejection | None:
    after = tx.open_interest(spec.symbol)
    if spec.open_interest_limit_atoms and after > spec.open_interest_limit_atoms and after > long_before:
        limit = format_scaled(spec.open_interest_limit_atoms, spec.base_decimals)
        return _reject(
            RejectReason.OPEN_INTEREST_LIMIT_EXCEEDED, f"{spec.symbol} open interest would exceed its limit of {limit}"
        )
    return None


def _rest_or_close(tx: Transaction, order: Order) -> Order:
    if order.status is OrderStatus.EXPIRED:
        return _finish(tx, order, OrderStatus.EXPIRED, order.expiry_reason)
    if order.remaining_atoms == 0:
        return _finish(tx, order, OrderStatus.FILLED)
    if order.order_type is OrderType.MARKET or order.time_in_force is not TimeInForce.GTC:
        return _finish(tx, order, OrderStatus.EXPIRED, ExpiryReason.IMMEDIATE_OR_CANCEL)
    order = _release_excess(tx, order)
    tx.set_order(order)
    tx.emit(OrderChanged(order, tx.now_ms))
    return order


def _release_excess(tx: Transaction, order: Order) -> Order:
    """Give back what a resting spot bid saved by filling below its limit: it keeps only what the rest needs."""
    spec = tx.market(order.market)
    assert spec is not None, "orders belong to listed markets"
    if spec.is_perp or order.side is OrderSide.ASK:
        return order
    excess = order.locked_atoms - spec.quote_atoms(order.remaining_atoms, order.price_wad)
    if excess <= 0:
        return order
    account = order.subaccount_id
    tx.post(entry(spec.quote, (locked(account), -excess), (spot(account), excess)))
    return order.changed(locked_atoms=order.locked_atoms - excess)


def _finish(tx: Transaction, order: Order, status: OrderStatus, reason: ExpiryReason | None = None) -> Order:
    return close_and_repay(tx, order, status, reason)


def cancel_order(tx: Transaction, command: CancelOrder) -> Rejection | None:
    """Backpack's `DELETE /api/v1/order`, by order id or client id."""
    spec = find_market(tx, command.market)
    if isinstance(spec, Rejection):
        return spec
    if (command.order_id is None) == (command.client_id is None):
        return _reject(RejectReason.CANCEL_REQUIRES_ONE_ORDER_ID, "Give either orderId or clientId")
    for order in tx.open_orders(command.subaccount_id):
        if order.market != spec.symbol:
            continue
        if order.order_id == command.order_id or (
            command.client_id is not None and order.client_id == command.client_id
        ):
            close_and_repay(tx, order, OrderStatus.CANCELLED)
            apply_auto_settings(tx, command.subaccount_id)
            return None
    which = f"id {command.order_id}" if command.order_id is not None else f"clientId {command.client_id}"
    return _reject(RejectReason.ORDER_NOT_FOUND, f"No open {spec.symbol} order with {which}")


def cancel_all_orders(tx: Transaction, command: CancelAllOrders) -> Rejection | None:
    """Backpack's `DELETE /api/v1/orders`: cancel every open order of the subaccount in a market."""
    spec = find_market(tx, command.market)
    if isinstance(spec, Rejection):
        return spec
    if tx.subaccount(command.subaccount_id) is None:
        return _reject(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {command.subaccount_id} does not exist")
    cancel_subaccount_orders(tx, command.subaccount_id, spec.symbol)
    return None


def cancel_subaccount_orders(
    tx: Transaction, subaccount_id: SubaccountId, market: str | None = None, cause: BorrowLendSource | None = None
) -> None:
    """Cancel a subaccount's open orders (in one market, or all), then apply its auto settings (source `cause`)."""
    for order in tx.open_orders(subaccount_id):
        if market is None or order.market == market:
            close_and_repay(tx, order, OrderStatus.CANCELLED)
    apply_auto_settings(tx, subaccount_id, cause)
