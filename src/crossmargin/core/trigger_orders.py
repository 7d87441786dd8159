"""Placing and cancelling trigger orders, stop losses and take profits (Backpack's conditional orders).

`POST /api/v1/order` takes four shapes here (`place_any_order`, the `PlaceOrder` handler):

- a plain order: `trading.place_order`, unchanged;
- a **trigger order** (`trigger_price_wad`): it rests off the book, status `TriggerPending`, until
  its `triggerBy` price (last trade, default; mark; index) reaches the trigger price from the side
  it stood on when placed (above it: fires when the price rises to it; below or at it: when it falls
  to it, or at once). Then it enters as the order it describes (market, or limit at its price) for
  `triggerQuantity`, else `quantity`, else, for a reduce-only order, the whole position. Nothing
  is locked or reserved while it waits; it is checked like any order when it fires (`triggers.py`);
- an order with a **stop loss and/or take profit** (perps only, as on Backpack): they are kept on
  the order (`brackets`) and placed as one reduce-only trigger order on the other side, for what
  the order has filled, as soon as it fills (the child follows the parent's fills while the parent
  rests, is dropped if the parent closes unfilled);
- a **position's stop loss and/or take profit**: a reduce-only market order with stop-loss or
  take-profit fields and no trigger price becomes that trigger order at once, for `quantity` or,
  without one, the whole position when it fires (Backpack's "entire position" TP/SL). It needs a
  position that the order's side reduces.

A stop loss and a take profit of one order are two legs of one trigger order: whichever is
crossed first fires it, and the other is gone with it (one cancels the other). A long's stop loss
fires when the price falls to it and its take profit when the price rises to it; a short's the other
way round; so the stop loss must be below the take profit for a long, above it for a short.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from crossmargin.core.commands import CancelAllOrders, CancelOrder, PlaceOrder
from crossmargin.core.events import OrderChanged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import format_scaled
from crossmargin.core.orders import (
    CancelScope,
    Order,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    SystemOrderType,
    Trigger,
    TriggerBy,
    TriggerLeg,
    TriggerLegKind,
)
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.trading import cancel_all_orders, cancel_order, cancel_subaccount_orders, new_order, place_order
from crossmargin.core.transaction import Transaction
from crossmargin.core.trigger_prices import reference_price
from crossmargin.core.validation import check_market_priced, check_order_liquidating, check_order_shape, find_market

TRIGGER_ORDERS_MAX: Final = 100
"""The most pending trigger orders one subaccount may hold (Backpack caps stop orders too)."""
DEFAULT_TRIGGER_BY: Final = TriggerBy.LAST_PRICE
"""What a trigger watches when the order does not say: Backpack's TP/SL use the last traded price."""


def place_any_order(tx: Transaction, command: PlaceOrder) -> Rejection | None:
    """Backpack's `POST /api/v1/order`: a plain order, a trigger order, or either with a stop loss / take profit."""
    brackets = _bracket_fields_given(command)
    if command.trigger_price_wad is None and not brackets:
        refused = _refuse_stray_trigger_fields(command)
        return refused or place_order(tx, command)
    spec = find_market(tx, command.market)
    if isinstance(spec, Rejection):
        return spec
    refused = _refuse_stray_trigger_fields(command) or _check_room(tx, command.subaccount_id)
    if refused:
        return refused
    if command.trigger_price_wad is not None:
        return _place_trigger(tx, spec, command)
    if command.flags.reduce_only:
        return _place_position_brackets(tx, spec, command)
    return _place_with_brackets(tx, spec, command)


def _bracket_fields_given(command: PlaceOrder) -> bool:
    return command.stop_loss_trigger_price_wad is not None or command.take_profit_trigger_price_wad is not None


