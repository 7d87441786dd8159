"""Firing trigger orders: the pass that ends every accepted command, after its re-mark.

Every price a trigger can watch changes only inside a command (an index through `SetMarkPrices`,
a mark through the re-mark, a last price through a fill), so `run_triggers` runs at the end of
every accepted command, in the same transaction, after `remark`:

1. Attached stop losses and take profits follow their parent orders: their quantity is what the
   parent has filled; a parent closed unfilled cancels them; a parent closed filled leaves them
   on their own for what it filled.
2. The pending trigger orders are read oldest first (by order id); the first armed one with a leg
   whose price is crossed fires (`fire`), the perps are re-marked, and the pass starts again from
   step 1, until none is due. Each trigger fires at most once, so the pass ends; its order is
   deterministic (order id, then the legs in order: stop loss before take profit).

Firing enters the order exactly as `POST /api/v1/order` would (`trading.run_order` in a what-if
child, then the checks of `trading.check_order_outcome`), under the trigger order's own id. If that is
refused, the trigger order closes as `TriggerFailed` with the refusal's `expiryReason` and the
what-if is dropped: nothing else changes. A reduce-only trigger enters for the whole position
(`quantity` None) or for its quantity capped at the position; with no position to reduce it fails
(`StopWithoutPosition`).
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.commands import PlaceOrder
from crossmargin.core.events import OrderChanged
from crossmargin.core.orders import (
    ExpiryReason,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TriggerLeg,
    TriggerLegKind,
)
from crossmargin.core.price_bands import check_price_bands
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.remark import remark
from crossmargin.core.trading import check_order_outcome, run_order
from crossmargin.core.transaction import Transaction
from crossmargin.core.trigger_orders import attach_children, cancel_trigger
from crossmargin.core.trigger_prices import reference_price
from crossmargin.core.validation import check_order_liquidating, check_order_shape

_EXPIRY_REASONS = {
    RejectReason.MARGIN_INSUFFICIENT: ExpiryReason.INSUFFICIENT_MARGIN,
    RejectReason.BALANCE_INSUFFICIENT: ExpiryReason.INSUFFICIENT_FUNDS,
    RejectReason.LEND_INSUFFICIENT: ExpiryReason.INSUFFICIENT_FUNDS,
    RejectReason.POSITION_NOT_FOUND: ExpiryReason.STOP_WITHOUT_POSITION,
    RejectReason.REDUCE_ONLY_NOT_REDUCED: ExpiryReason.REDUCE_ONLY_NOT_REDUCED,
    RejectReason.NO_LIQUIDITY: ExpiryReason.INSUFFICIENT_LIQUIDITY,
    RejectReason.QUANTITY_BELOW_MINIMUM: ExpiryReason.INVALID_QUANTITY,
    RejectReason.POST_ONLY_WOULD_TAKE: ExpiryReason.POST_ONLY_TAKER,
    RejectReason.PRICE_OUTSIDE_BAND: ExpiryReason.PRICE_OUT_OF_BOUNDS,
    RejectReason.PRICE_OUTSIDE_MARK_BAND: ExpiryReason.PRICE_OUT_OF_BOUNDS,
    RejectReason.ACCOUNT_POSITION_LIMIT_EXCEEDED: ExpiryReason.POSITION_LIMIT,
}
"""Backpack's `OrderExpiryReason` of a trigger that failed for an engine refusal (`Unknown` for the rest)."""


def run_triggers(tx: Transaction) -> None:
    """Fire every trigger order the command's prices reached, one at a time, oldest first."""
    while True:
        pending = tx.pending_trigger_orders()
        if not pending:
            return
        _follow_parents(tx, pending)
        due = _first_due(tx, tx.pending_trigger_orders())
        if due is None:
            return
        fire(tx, *due)
        remark(tx)


def _follow_parents(tx: Transaction, pending: list[Order]) -> None:
    for child in pending:
        trigger = child.trigger
        assert trigger is not None, "a pending trigger order has its trigger"
        if not trigger.follows_parent:
            continue
        assert trigger.parent_order_id is not None, "a child follows the order it names"
        parent = tx.order(trigger.parent_order_id)
        assert parent is not None, "a parent that closed let go of its children in the same command"
        if not parent.is_open and not parent.executed_atoms:
            cancel_trigger(tx, child)
            continue
        followed = replace(trigger, quantity_atoms=parent.executed_atoms, follows_parent=parent.is_open)
        if followed != trigger:
            moved = replace(child, quantity_atoms=parent.executed_atoms, trigger=followed)
            tx.set_trigger_order(child.order_id, moved)


