"""Estimated liquidation price: checked by brute force against the engine's own liquidation test.

Method: build an account with the driver, ask for the estimate, then try the grid prices on each
side of it with `is_liquidatable_at` (the same margin computation `Liquidate` uses): the estimate
itself and one step towards the mark are safe, one step further is liquidatable. The perp cases
are also compared with prices at which `Liquidate` is refused or accepted.
"""

from __future__ import annotations

import copy

import pytest
from engine_driver import Driver

from crossmargin.core.commands import BorrowLendSide, Liquidate
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import (
    UPSIDE_RANGE,
    estimate_after_borrow_lend,
    estimate_liquidation_price,
    grid_step_wad,
    is_liquidatable_at,
    nearest_to,
)
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


@pytest.fixture
def driver() -> Driver:
    made = Driver()
    made.prices(BTC="60000", ETH="3000", SOL="150", USDC="1", USDT="1")
    made.lender(BTC="100", USDC="1000000")
    return made


def _estimate(driver: Driver, sub: SubaccountId, symbol: str) -> int | None:
    return estimate_liquidation_price(Transaction(driver.state, driver.now_ms), sub, symbol)


def _liquidatable(driver: Driver, sub: SubaccountId, symbol: str, price_wad: int) -> bool:
    tx = Transaction(driver.state, driver.now_ms)
    return is_liquidatable_at(tx, driver.state.subaccounts[sub], symbol, price_wad)


def _assert_boundary(driver: Driver, sub: SubaccountId, symbol: str, *, falling: bool) -> int:
    """Check the estimate is the last safe grid price before liquidation, on the expected side."""
    estimate = _estimate(driver, sub, symbol)
    assert estimate is not None
    mark = driver.state.mark_prices_wad[symbol]
    step = grid_step_wad(mark)
    assert estimate % step == 0
    beyond = -step if falling else step
    assert (estimate < mark) is falling
    assert not _liquidatable(driver, sub, symbol, estimate)
    assert not _liquidatable(driver, sub, symbol, estimate - beyond)
    assert _liquidatable(driver, sub, symbol, estimate + beyond)
    assert _liquidatable(driver, sub, symbol, estimate + 2 * beyond)
    return estimate


def _usdc_borrow_against_btc(driver: Driver) -> SubaccountId:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.borrow(trader, "USDC", "30000")
    driver.accept(driver.withdraw(trader, "USDC", "30000"))
    return trader


def _btc_borrow_against_usdc(driver: Driver) -> SubaccountId:
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    driver.borrow(trader, "BTC", "0.1")
    driver.accept(driver.withdraw(trader, "BTC", "0.1"))
    return trader


def _perp(driver: Driver, side: str, collateral: str = "6100") -> SubaccountId:
    """A trader takes 1 BTC perp at 60000 (`side` buy or sell) with `collateral` USDC."""
    other = driver.account()
    driver.deposit(other, "USDC", "100000")
    driver.place(other, "BTC_USDC_PERP", "sell" if side == "buy" else "buy", "1", "60000")
    trader = driver.account()
    driver.deposit(trader, "USDC", collateral)
    driver.place(trader, "BTC_USDC_PERP", side, "1")
    return trader