def _refuse_stray_trigger_fields(command: PlaceOrder) -> Rejection | None:
    """Refuse a field that only means something beside a trigger price it lacks."""
    stop = command.stop_loss_trigger_price_wad
    pairs = (
        ("triggerQuantity", command.trigger_quantity_atoms, "triggerPrice", command.trigger_price_wad),
        ("triggerBy", command.trigger_by, "triggerPrice", command.trigger_price_wad),
        ("stopLossLimitPrice", command.stop_loss_limit_price_wad, "stopLossTriggerPrice", stop),
        ("stopLossTriggerBy", command.stop_loss_trigger_by, "stopLossTriggerPrice", stop),
        (
            "takeProfitLimitPrice",
            command.take_profit_limit_price_wad,
            "takeProfitTriggerPrice",
            command.take_profit_trigger_price_wad,
        ),
        (
            "takeProfitTriggerBy",
            command.take_profit_trigger_by,
            "takeProfitTriggerPrice",
            command.take_profit_trigger_price_wad,
        ),
    )
    for name, value, needs, given in pairs:
        if value is not None and given is None:
            return Rejection(RejectReason.TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE, f"{name} needs {needs}")
    return None


def _check_room(tx: Transaction, subaccount_id: SubaccountId) -> Rejection | None:
    if tx.subaccount(subaccount_id) is None:
        return Rejection(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {subaccount_id} does not exist")
    held = sum(1 for order in tx.pending_trigger_orders() if order.subaccount_id == subaccount_id)
    if held >= TRIGGER_ORDERS_MAX:
        return Rejection(
            RejectReason.TRIGGER_ORDER_LIMIT_EXCEEDED,
            f"You hold {held} pending trigger orders, the most allowed: cancel one before placing another",
        )
    return None


def _check_price(spec: MarketSpec, name: str, price_wad: int | None) -> Rejection | None:
    if price_wad is None:
        return None
    if price_wad <= 0:
        return Rejection(RejectReason.PRICE_MUST_BE_POSITIVE, f"{name} must be greater than zero")
    if price_wad % spec.tick_size_wad:
        tick = format_scaled(spec.tick_size_wad, 18)
        message = f"{name} must be a multiple of {spec.symbol}'s tick size {tick}"
        return Rejection(RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK, message)
    return None


def _any_valid_quantity(spec: MarketSpec) -> int:
    """Return the least quantity on the market's grid: stands in for a whole position when checking a shape."""
    steps = -(-spec.min_quantity_atoms // spec.step_atoms)
    return max(steps, 1) * spec.step_atoms


def _check_shape(tx: Transaction, spec: MarketSpec, command: PlaceOrder, quantity: int | None) -> Rejection | None:
    """Refuse what `place_order` would refuse of the order this trigger will enter, and off-grid trigger prices."""
    subaccount = tx.subaccount(command.subaccount_id)
    assert subaccount is not None, "checked by place_any_order"
    stand_in = _any_valid_quantity(spec) if quantity is None else quantity
    shaped = replace(command, quantity_atoms=stand_in, quote_quantity_atoms=None)
    return (
        check_order_liquidating(subaccount, command)
        or check_order_shape(spec, shaped)
        or check_market_priced(tx, spec)
        or _check_price(spec, "triggerPrice", command.trigger_price_wad)
        or _check_price(spec, "stopLossTriggerPrice", command.stop_loss_trigger_price_wad)
        or _check_price(spec, "stopLossLimitPrice", command.stop_loss_limit_price_wad)
        or _check_price(spec, "takeProfitTriggerPrice", command.take_profit_trigger_price_wad)
        or _check_price(spec, "takeProfitLimitPrice", command.take_profit_limit_price_wad)
    )


def bracket_legs(spec: MarketSpec, command: PlaceOrder, closing_side: OrderSide) -> tuple[TriggerLeg, ...] | Rejection:
    """Return the stop-loss and take-profit legs an order asks for, closing on `closing_side`; refuse what cannot be."""
    if not spec.is_perp:
        return Rejection(
            RejectReason.STOP_LOSS_TAKE_PROFIT_REQUIRE_PERP_MARKET,
            f"Stop loss and take profit are for perpetual markets; {spec.symbol} is spot: place a trigger order",
        )
    closes_long = closing_side is OrderSide.ASK
    legs = []
    stop, take = command.stop_loss_trigger_price_wad, command.take_profit_trigger_price_wad
    if stop is not None:
        by = command.stop_loss_trigger_by or DEFAULT_TRIGGER_BY
        legs.append(TriggerLeg(TriggerLegKind.STOP_LOSS, stop, by, not closes_long, command.stop_loss_limit_price_wad))
    if take is not None:
        by = command.take_profit_trigger_by or DEFAULT_TRIGGER_BY
        legs.append(TriggerLeg(TriggerLegKind.TAKE_PROFIT, take, by, closes_long, command.take_profit_limit_price_wad))
    if stop is not None and take is not None and (stop >= take if closes_long else stop <= take):
        which = "below" if closes_long else "above"
        position = "long" if closes_long else "short"
        return Rejection(
            RejectReason.STOP_LOSS_TAKE_PROFIT_INVERTED,
            f"A {position}'s stop loss must be {which} its take profit: it closes at a loss, the take profit at a gain",
        )
    return tuple(legs)


def _opposite(side: OrderSide) -> OrderSide:
    return OrderSide.ASK if side is OrderSide.BID else OrderSide.BID


def _pending(tx: Transaction, command: PlaceOrder, trigger: Trigger, brackets: tuple[TriggerLeg, ...] = ()) -> Order:
    """Store and announce a new pending trigger order built from a command (as `trading.new_order` builds any order)."""
    spec = tx.market(command.market)
    assert spec is not None, "trigger orders are placed on listed markets"
    order = replace(
        new_order(tx, spec, command, SystemOrderType.NONE),
        quantity_atoms=trigger.quantity_atoms or 0,
        quote_quantity_atoms=None,
        status=OrderStatus.TRIGGER_PENDING,
        trigger=trigger,
        brackets=brackets,
    )
    tx.set_trigger_order(order.order_id, order)
    tx.emit(OrderChanged(order, tx.now_ms))
    return order


def _place_trigger(tx: Transaction, spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    quantity = command.trigger_quantity_atoms if command.trigger_quantity_atoms is not None else command.quantity_atoms
    if command.quote_quantity_atoms is not None or (quantity is None and not command.flags.reduce_only):
        return Rejection(
            RejectReason.TRIGGER_REQUIRES_QUANTITY,
            "A trigger order needs triggerQuantity or quantity (quoteQuantity is not taken); "
            "only a reduce-only one may leave both out, to close the whole position",
        )
    refused = _check_shape(tx, spec, command, quantity)
    if refused:
        return refused
    brackets: tuple[TriggerLeg, ...] = ()
    if _bracket_fields_given(command):
        legs = bracket_legs(spec, command, _opposite(command.side))
        if isinstance(legs, Rejection):
            return legs
        brackets = legs
    assert command.trigger_price_wad is not None, "a trigger order has a trigger price"
    by = command.trigger_by or DEFAULT_TRIGGER_BY
    reference = reference_price(tx, spec, by)
    if not reference:
        return Rejection(RejectReason.MARK_PRICE_MISSING, f"{spec.symbol} has no {by} yet to trigger on")
    leg = TriggerLeg(TriggerLegKind.ENTRY, command.trigger_price_wad, by, command.trigger_price_wad >= reference)
    _pending(tx, command, Trigger((leg,), quantity), brackets)
    return None


def _place_position_brackets(tx: Transaction, spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    if command.order_type is not OrderType.MARKET:
        return Rejection(
            RejectReason.POSITION_TP_SL_REQUIRES_MARKET_ORDER,
            "A position's stop loss or take profit is a reduce-only Market order; "
            "give a limit price per leg in stopLossLimitPrice or takeProfitLimitPrice",
        )
    refused = _check_shape(tx, spec, command, command.quantity_atoms)
    if refused:
        return refused
    legs = bracket_legs(spec, command, command.side)
    if isinstance(legs, Rejection):
        return legs
    position = tx.perp_position(command.subaccount_id, spec.symbol)
    held = position.quantity_atoms if position else 0
    if (held > 0 and command.side is OrderSide.BID) or (held < 0 and command.side is OrderSide.ASK) or not held:
        return Rejection(
            RejectReason.REDUCE_ONLY_NOT_REDUCED,
            f"A position's stop loss or take profit must close your {spec.symbol} position: "
            "open it first, and give the side that reduces it",
        )
    _pending(tx, command, Trigger(legs, command.quantity_atoms))
    return None


def _place_with_brackets(tx: Transaction, spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    legs = bracket_legs(spec, command, _opposite(command.side))
    if isinstance(legs, Rejection):
        return legs
    next_id = OrderId(tx.counter("next_order_id"))
    refused = place_order(tx, command)
    if refused:
        return refused
    parent = tx.order(next_id)
    assert parent is not None, "an accepted order is written in its transaction"
    with_brackets = replace(parent, brackets=legs)
    tx.set_order(with_brackets)
    for index, event in enumerate(tx.events):
        if isinstance(event, OrderChanged) and event.order.order_id == next_id:
            tx.events[index] = OrderChanged(replace(event.order, brackets=legs), event.at_ms)
    attach_children(tx, with_brackets)
    return None


def attach_children(tx: Transaction, parent: Order) -> None:
    """Place the stop loss / take profit an order carries, for what it filled, following it while it rests."""
    if not parent.brackets or (not parent.is_open and not parent.executed_atoms):
        return
    child = PlaceOrder(
        parent.subaccount_id,
        parent.market,
        _opposite(parent.side),
        OrderType.MARKET,
        None,
        flags=replace(parent.flags, reduce_only=True, post_only=False),
        self_trade_prevention=parent.self_trade_prevention,
    )
    trigger = Trigger(parent.brackets, parent.executed_atoms, parent.order_id, follows_parent=parent.is_open)
    _pending(tx, child, trigger)


def cancel_any_order(tx: Transaction, command: CancelOrder) -> Rejection | None:
    """Backpack's `DELETE /api/v1/order`: a pending trigger order, or else a resting order."""
    for order in tx.pending_trigger_orders():
        if order.subaccount_id != command.subaccount_id or order.market != command.market:
            continue
        by_client = command.client_id is not None and order.client_id == command.client_id
        if order.order_id == command.order_id or by_client:
            cancel_trigger(tx, order)
            return None
    return cancel_order(tx, command)


def cancel_all_any_orders(tx: Transaction, command: CancelAllOrders) -> Rejection | None:
    """Backpack's `DELETE /api/v1/orders`: resting orders, pending trigger orders, or both (`scope` None)."""
    if command.scope is CancelScope.RESTING_LIMIT_ORDER:
        return cancel_all_orders(tx, command)
    spec = find_market(tx, command.market)
    if isinstance(spec, Rejection):
        return spec
    if tx.subaccount(command.subaccount_id) is None:
        return Rejection(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {command.subaccount_id} does not exist")
    if command.scope is None:
        cancel_subaccount_orders(tx, command.subaccount_id, spec.symbol)
    cancel_triggers(tx, command.subaccount_id, spec.symbol)
    return None


def cancel_triggers(tx: Transaction, subaccount_id: SubaccountId, market: str | None = None) -> None:
    """Cancel a subaccount's pending trigger orders (in one market, or all)."""
    for order in tx.pending_trigger_orders():
        if order.subaccount_id == subaccount_id and market in (None, order.market):
            cancel_trigger(tx, order)


def cancel_trigger(tx: Transaction, order: Order) -> None:
    """Cancel one pending trigger order: it leaves the pending list for the order history."""
    cancelled = order.changed(status=OrderStatus.CANCELLED)
    tx.set_trigger_order(order.order_id, cancelled)
    tx.emit(OrderChanged(cancelled, tx.now_ms))