def _first_due(tx: Transaction, pending: list[Order]) -> tuple[Order, TriggerLeg] | None:
    prices: dict[tuple[str, str], int] = {}
    for order in pending:
        trigger = order.trigger
        assert trigger is not None, "a pending trigger order has its trigger"
        if trigger.follows_parent and not trigger.quantity_atoms:
            continue  # its parent has not filled yet
        spec = tx.market(order.market)
        assert spec is not None, "orders belong to listed markets"
        for leg in trigger.legs:
            key = (order.market, leg.by.value)
            if key not in prices:
                prices[key] = reference_price(tx, spec, leg.by)
            price = prices[key]
            if price >= leg.price_wad if leg.rises else 0 < price <= leg.price_wad:
                return order, leg
    return None


def fire(tx: Transaction, pending: Order, leg: TriggerLeg) -> None:
    """Enter a due trigger order as a live order, or close it as `TriggerFailed` and change nothing else."""
    trial = Transaction(tx, tx.now_ms)
    outcome = _enter(trial, pending, leg)
    if isinstance(outcome, Rejection):
        reason = _EXPIRY_REASONS.get(outcome.reason, ExpiryReason.UNKNOWN)
        failed = pending.changed(status=OrderStatus.TRIGGER_FAILED, expiry_reason=reason)
        tx.set_trigger_order(pending.order_id, failed)
        tx.emit(OrderChanged(failed, tx.now_ms))
        return
    trial.commit()


def _enter(tx: Transaction, pending: Order, leg: TriggerLeg) -> Order | Rejection:
    trigger = pending.trigger
    assert trigger is not None, "a pending trigger order has its trigger"
    spec = tx.market(pending.market)
    subaccount = tx.subaccount(pending.subaccount_id)
    assert spec is not None, "trigger orders belong to listed markets"
    assert subaccount is not None, "trigger orders belong to subaccounts"
    quantity = _quantity(tx, pending)
    if isinstance(quantity, Rejection):
        return quantity
    if leg.kind is TriggerLegKind.ENTRY:
        order_type, price, time_in_force = pending.order_type, pending.price_wad, pending.time_in_force
    elif leg.limit_price_wad is None:
        order_type, price, time_in_force = OrderType.MARKET, 0, TimeInForce.IOC
    else:
        order_type, price, time_in_force = OrderType.LIMIT, leg.limit_price_wad, TimeInForce.GTC
    command = PlaceOrder(
        pending.subaccount_id,
        pending.market,
        pending.side,
        order_type,
        quantity,
        price or None,
        time_in_force=time_in_force,
        client_id=pending.client_id,
        flags=pending.flags,
        self_trade_prevention=pending.self_trade_prevention,
    )
    refused = (
        check_order_liquidating(subaccount, command)
        or check_order_shape(spec, command)
        or check_price_bands(tx, spec, command)
    )
    if refused:
        return refused
    live = replace(
        pending,
        order_type=order_type,
        time_in_force=time_in_force,
        price_wad=price,
        quantity_atoms=quantity,
        status=OrderStatus.NEW,
        trigger=replace(trigger, triggered_ms=tx.now_ms),
    )
    tx.set_trigger_order(pending.order_id, None)
    trial = Transaction(tx, tx.now_ms)
    outcome = run_order(trial, spec, subaccount, live)
    if isinstance(outcome, Rejection):
        return outcome
    refused = check_order_outcome(tx, trial, spec, subaccount, command, outcome)
    if refused:
        return refused
    trial.commit()
    attach_children(tx, outcome)
    return outcome


def _quantity(tx: Transaction, pending: Order) -> int | Rejection:
    """Return what a firing trigger enters for: its quantity, or for a reduce-only one at most the position."""
    assert pending.trigger is not None, "a pending trigger order has its trigger"
    asked = pending.trigger.quantity_atoms
    if not pending.flags.reduce_only:
        assert asked is not None, "only a reduce-only trigger may close the whole position"
        return asked
    position = tx.perp_position(pending.subaccount_id, pending.market)
    held = position.quantity_atoms if position else 0
    if not held:
        return Rejection(RejectReason.POSITION_NOT_FOUND, f"No {pending.market} position to close")
    if (held > 0) != (pending.side is OrderSide.ASK):
        message = f"The order would not reduce your {pending.market} position"
        return Rejection(RejectReason.REDUCE_ONLY_NOT_REDUCED, message)
    return abs(held) if asked is None else min(asked, abs(held))
