"""Pool rules: state (Open, Closed, RepayOnly), throttle, maximum utilization, liquidity, limits."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.assets import PoolState
from crossmargin.core.commands import BorrowLendSide, ConfigureAssets
from crossmargin.core.rejections import RejectReason


def set_pool_state(driver: Driver, symbol: str, state: PoolState) -> None:
    driver.accept(ConfigureAssets((replace(driver.state.specs[symbol], pool_state=state),)))


def test_closed_pool_refuses_borrow_and_lend_but_allows_repay_and_redeem(driver: Driver) -> None:
    lender = driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "100")
    set_pool_state(driver, "USDC", PoolState.CLOSED)
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.POOL_CLOSED
    )
    assert rejection.message == "The USDC lending pool is closed: borrowing is not possible"
    driver.deposit(driver.account(), "USDC", "5")
    driver.lend(borrower, "USDC", "50")
    driver.borrow(lender, "USDC", "100")


def test_repay_only_pool_refuses_new_borrows(driver: Driver) -> None:
    driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "100")
    set_pool_state(driver, "USDC", PoolState.REPAY_ONLY)
    driver.refuse(driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.POOL_REPAY_ONLY)
    driver.lend(borrower, "USDC", "100")


def test_borrow_past_max_utilization_is_refused(driver: Driver) -> None:
    driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "901"), RejectReason.POOL_UTILIZATION_EXCEEDED
    )
    assert "maximum utilization of 90%" in rejection.message
    driver.borrow(borrower, "USDC", "840")


def test_redeem_beyond_liquidity_then_throttle_pauses_redemptions_and_borrows(driver: Driver) -> None:
    lender = driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "800")
    driver.refuse(
        driver.borrow_lend(lender, "USDC", BorrowLendSide.BORROW, "300"), RejectReason.POOL_LIQUIDITY_INSUFFICIENT
    )
    driver.refuse(
        driver.borrow_lend(lender, "USDC", BorrowLendSide.BORROW, "120"), RejectReason.POOL_UTILIZATION_EXCEEDED
    )
    driver.borrow(lender, "USDC", "100")  # redeem: utilization 800 / 900 = 89%, past the 85% throttle
    rejection = driver.refuse(
        driver.borrow_lend(lender, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.POOL_THROTTLED
    )
    assert "throttle of 85%" in rejection.message
    driver.refuse(driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.POOL_THROTTLED)
    driver.lend(borrower, "USDC", "200")
    driver.borrow(lender, "USDC", "10")


def test_open_borrow_lend_limit_caps_lending(driver: Driver) -> None:
    whale = driver.account()
    driver.deposit(whale, "BTC", "20001")
    rejection = driver.refuse(
        driver.borrow_lend(whale, "BTC", BorrowLendSide.LEND, "20000.00000001"),
        RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED,
    )
    assert "at most 20000 BTC more" in rejection.message
    driver.lend(whale, "BTC", "20000")


def test_borrow_without_a_mark_price_is_refused() -> None:
    driver = Driver()
    driver.prices(USDC="1", BTC="60000")
    driver.lender(SOL="10")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "1000")
    driver.refuse(driver.borrow_lend(borrower, "SOL", BorrowLendSide.BORROW, "1"), RejectReason.MARK_PRICE_MISSING)


def test_lending_without_borrowers_earns_nothing_and_charges_nothing(driver: Driver) -> None:
    lender = driver.lender(ETH="3")
    events = driver.tick(10 * 3_600_000)
    assert events == ()
    assert driver.holding(lender, "ETH").lend_atoms == 300_000_000
    assert len(driver.state.accruals["ETH"]) == 10, "every hour is still recorded for market history"
