"""Max order quantity: the largest order the engine accepts, by its own what-if, and one step more refused."""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import ConfigureMarkets, PlaceOrder
from crossmargin.core.engine import Accepted, compute_max_order_quantity, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import compute_yearly_yield
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderFlags

PERP = "BTC_USDC_PERP"
SPOT = "BTC_USDC"


def accepted(driver: Driver, order: PlaceOrder) -> bool:
    return isinstance(execute(copy.deepcopy(driver.state), order, driver.now_ms), Accepted)


def assert_exact(driver: Driver, order: PlaceOrder) -> int:
    """The max is accepted and one step more is refused; return it."""
    most = compute_max_order_quantity(driver.state, order)
    step = driver.state.markets[order.market].step_atoms
    assert most > 0
    assert most % step == 0
    assert accepted(driver, replace(order, quantity_atoms=most))
    assert not accepted(driver, replace(order, quantity_atoms=most + step))
    return most


def trader(driver: Driver, usdc: str) -> SubaccountId:
    sub = driver.account()
    driver.deposit(sub, "USDC", usdc)
    return sub


def test_a_perp_limit_bid_is_capped_by_margin(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    sub = trader(driver, "1000")

    most = assert_exact(driver, driver.order(sub, PERP, "buy", "0.0001", "59000"))

    # 1000 USDC at the 10x default leverage buys about 10,000 USDC of BTC at 59,000.
    assert driver.base_atoms(PERP, "0.1") < most < driver.base_atoms(PERP, "0.2")


def test_a_spot_limit_bid_is_capped_by_the_quote_balance_and_grows_with_auto_borrow(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    sub = trader(driver, "1000")
    driver.deposit(sub, "BTC", "0.1")
    plain = driver.order(sub, SPOT, "buy", "0.0001", "50000")

    own = assert_exact(driver, plain)
    borrowed = assert_exact(driver, replace(plain, flags=OrderFlags(auto_borrow=True)))

    assert own == driver.base_atoms(SPOT, "0.02")  # 1000 USDC at 50,000
    assert borrowed > own


def test_a_market_order_is_capped_by_the_book_it_would_fill(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "0.05")
    sub = trader(driver, "100000")

    most = compute_max_order_quantity(driver.state, driver.order(sub, PERP, "buy", "0.0001"))

    assert most == driver.base_atoms(PERP, "0.05"), "all the ask side, accepted"


def test_a_market_order_against_an_empty_side_gives_zero(driver: Driver) -> None:
    sub = trader(driver, "100000")

    assert compute_max_order_quantity(driver.state, driver.order(sub, PERP, "sell", "0.0001")) == 0


def test_a_reduce_only_order_is_capped_by_the_position(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    sub = trader(driver, "10000")
    driver.accept(driver.order(sub, PERP, "buy", "0.1"))
    reduce = OrderFlags(reduce_only=True)
    other = trader(driver, "10000")

    most = compute_max_order_quantity(driver.state, driver.order(sub, PERP, "sell", "0.0001", "59000", flags=reduce))
    none = compute_max_order_quantity(driver.state, driver.order(other, PERP, "sell", "0.0001", "59000", flags=reduce))

    assert most == driver.base_atoms(PERP, "0.1")
    assert none == 0


def test_an_unknown_market_or_subaccount_gives_zero(driver: Driver) -> None:
    sub = trader(driver, "1000")
    order = driver.order(sub, SPOT, "buy", "0.0001", "50000")

    assert compute_max_order_quantity(driver.state, replace(order, market="DOGE_USDC")) == 0
    assert compute_max_order_quantity(driver.state, replace(order, subaccount_id=SubaccountId(999))) == 0


def test_the_search_starts_at_the_market_minimum(driver: Driver) -> None:
    spec = driver.state.markets[SPOT]
    driver.accept(ConfigureMarkets((replace(spec, min_quantity_atoms=spec.step_atoms * 1000),)))
    poor, rich = trader(driver, "1"), trader(driver, "1000")
    order = driver.order(rich, SPOT, "buy", "0.0001", "50000")

    assert compute_max_order_quantity(driver.state, replace(order, subaccount_id=poor)) == 0
    assert assert_exact(driver, order) == driver.base_atoms(SPOT, "0.02")


def test_a_yearly_yield_compounds_hourly_in_the_exchanges_favour() -> None:
    tenth = WAD // 10

    borrower, lender = compute_yearly_yield(tenth, borrower=True), compute_yearly_yield(tenth, borrower=False)

    # e^0.1 - 1 = 0.10517...; hourly compounding is just under it.
    assert lender < borrower
    assert 105_170_000_000_000_000 < lender < borrower < 105_171_000_000_000_000
    assert compute_yearly_yield(0, borrower=True) == 0
