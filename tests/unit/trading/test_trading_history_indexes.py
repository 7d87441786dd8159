"""A subaccount's trading history without a scan of everyone's: its latest closed orders, and its fills indexed.

A market maker that cancels and replaces its quotes closes thousands of orders a minute (the demo's
closed 6,148 in its first 150 s); kept whole, they grew the server by about 3 MB a minute and every
order-history read scanned all of them. Each subaccount now keeps its own latest orders; the books'
update id still counts every order ever closed.
"""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.events import OrderChanged
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import Order, OrderStatus, TimeInForce
from crossmargin.core.state import CLOSED_ORDERS_KEPT, EngineState

BTC = "BTC_USDC"


def test_a_subaccount_keeps_its_latest_closed_orders_and_the_count_goes_on(driver: Driver) -> None:
    busy = driver.account()
    driver.deposit(busy, "USDC", "1000000")
    other = driver.account()
    driver.deposit(other, "USDC", "1000")
    theirs = driver.place(other, BTC, "buy", "0.01", "50000")
    driver.cancel(other, BTC, theirs.order_id)
    before = driver.state.closed_order_count
    expired: list[Order] = []
    for _ in range(CLOSED_ORDERS_KEPT + 3):  # an IOC with nothing to take expires at once: one closed order each
        events = driver.accept(driver.order(busy, BTC, "buy", "0.001", "50000", tif=TimeInForce.IOC))
        expired.extend(event.order for event in events if isinstance(event, OrderChanged))

    assert len(expired) == CLOSED_ORDERS_KEPT + 3
    kept = driver.state.closed_orders_of(busy)
    assert len(kept) == CLOSED_ORDERS_KEPT
    assert [order.order_id for order in kept] == [order.order_id for order in expired[3:]], "the latest, in order"
    assert all(order.status is OrderStatus.EXPIRED for order in kept)
    assert driver.state.closed_order_count == before + CLOSED_ORDERS_KEPT + 3, "every close is counted"
    assert [order.order_id for order in driver.state.closed_orders_of(other)] == [theirs.order_id]
    assert driver.state.closed_orders_of(driver.account()) == []


def test_each_subaccounts_fills_are_indexed_and_the_index_survives_a_snapshot(driver: Driver) -> None:
    """A subaccount's fill history reads its own fills, not every fill of the exchange: the index equals the scan."""
    maker, taker, bystander = driver.account(), driver.account(), driver.account()
    driver.deposit(maker, "BTC", "1")
    driver.deposit(taker, "USDC", "100000")
    driver.deposit(bystander, "USDC", "1000")
    for price in ("60000", "60010", "60020"):
        driver.place(maker, BTC, "sell", "0.01", price)
        driver.accept(driver.order(taker, BTC, "buy", "0.01", price, tif=TimeInForce.IOC))
    driver.place(taker, BTC, "sell", "0.005", "61000")
    driver.accept(driver.order(maker, BTC, "buy", "0.005", "61000", tif=TimeInForce.IOC))

    def scanned(state: EngineState, sub: SubaccountId) -> list[Fill]:
        return [fill for fill in state.fills if sub in (fill.maker_subaccount_id, fill.taker_subaccount_id)]

    restored = decode_state(encode_state(driver.state))
    for state in (driver.state, restored):
        for sub in (maker, taker, bystander):
            assert state.fills_of(sub) == scanned(state, sub)
        assert len(state.fills_of(maker)) == 4
        assert state.fills_of(bystander) == []


def test_a_fill_with_the_same_maker_and_taker_is_indexed_once(driver: Driver) -> None:
    """Self-trade prevention keeps it from happening; were it to, the subaccount's history lists the fill once."""
    maker, taker = driver.account(), driver.account()
    driver.deposit(maker, "BTC", "1")
    driver.deposit(taker, "USDC", "100000")
    driver.place(maker, BTC, "sell", "0.01", "60000")
    driver.accept(driver.order(taker, BTC, "buy", "0.01", "60000", tif=TimeInForce.IOC))
    (fill,) = driver.state.fills
    state = EngineState()
    state.fills.append(replace(fill, taker_subaccount_id=maker))
    state.rebuild_indexes()
    assert state.fill_indexes == {maker: [0]}