def test_a_usdc_borrow_against_btc_is_liquidated_as_btc_falls(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    estimate = _assert_boundary(driver, trader, "BTC", falling=True)
    # 0.9 x 1 BTC against 30000 USDC owed plus its 5% maintenance: about 35000.
    assert 34_000 * WAD < estimate < 36_000 * WAD


def test_the_same_account_is_liquidated_as_usdc_rises(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    estimate = _assert_boundary(driver, trader, "USDC", falling=False)
    assert WAD < estimate < 2 * WAD


def test_a_btc_borrow_against_usdc_is_liquidated_as_btc_rises(driver: Driver) -> None:
    trader = _btc_borrow_against_usdc(driver)
    estimate = _assert_boundary(driver, trader, "BTC", falling=False)
    assert 90_000 * WAD < estimate < 100_000 * WAD


def test_a_long_perp_is_liquidated_as_btc_falls_where_liquidate_is_first_accepted(driver: Driver) -> None:
    trader = _perp(driver, "buy")
    estimate = _assert_boundary(driver, trader, "BTC", falling=True)
    assert 54_250 * WAD < estimate < 54_300 * WAD
    driver.prices(BTC="54300")
    driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)
    assert _estimate(driver, trader, "BTC") == estimate, "the estimate does not depend on the mark's own level"


def test_a_short_perp_is_liquidated_as_btc_rises(driver: Driver) -> None:
    trader = _perp(driver, "sell")
    estimate = _assert_boundary(driver, trader, "BTC", falling=False)
    assert 60_000 * WAD < estimate < 66_000 * WAD


def test_an_account_without_debt_or_perps_has_no_liquidation_price(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.deposit(trader, "USDC", "1000")
    assert _estimate(driver, trader, "BTC") is None
    assert _estimate(driver, trader, "USDC") is None
    assert not _liquidatable(driver, trader, "BTC", 1)
    assert not _liquidatable(driver, trader, "BTC", 10**9 * WAD)


def test_a_price_that_does_not_touch_the_account_gives_none(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    assert _estimate(driver, trader, "ETH") is None


def test_a_tiny_borrow_liquidated_only_past_the_upside_range_gives_none(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    driver.borrow(trader, "BTC", "0.00001")
    driver.accept(driver.withdraw(trader, "BTC", "0.00001"))
    mark = driver.state.mark_prices_wad["BTC"]
    assert _estimate(driver, trader, "BTC") is None
    assert not _liquidatable(driver, trader, "BTC", mark * UPSIDE_RANGE)
    assert _liquidatable(driver, trader, "BTC", mark * UPSIDE_RANGE * 1000)


def test_no_subaccount_or_no_mark_price_gives_none(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    assert _estimate(driver, SubaccountId(999_999), "BTC") is None
    del driver.state.mark_prices_wad["SOL"]
    assert _estimate(driver, trader, "SOL") is None


def test_an_account_already_liquidatable_gets_the_mark(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    driver.prices(BTC="30000")
    assert driver.margin(trader).is_liquidatable
    assert _estimate(driver, trader, "BTC") == 30_000 * WAD


def test_with_thresholds_on_both_sides_the_nearer_one_is_reported(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.borrow(trader, "USDC", "20000")
    driver.accept(driver.withdraw(trader, "USDC", "20000"))
    driver.borrow(trader, "BTC", "2")  # kept as spot: 3 BTC held against 2 owed
    mark = driver.state.mark_prices_wad["BTC"]
    assert _liquidatable(driver, trader, "BTC", mark * UPSIDE_RANGE), "a threshold above the mark exists too"
    _assert_boundary(driver, trader, "BTC", falling=True)


def test_the_nearer_index_is_compared_as_a_ratio_and_a_tie_goes_to_the_first() -> None:
    assert nearest_to(100, [40, 200]) == 200  # 2x above is nearer than 2.5x below
    assert nearest_to(100, [60, 200]) == 60
    assert nearest_to(100, [50, 200]) == 50


def test_the_grid_keeps_nine_significant_digits_of_the_mark() -> None:
    assert grid_step_wad(60_000 * WAD) == 10**14
    assert grid_step_wad(WAD) == 10**10
    assert grid_step_wad(12_345) == 1


def test_a_planned_borrow_is_estimated_without_changing_the_state(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    assert _estimate(driver, trader, "USDC") is None
    before = copy.deepcopy(driver.state)
    planned = driver.borrow_lend(trader, "USDC", BorrowLendSide.BORROW, "30000")
    estimate = estimate_after_borrow_lend(Transaction(driver.state, driver.now_ms), planned)
    assert driver.state == before
    driver.borrow(trader, "USDC", "30000")
    # The borrowed USDC stays as spot collateral, so USDC's own price hardly moves the margin.
    assert estimate == _estimate(driver, trader, "USDC")


def test_a_planned_borrow_matches_the_estimate_after_it_is_done(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    planned = driver.borrow_lend(trader, "BTC", BorrowLendSide.BORROW, "0.1")
    estimate = estimate_after_borrow_lend(Transaction(driver.state, driver.now_ms), planned)
    # The borrowed BTC stays as spot at weight 0.9 against 0.1 BTC owed at 105%: far above the mark.
    assert isinstance(estimate, int)
    assert 600_000 * WAD < estimate < 700_000 * WAD
    driver.borrow(trader, "BTC", "0.1")
    assert _estimate(driver, trader, "BTC") == estimate


def test_a_planned_borrow_the_engine_would_refuse_is_refused_with_its_reason(driver: Driver) -> None:
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    planned = driver.borrow_lend(trader, "BTC", BorrowLendSide.BORROW, "1")
    refused = estimate_after_borrow_lend(Transaction(driver.state, driver.now_ms), planned)
    assert isinstance(refused, Rejection)
    assert refused.reason is RejectReason.MARGIN_INSUFFICIENT
    assert "max borrowable" in refused.message


def test_a_planned_lend_is_estimated_too(driver: Driver) -> None:
    trader = _usdc_borrow_against_btc(driver)
    planned = driver.borrow_lend(trader, "BTC", BorrowLendSide.LEND, "1")
    estimate = estimate_after_borrow_lend(Transaction(driver.state, driver.now_ms), planned)
    assert estimate == _estimate(driver, trader, "BTC"), "a lend counts as collateral like spot"
    assert isinstance(estimate, int)
    assert estimate < parse_decimal("60000", 18)
