"""Every quantity and price a command carries is bounded before any work is done.

Found on main: an operator deposit of `1` followed by 4,000 zeros, or a price of 10^4000, was
accepted; the risk monitor then died with OverflowError, an account past maintenance stayed
unliquidated and the server could no longer start on that journal.
"""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.commands import Deposit, PlaceOrder, SeedDemo, SetMarkPrices, Withdraw
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, PRICE_WAD_MAX, WAD
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.rejections import RejectReason

HUGE = 10**4000


def test_a_deposit_above_the_quantity_maximum_is_refused() -> None:
    driver = Driver()
    trader = driver.account()
    rejection = driver.refuse(Deposit(trader, "USDC", HUGE), RejectReason.QUANTITY_ABOVE_MAXIMUM)
    assert "quantity_atoms" in rejection.message
    assert "2^127 - 1" in rejection.message
    driver.refuse(Deposit(trader, "USDC", AMOUNT_ATOMS_MAX + 1), RejectReason.QUANTITY_ABOVE_MAXIMUM)


def test_deposits_may_not_add_up_past_the_maximum_of_one_asset() -> None:
    driver = Driver()
    first, second = driver.account(), driver.account()
    driver.accept(Deposit(first, "BTC", AMOUNT_ATOMS_MAX))
    rejection = driver.refuse(Deposit(second, "BTC", 1), RejectReason.QUANTITY_ABOVE_MAXIMUM)
    assert "Deposits of BTC" in rejection.message
    driver.accept(Deposit(second, "USDC", AMOUNT_ATOMS_MAX))  # each asset has its own total


def test_a_price_above_the_maximum_is_refused_and_the_maximum_is_accepted() -> None:
    driver = Driver()
    rejection = driver.refuse(SetMarkPrices((("BTC", HUGE),)), RejectReason.PRICE_ABOVE_MAXIMUM)
    assert "10^12 USD" in rejection.message
    driver.refuse(SetMarkPrices((("USDC", WAD), ("BTC", PRICE_WAD_MAX + 1))), RejectReason.PRICE_ABOVE_MAXIMUM)
    assert "USDC" not in driver.state.mark_prices_wad
    driver.accept(SetMarkPrices((("BTC", PRICE_WAD_MAX),)))


def test_orders_withdrawals_and_the_demo_seed_are_bounded_too() -> None:
    driver = Driver()
    driver.prices(USDC="1", BTC="60000")
    trader = driver.account()
    driver.refuse(Withdraw(trader, "USDC", HUGE), RejectReason.QUANTITY_ABOVE_MAXIMUM)
    order = PlaceOrder(trader, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, HUGE, 60_000 * WAD)
    driver.refuse(order, RejectReason.QUANTITY_ABOVE_MAXIMUM)
    order = PlaceOrder(trader, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, 1, HUGE)
    driver.refuse(order, RejectReason.PRICE_ABOVE_MAXIMUM)
    fresh = Driver()
    fresh.refuse(SeedDemo((("BTC", HUGE),), ()), RejectReason.PRICE_ABOVE_MAXIMUM)
    fresh.refuse(SeedDemo((), (("BTC", HUGE),)), RejectReason.QUANTITY_ABOVE_MAXIMUM)
