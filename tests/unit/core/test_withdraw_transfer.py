"""Withdrawals and internal transfers: margin-checked, with auto-redeem and auto-borrow options."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource, Withdrew
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import RejectReason


def test_withdrawal_that_would_break_margin_names_the_max_withdrawal(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    sub = driver.account()
    driver.deposit(sub, "BTC", "1")
    driver.borrow(sub, "USDC", "20000")
    driver.accept(driver.withdraw(sub, "USDC", "20000"))
    most = driver.max_withdrawal(sub, "BTC")
    rejection = driver.refuse(
        driver.withdraw(sub, "BTC", driver.text("BTC", most + 1)), RejectReason.MARGIN_INSUFFICIENT
    )
    assert rejection.message.endswith(f"max withdrawal is {driver.text('BTC', most)} BTC")
    driver.accept(driver.withdraw(sub, "BTC", driver.text("BTC", most)))
    assert driver.margin(sub).available_wad >= 0


def test_withdrawal_beyond_balance_needs_auto_lend_redeem(driver: Driver) -> None:
    sub = driver.lender(ETH="2")
    driver.deposit(sub, "ETH", "1")
    rejection = driver.refuse(driver.withdraw(sub, "ETH", "2"), RejectReason.BALANCE_INSUFFICIENT)
    assert "allow autoLendRedeem" in rejection.message
    events = driver.accept(driver.withdraw(sub, "ETH", "2", auto_lend_redeem=True))
    (redeemed,) = [event for event in events if isinstance(event, BorrowLendMoved)]
    assert (redeemed.event_type, redeemed.source, redeemed.quantity_atoms) == (
        BorrowLendEventType.LEND_REDEEM,
        BorrowLendSource.WITHDRAWAL,
        100_000_000,
    )
    assert any(isinstance(event, Withdrew) for event in events)


def test_withdrawal_with_auto_borrow_borrows_the_shortfall(driver: Driver) -> None:
    driver.lender(USDC="100000")
    sub = driver.account()
    driver.deposit(sub, "BTC", "1")
    driver.deposit(sub, "USDC", "100")
    events = driver.accept(driver.withdraw(sub, "USDC", "1000", auto_borrow=True))
    (borrowed,) = [event for event in events if isinstance(event, BorrowLendMoved)]
    assert (borrowed.event_type, borrowed.source, borrowed.quantity_atoms) == (
        BorrowLendEventType.BORROW,
        BorrowLendSource.WITHDRAWAL,
        900_000_000,
    )
    assert driver.holding(sub, "USDC").spot_atoms == 0
    assert driver.max_withdrawal(sub, "USDC", auto_borrow=True) > 0


def test_transfer_moves_funds_within_an_account_and_is_margin_checked(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    main = driver.account()
    second = driver.subaccount(main)
    driver.deposit(main, "BTC", "1")
    driver.borrow(main, "USDC", "20000")
    driver.refuse(driver.transfer(main, second, "BTC", "1"), RejectReason.MARGIN_INSUFFICIENT)
    driver.refuse(driver.transfer(main, second, "USDC", "40000"), RejectReason.BALANCE_INSUFFICIENT)
    driver.accept(driver.transfer(main, second, "USDC", "20000"))
    assert driver.holding(second, "USDC").spot_atoms == 20_000_000_000
    assert driver.margin(main).available_wad >= 0


def test_transfer_between_accounts_or_to_self_is_refused(driver: Driver) -> None:
    first = driver.account()
    other = driver.account()
    driver.deposit(first, "USDC", "10")
    driver.refuse(driver.transfer(first, other, "USDC", "1"), RejectReason.TRANSFER_BETWEEN_ACCOUNTS)
    driver.refuse(driver.transfer(first, first, "USDC", "1"), RejectReason.TRANSFER_TO_SELF)


def test_transfer_into_an_auto_lend_subaccount_is_lent(driver: Driver) -> None:
    main = driver.account()
    saver = driver.subaccount(main)
    driver.settings(saver, auto_lend=True)
    driver.deposit(main, "SOL", "10")
    driver.accept(driver.transfer(main, saver, "SOL", "4"))
    assert driver.holding(saver, "SOL").lend_atoms == 400_000_000


def test_withdrawal_from_an_unknown_subaccount_is_refused(driver: Driver) -> None:
    rejection = driver.refuse(driver.withdraw(SubaccountId(999), "USDC", "1"), RejectReason.SUBACCOUNT_NOT_FOUND)
    assert "999" in rejection.message
