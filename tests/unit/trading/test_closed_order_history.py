"""Closed orders kept for the order history: each subaccount's latest `CLOSED_ORDERS_KEPT`, indexed by subaccount.

A market maker that cancels and replaces its quotes closes thousands of orders a minute (the demo's
closed 6,148 in its first 150 s); kept whole, they grew the server by about 3 MB a minute and every
order-history read scanned all of them. Each subaccount now keeps its own latest orders; the books'
update id still counts every order ever closed.
"""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.events import OrderChanged
from crossmargin.core.orders import Order, OrderStatus, TimeInForce
from crossmargin.core.state import CLOSED_ORDERS_KEPT

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
