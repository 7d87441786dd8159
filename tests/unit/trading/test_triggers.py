"""Trigger orders, stop losses and take profits: placed off the book, fired by the one price path."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from engine_driver import Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.commands import (
    CancelAllOrders,
    CancelOrder,
    ConfigureMarkets,
    PlaceOrder,
    SetAccountLimits,
    SetMarkPrices,
)
from crossmargin.core.events import Event, OrderChanged, Traded
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import BookState
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import (
    CancelScope,
    ExpiryReason,
    Order,
    OrderFlags,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    TriggerBy,
    TriggerLegKind,
)
from crossmargin.core.rejections import RejectReason
from crossmargin.core.trigger_orders import TRIGGER_ORDERS_MAX

PERP = "BTC_USDC_PERP"
SPOT = "BTC_USDC"
REDUCE = OrderFlags(reduce_only=True)


def _wad(price: str) -> int:
    return parse_decimal(price, 18)


def _trader(driver: Driver, usdc: str = "10000") -> SubaccountId:
    sub = driver.account()
    driver.deposit(sub, "USDC", usdc)
    return sub


def _trigger(command: PlaceOrder, price: str, by: TriggerBy | None = None, quantity: int | None = None) -> PlaceOrder:
    return replace(command, trigger_price_wad=_wad(price), trigger_by=by, trigger_quantity_atoms=quantity)


def _changes(events: tuple[Event, ...], order_id: OrderId) -> list[Order]:
    return [event.order for event in events if isinstance(event, OrderChanged) and event.order.order_id == order_id]


def _pending(driver: Driver, sub: SubaccountId) -> list[Order]:
    return [order for order in driver.state.trigger_orders.values() if order.subaccount_id == sub]


def _place_trigger(driver: Driver, command: PlaceOrder) -> Order:
    events = driver.accept(command)
    placed = [event.order for event in events if isinstance(event, OrderChanged)]
    return placed[0]


def _size(driver: Driver, sub: SubaccountId) -> int:
    position = driver.perp(sub, PERP)
    return position.quantity_atoms if position else 0


def _history(driver: Driver, order_id: OrderId) -> Order:
    (found,) = [order for kept in driver.state.closed_orders.values() for order in kept if order.order_id == order_id]
    return found


def test_a_trigger_order_waits_off_the_book_until_the_index_rises_to_it(driver: Driver) -> None:
    driver.maker(SPOT, "60000", "5", "2")
    trader = _trader(driver)
    order = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000", TriggerBy.INDEX_PRICE))
    assert order.status is OrderStatus.TRIGGER_PENDING
    assert order.trigger is not None
    assert order.trigger.legs[0].rises
    assert order.order_id not in driver.state.orders, "a pending trigger is not on the book"
    assert driver.usdc(trader) == "10000", "nothing is locked while it waits"
    driver.prices(BTC="60500")
    assert driver.state.trigger_orders[order.order_id].status is OrderStatus.TRIGGER_PENDING
    driver.prices(BTC="61000")
    assert order.order_id not in driver.state.trigger_orders
    filled = _history(driver, order.order_id)
    assert filled.status is OrderStatus.FILLED
    assert filled.trigger is not None
    assert filled.trigger.triggered_ms == driver.now_ms
    assert filled.executed_atoms == driver.base_atoms(SPOT, "0.01")
    assert driver.holding(trader, "BTC").spot_atoms > 0


def test_a_trigger_below_the_mark_fires_when_the_mark_falls_to_it(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    order = _place_trigger(driver, _trigger(driver.order(trader, PERP, "sell", "0.01"), "59000", TriggerBy.MARK_PRICE))
    assert order.trigger is not None
    assert not order.trigger.legs[0].rises
    driver.prices(BTC="59500")
    assert order.order_id in driver.state.trigger_orders
    driver.prices(BTC="58000")
    position = driver.perp(trader, PERP)
    assert position is not None
    assert position.quantity_atoms == -driver.base_atoms(PERP, "0.01")


def test_a_last_price_trigger_fires_in_the_command_whose_trade_reaches_it(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    watcher = _trader(driver)
    order = _place_trigger(driver, _trigger(driver.order(watcher, PERP, "buy", "0.01"), "60005"))
    assert order.trigger is not None
    assert order.trigger.legs[0].by is TriggerBy.LAST_PRICE, "LastPrice is the default, as Backpack's TP/SL"
    other = _trader(driver)
    events = driver.accept(driver.order(other, PERP, "buy", "0.01"))
    fills = [event.fill for event in events if isinstance(event, Traded)]
    assert [fill.taker_order_id for fill in fills] == [OrderId(order.order_id + 1), order.order_id]
    position = driver.perp(watcher, PERP)
    assert position is not None
    assert position.quantity_atoms == driver.base_atoms(PERP, "0.01")


def test_a_limit_trigger_order_enters_the_book_at_its_price_when_it_fires(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    command = _trigger(driver.order(trader, PERP, "buy", "0.01", "59000"), "59500", TriggerBy.INDEX_PRICE)
    order = _place_trigger(driver, command)
    moved = driver.accept(_set_btc("59400"))
    (live,) = _changes(moved, order.order_id)
    assert (live.status, live.order_type, live.price_wad) == (OrderStatus.NEW, OrderType.LIMIT, _wad("59000"))
    assert driver.state.orders[order.order_id] == live


def _set_btc(price: str) -> SetMarkPrices:
    return SetMarkPrices((("BTC", _wad(price)),))


def test_a_trigger_at_the_current_price_fires_at_once(driver: Driver) -> None:
    driver.maker(SPOT, "60000", "5", "2")
    trader = _trader(driver)
    events = driver.accept(_trigger(driver.order(trader, SPOT, "buy", "0.01"), "60000", TriggerBy.INDEX_PRICE))
    statuses = [order.status for order in _changes(events, _first_id(events))]
    assert statuses == [OrderStatus.TRIGGER_PENDING, OrderStatus.FILLED]


def _first_id(events: tuple[Event, ...]) -> OrderId:
    return next(event.order.order_id for event in events if isinstance(event, OrderChanged))


def test_triggers_due_together_fire_oldest_first(driver: Driver) -> None:
    driver.maker(SPOT, "60000", "5", "2")
    trader = _trader(driver)
    first = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000", TriggerBy.INDEX_PRICE))
    second = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "60500", TriggerBy.INDEX_PRICE))
    events = driver.accept(_set_btc("62000"))
    taker_ids = [event.fill.taker_order_id for event in events if isinstance(event, Traded)]
    assert taker_ids == [first.order_id, second.order_id]


def test_a_trigger_that_cannot_be_honoured_fails_and_changes_nothing_else(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver, "100")
    order = _place_trigger(driver, _trigger(driver.order(trader, PERP, "buy", "1"), "61000", TriggerBy.INDEX_PRICE))
    events = driver.accept(_set_btc("61000"))
    (failed,) = _changes(events, order.order_id)
    assert (failed.status, failed.expiry_reason) == (OrderStatus.TRIGGER_FAILED, ExpiryReason.INSUFFICIENT_MARGIN)
    assert not any(isinstance(event, Traded) for event in events)
    assert _size(driver, trader) == 0
    assert _history(driver, order.order_id) == failed
    assert order.order_id not in driver.state.trigger_orders


def test_a_reduce_only_trigger_closes_the_whole_position_or_fails_without_one(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "buy", "0.02"))
    stop = _place_trigger(
        driver, _trigger(driver.order(trader, PERP, "sell", None, flags=REDUCE), "59000", TriggerBy.INDEX_PRICE)
    )
    assert stop.quantity_atoms == 0
    driver.accept(_set_btc("58900"))
    assert _size(driver, trader) == 0
    assert _history(driver, stop.order_id).executed_atoms == driver.base_atoms(PERP, "0.02")
    late = _place_trigger(
        driver, _trigger(driver.order(trader, PERP, "sell", "0.01", flags=REDUCE), "58000", TriggerBy.INDEX_PRICE)
    )
    events = driver.accept(_set_btc("57000"))
    (failed,) = _changes(events, late.order_id)
    assert failed.expiry_reason is ExpiryReason.STOP_WITHOUT_POSITION


def test_a_reduce_only_trigger_on_the_wrong_side_fails_as_not_reducing(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "buy", "0.01"))
    wrong = _place_trigger(
        driver, _trigger(driver.order(trader, PERP, "buy", "0.01", flags=REDUCE), "61000", TriggerBy.INDEX_PRICE)
    )
    (failed,) = _changes(driver.accept(_set_btc("61000")), wrong.order_id)
    assert failed.expiry_reason is ExpiryReason.REDUCE_ONLY_NOT_REDUCED


def test_a_spot_trigger_carries_its_spot_margin_flags(driver: Driver) -> None:
    driver.lender(BTC="10", USDC="1000000")
    driver.maker(SPOT, "60000", "5", "2")
    trader = _trader(driver, "1000")
    command = driver.order(trader, SPOT, "buy", "0.05", flags=OrderFlags(auto_borrow=True))
    order = _place_trigger(driver, _trigger(command, "61000", TriggerBy.INDEX_PRICE))
    driver.accept(_set_btc("61000"))
    assert _history(driver, order.order_id).status is OrderStatus.FILLED
    assert driver.holding(trader, "USDC").debt_atoms > 0, "the fired order borrowed what the account lacked"


def test_a_pending_trigger_is_cancelled_by_id_by_client_id_and_by_cancel_all(driver: Driver) -> None:
    trader = _trader(driver)
    by_id = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000"))
    by_client = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01", client_id=7), "61000"))
    driver.accept(CancelOrder(trader, SPOT, by_id.order_id))
    driver.accept(CancelOrder(trader, SPOT, client_id=7))
    assert {_history(driver, by_id.order_id).status, _history(driver, by_client.order_id).status} == {
        OrderStatus.CANCELLED
    }
    resting = driver.place(trader, SPOT, "buy", "0.01", "50000")
    pending = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000"))
    driver.accept(CancelAllOrders(trader, SPOT, CancelScope.RESTING_LIMIT_ORDER))
    assert resting.order_id not in driver.state.orders
    assert pending.order_id in driver.state.trigger_orders
    again = driver.place(trader, SPOT, "buy", "0.01", "50000")
    driver.accept(CancelAllOrders(trader, SPOT, CancelScope.CONDITIONAL_ORDER))
    assert again.order_id in driver.state.orders
    assert pending.order_id not in driver.state.trigger_orders
    driver.accept(_trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000"))
    driver.accept(CancelAllOrders(trader, SPOT))
    assert not _pending(driver, trader)
    assert again.order_id not in driver.state.orders


@pytest.mark.parametrize("scope", [CancelScope.CONDITIONAL_ORDER, CancelScope.RESTING_LIMIT_ORDER])
def test_cancel_all_of_either_kind_needs_a_market_and_a_subaccount(driver: Driver, scope: CancelScope) -> None:
    driver.refuse(CancelAllOrders(SubaccountId(1), "NOPE", scope), RejectReason.MARKET_NOT_FOUND)
    driver.refuse(CancelAllOrders(SubaccountId(99), SPOT, scope), RejectReason.SUBACCOUNT_NOT_FOUND)


def test_an_order_with_stop_loss_and_take_profit_places_them_as_one_trigger_when_it_fills(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    command = replace(
        driver.order(trader, PERP, "buy", "0.1"),
        stop_loss_trigger_price_wad=_wad("59000"),
        stop_loss_trigger_by=TriggerBy.MARK_PRICE,
        take_profit_trigger_price_wad=_wad("61000"),
        take_profit_limit_price_wad=_wad("61000"),
    )
    events = driver.accept(command)
    parent = next(e.order for e in events if isinstance(e, OrderChanged) and e.order.subaccount_id == trader)
    assert [leg.kind for leg in parent.brackets] == [TriggerLegKind.STOP_LOSS, TriggerLegKind.TAKE_PROFIT]
    (child,) = _pending(driver, trader)
    assert child.trigger is not None
    assert (child.side, child.flags.reduce_only, child.trigger.parent_order_id) == (
        OrderSide.ASK,
        True,
        parent.order_id,
    )
    assert child.quantity_atoms == driver.base_atoms(PERP, "0.1")
    stop, take = child.trigger.legs
    assert (stop.rises, take.rises, take.limit_price_wad) == (False, True, _wad("61000"))
    driver.accept(_set_btc("58000"))
    assert _size(driver, trader) == 0, "the stop loss closed the position at market"
    assert not _pending(driver, trader), "and the take profit went with it"
    assert _history(driver, child.order_id).status is OrderStatus.FILLED


def test_a_take_profit_with_a_limit_price_enters_as_a_limit_order(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    command = replace(
        driver.order(trader, PERP, "sell", "0.1"),
        take_profit_trigger_price_wad=_wad("59000"),
        take_profit_limit_price_wad=_wad("58000"),
        take_profit_trigger_by=TriggerBy.INDEX_PRICE,
    )
    driver.accept(command)
    (child,) = _pending(driver, trader)
    (live,) = _changes(driver.accept(_set_btc("59000")), child.order_id)
    assert (live.order_type, live.price_wad, live.side) == (OrderType.LIMIT, _wad("58000"), OrderSide.BID)


def test_stop_loss_of_a_resting_order_waits_for_its_fills_and_goes_when_it_is_cancelled(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    command = replace(
        driver.order(trader, PERP, "buy", "0.1", "59000"),
        stop_loss_trigger_price_wad=_wad("59500"),
        stop_loss_trigger_by=TriggerBy.INDEX_PRICE,
    )
    parent = _parent(driver, command)
    (child,) = _pending(driver, trader)
    assert child.quantity_atoms == 0
    driver.accept(_set_btc("59400"))
    assert _pending(driver, trader) == [child], "unarmed until the parent fills"
    driver.accept(CancelOrder(trader, PERP, parent.order_id))
    assert not _pending(driver, trader)
    assert _history(driver, child.order_id).status is OrderStatus.CANCELLED


def _parent(driver: Driver, command: PlaceOrder) -> Order:
    events = driver.accept(command)
    return next(e.order for e in events if isinstance(e, OrderChanged) and e.order.trigger is None)


def test_stop_loss_follows_what_its_parent_has_filled(driver: Driver) -> None:
    trader = _trader(driver)
    command = replace(driver.order(trader, PERP, "buy", "0.1", "60000"), stop_loss_trigger_price_wad=_wad("50000"))
    parent = _parent(driver, command)
    seller = _trader(driver)
    driver.accept(driver.order(seller, PERP, "sell", "0.04", "60000"))
    (child,) = _pending(driver, trader)
    assert child.quantity_atoms == driver.base_atoms(PERP, "0.04")
    assert child.trigger is not None
    assert child.trigger.follows_parent
    driver.accept(driver.order(seller, PERP, "sell", "0.06", "60000"))
    (child,) = _pending(driver, trader)
    assert child.quantity_atoms == driver.base_atoms(PERP, "0.1")
    assert child.trigger is not None
    assert not child.trigger.follows_parent
    assert child.trigger.parent_order_id == parent.order_id


def test_a_position_stop_loss_closes_the_entire_position_when_it_fires(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "buy", "0.02"))
    command = replace(
        driver.order(trader, PERP, "sell", None, flags=REDUCE),
        stop_loss_trigger_price_wad=_wad("59000"),
        stop_loss_trigger_by=TriggerBy.INDEX_PRICE,
    )
    order = _place_trigger(driver, command)
    assert order.trigger is not None
    assert order.trigger.quantity_atoms is None
    driver.accept(driver.order(trader, PERP, "buy", "0.01"))
    driver.requote(PERP, "58000")
    driver.accept(_set_btc("58000"))
    assert _size(driver, trader) == 0
    assert _history(driver, order.order_id).executed_atoms == driver.base_atoms(PERP, "0.03")


def test_a_partial_position_take_profit_fills_no_more_than_the_position(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "sell", "0.01"))
    command = replace(
        driver.order(trader, PERP, "buy", "0.05", flags=REDUCE),
        take_profit_trigger_price_wad=_wad("59000"),
        take_profit_trigger_by=TriggerBy.INDEX_PRICE,
    )
    order = _place_trigger(driver, command)
    driver.accept(_set_btc("59000"))
    assert _size(driver, trader) == 0
    assert _history(driver, order.order_id).executed_atoms == driver.base_atoms(PERP, "0.01")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"trigger_quantity_atoms": 1}, RejectReason.TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE),
        ({"stop_loss_limit_price_wad": 1}, RejectReason.TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE),
        ({"take_profit_trigger_by": TriggerBy.MARK_PRICE}, RejectReason.TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE),
        ({"trigger_price_wad": 0}, RejectReason.PRICE_MUST_BE_POSITIVE),
        ({"trigger_price_wad": _wad("60000.05")}, RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK),
        ({"trigger_price_wad": _wad("61000"), "quantity_atoms": None}, RejectReason.TRIGGER_REQUIRES_QUANTITY),
        (
            {"trigger_price_wad": _wad("61000"), "quote_quantity_atoms": 1, "quantity_atoms": None},
            RejectReason.TRIGGER_REQUIRES_QUANTITY,
        ),
        (
            {"stop_loss_trigger_price_wad": _wad("61000"), "take_profit_trigger_price_wad": _wad("59000")},
            RejectReason.STOP_LOSS_TAKE_PROFIT_INVERTED,
        ),
        (
            {
                "trigger_price_wad": _wad("61000"),
                "stop_loss_trigger_price_wad": _wad("62000"),
                "take_profit_trigger_price_wad": _wad("61000"),
            },
            RejectReason.STOP_LOSS_TAKE_PROFIT_INVERTED,
        ),
    ],
)
def test_malformed_trigger_orders_are_refused(driver: Driver, changes: dict[str, object], reason: RejectReason) -> None:
    trader = _trader(driver)
    driver.refuse(replace(driver.order(trader, PERP, "buy", "0.01"), **changes), reason)  # type: ignore[arg-type]


def test_stop_loss_and_take_profit_are_for_perps_and_a_position_one_needs_a_position(driver: Driver) -> None:
    trader = _trader(driver)
    spot = replace(driver.order(trader, SPOT, "buy", "0.01"), stop_loss_trigger_price_wad=_wad("59000"))
    driver.refuse(spot, RejectReason.STOP_LOSS_TAKE_PROFIT_REQUIRE_PERP_MARKET)
    position = replace(driver.order(trader, PERP, "sell", None, flags=REDUCE), stop_loss_trigger_price_wad=_wad("1"))
    driver.refuse(position, RejectReason.REDUCE_ONLY_NOT_REDUCED)
    limit = replace(
        driver.order(trader, PERP, "sell", "0.01", "60000", flags=REDUCE), stop_loss_trigger_price_wad=_wad("1")
    )
    driver.refuse(limit, RejectReason.POSITION_TP_SL_REQUIRES_MARKET_ORDER)
    driver.refuse(
        replace(position, stop_loss_trigger_price_wad=_wad("0.05")), RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK
    )
    driver.refuse(
        replace(driver.order(SubaccountId(99), PERP, "buy", "1"), trigger_price_wad=1),
        RejectReason.SUBACCOUNT_NOT_FOUND,
    )
    driver.refuse(
        replace(driver.order(trader, PERP, "buy", "1"), market="NOPE", trigger_price_wad=1),
        RejectReason.MARKET_NOT_FOUND,
    )


def test_a_subaccount_holds_at_most_the_allowed_number_of_pending_triggers(driver: Driver) -> None:
    trader = _trader(driver)
    command = _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000")
    for _ in range(TRIGGER_ORDERS_MAX):
        driver.accept(command)
    driver.refuse(command, RejectReason.TRIGGER_ORDER_LIMIT_EXCEEDED)


def test_a_spot_trigger_needs_a_price_to_watch(driver: Driver) -> None:
    fresh = Driver()
    trader = _trader(fresh)
    fresh.refuse(_trigger(fresh.order(trader, SPOT, "buy", "0.01"), "61000"), RejectReason.MARK_PRICE_MISSING)


def test_pending_triggers_survive_a_snapshot_and_the_last_price_is_rebuilt(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "buy", "0.1"))
    driver.accept(
        replace(driver.order(trader, PERP, "sell", None, flags=REDUCE), stop_loss_trigger_price_wad=_wad("59000"))
    )
    restored = decode_state(encode_state(driver.state))
    assert restored.trigger_orders == driver.state.trigger_orders
    assert restored.last_trade_prices_wad == driver.state.last_trade_prices_wad == {PERP: _wad("60005")}


def test_a_trigger_order_with_a_stop_loss_checks_its_legs_and_places_them_once_it_fills(driver: Driver) -> None:
    trader = _trader(driver)
    spot = replace(_trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000"), stop_loss_trigger_price_wad=_wad("1"))
    driver.refuse(spot, RejectReason.STOP_LOSS_TAKE_PROFIT_REQUIRE_PERP_MARKET)
    driver.maker(PERP, "60000", "5", "2")
    command = replace(
        _trigger(driver.order(trader, PERP, "buy", "0.01"), "61000", TriggerBy.INDEX_PRICE),
        stop_loss_trigger_price_wad=_wad("50000"),
    )
    entry = _place_trigger(driver, command)
    driver.accept(_set_btc("61000"))
    (child,) = _pending(driver, trader)
    assert child.trigger is not None
    assert (child.trigger.parent_order_id, child.quantity_atoms) == (entry.order_id, driver.base_atoms(PERP, "0.01"))


def test_a_position_stop_loss_checks_its_legs(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(driver.order(trader, PERP, "buy", "0.01"))
    inverted = replace(
        driver.order(trader, PERP, "sell", None, flags=REDUCE),
        stop_loss_trigger_price_wad=_wad("61000"),
        take_profit_trigger_price_wad=_wad("59000"),
    )
    driver.refuse(inverted, RejectReason.STOP_LOSS_TAKE_PROFIT_INVERTED)


def test_an_order_with_a_stop_loss_is_refused_as_the_order_would_be(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver, "10")
    command = replace(driver.order(trader, PERP, "buy", "1"), stop_loss_trigger_price_wad=_wad("50000"))
    driver.refuse(command, RejectReason.MARGIN_INSUFFICIENT)


def test_cancelling_looks_past_other_markets_and_subaccounts_triggers(driver: Driver) -> None:
    trader, other = _trader(driver), _trader(driver)
    driver.accept(_trigger(driver.order(other, SPOT, "buy", "0.01"), "61000"))
    driver.accept(_trigger(driver.order(trader, "ETH_USDC", "buy", "0.01"), "4000"))
    driver.refuse(CancelOrder(trader, SPOT, OrderId(1)), RejectReason.ORDER_NOT_FOUND)
    resting = driver.place(trader, SPOT, "buy", "0.01", "50000")
    driver.accept(CancelOrder(trader, SPOT, resting.order_id))
    assert len(driver.state.trigger_orders) == 2


def test_a_trigger_fails_when_its_market_no_longer_takes_orders(driver: Driver) -> None:
    trader = _trader(driver)
    order = _place_trigger(driver, _trigger(driver.order(trader, SPOT, "buy", "0.01"), "61000", TriggerBy.INDEX_PRICE))
    driver.accept(ConfigureMarkets((replace(driver.state.markets[SPOT], state=BookState.CLOSED),)))
    (failed,) = _changes(driver.accept(_set_btc("61000")), order.order_id)
    assert (failed.status, failed.expiry_reason) == (OrderStatus.TRIGGER_FAILED, ExpiryReason.UNKNOWN)


def test_a_post_only_trigger_that_would_take_fails_as_a_post_only_taker(driver: Driver) -> None:
    driver.maker(SPOT, "60000", "5", "2")
    trader = _trader(driver)
    command = driver.order(trader, SPOT, "buy", "0.01", "60010", flags=OrderFlags(post_only=True))
    order = _place_trigger(driver, _trigger(command, "61000", TriggerBy.INDEX_PRICE))
    (failed,) = _changes(driver.accept(_set_btc("61000")), order.order_id)
    assert failed.expiry_reason is ExpiryReason.POST_ONLY_TAKER


def test_a_snapshot_written_before_trigger_orders_existed_still_loads(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    data = json.loads(encode_state(driver.state))
    del data["state"]["trigger_orders"]
    for _, order in data["state"]["orders"]:
        del order["trigger"], order["brackets"]
    restored = decode_state(json.dumps(data))
    assert restored.trigger_orders == {}
    assert restored.orders == driver.state.orders


@pytest.mark.parametrize(
    ("by", "fires_at"),
    [
        (TriggerBy.INDEX_PRICE, "60600"),  # the first index at or above 60500
        (TriggerBy.MARK_PRICE, "61200"),  # the perp mark lags: within 0.5% of the index, pulled by the book
    ],
)
def test_a_replayed_price_path_fires_the_trigger_at_its_first_crossing(
    driver: Driver, by: TriggerBy, fires_at: str
) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    order = _place_trigger(driver, _trigger(driver.order(trader, PERP, "buy", "0.01"), "60500", by))
    fired = []
    for price in ("60400", "59800", "60600", "61200", "62000"):
        events = driver.accept(_set_btc(price))
        if _changes(events, order.order_id):
            fired.append(price)
    assert fired == [fires_at], "it fires once, at the first price that reaches it"


def test_a_limit_trigger_whose_price_left_the_band_fails_as_price_out_of_bounds(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    command = _trigger(driver.order(trader, PERP, "buy", "0.01", "50000"), "59000", TriggerBy.INDEX_PRICE)
    order = _place_trigger(driver, command)
    events = driver.accept(_set_btc("59000"))  # 50,000 is in the band of 60,000, not in the mark band of 59,000
    (failed,) = _changes(events, order.order_id)
    assert (failed.status, failed.expiry_reason) == (OrderStatus.TRIGGER_FAILED, ExpiryReason.PRICE_OUT_OF_BOUNDS)
    assert order.order_id not in driver.state.orders


def test_a_trigger_that_would_pass_the_account_position_limit_fails_as_position_limit(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.accept(SetAccountLimits(trader, position_limit_wad=1_000 * WAD))
    order = _place_trigger(driver, _trigger(driver.order(trader, PERP, "buy", "0.1"), "61000", TriggerBy.INDEX_PRICE))
    events = driver.accept(_set_btc("61000"))
    (failed,) = _changes(events, order.order_id)
    assert (failed.status, failed.expiry_reason) == (OrderStatus.TRIGGER_FAILED, ExpiryReason.POSITION_LIMIT)
    assert _size(driver, trader) == 0
