"""Borrow, repay, lend and redeem through `execute`: netting, exclusivity, limits and margin."""

from __future__ import annotations

from fractions import Fraction

from engine_driver import HOUR_MS, Driver

from crossmargin.core.commands import BorrowLendSide
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource
from crossmargin.core.ledger import BORROWERS, ROUNDING
from crossmargin.core.rejections import RejectReason


def moved(events: tuple[object, ...]) -> list[BorrowLendMoved]:
    return [event for event in events if isinstance(event, BorrowLendMoved)]


def test_borrow_without_collateral_is_refused_with_max_borrowable_zero(driver: Driver) -> None:
    driver.lender(USDC="1000")
    borrower = driver.account()
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.MARGIN_INSUFFICIENT
    )
    assert rejection.message == "Borrow would exceed your available margin: max borrowable is 0 USDC"


def test_usdc_is_borrowable_at_about_ten_times_available_equity(driver: Driver) -> None:
    driver.lender(USDC="2000000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    available = Fraction(driver.margin(borrower).available_wad, 10**18)
    most = Fraction(driver.max_borrowable(borrower, "USDC"), 10**6)
    assert Fraction(99, 10) < most / available <= 10


def test_btc_is_borrowable_at_about_five_times_available_equity(driver: Driver) -> None:
    driver.lender(BTC="10")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "10000")
    most_value = Fraction(driver.max_borrowable(borrower, "BTC"), 10**8) * 60000
    assert Fraction(49, 10) < most_value / 10000 <= 5


def test_max_borrowable_is_exact_one_step_more_is_refused(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    borrower = driver.account()
    driver.deposit(borrower, "ETH", "2")
    driver.at(HOUR_MS // 3)
    most = driver.max_borrowable(borrower, "USDC")
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, driver.text("USDC", most + 1)),
        RejectReason.MARGIN_INSUFFICIENT,
    )
    assert rejection.message.endswith(f"max borrowable is {driver.text('USDC', most)} USDC")
    driver.borrow(borrower, "USDC", driver.text("USDC", most))
    margin = driver.margin(borrower)
    assert 0 <= margin.available_wad < 10**18 // 10**6 * 2, "the whole available margin is used, to the atom"


def test_lend_on_a_borrowed_asset_repays_and_more_is_refused(driver: Driver) -> None:
    driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "1000")
    debt = driver.holding(borrower, "USDC").debt_atoms
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.LEND, driver.text("USDC", debt + 1)),
        RejectReason.LEND_REQUIRES_BORROW_REPAY,
    )
    assert driver.text("USDC", debt) in rejection.message
    (event,) = moved(driver.lend(borrower, "USDC", "400"))
    assert event.event_type is BorrowLendEventType.BORROW_REPAY
    assert event.source is BorrowLendSource.MANUAL
    assert driver.holding(borrower, "USDC").debt_atoms == debt - 400_000_000


def test_borrow_on_a_lent_asset_redeems_and_more_is_refused(driver: Driver) -> None:
    lender = driver.lender(USDC="1000")
    driver.refuse(
        driver.borrow_lend(lender, "USDC", BorrowLendSide.BORROW, "1000.000001"),
        RejectReason.BORROW_REQUIRES_LEND_REDEEM,
    )
    (event,) = moved(driver.borrow(lender, "USDC", "250"))
    assert event.event_type is BorrowLendEventType.LEND_REDEEM
    assert driver.holding(lender, "USDC").lend_atoms == 750_000_000
    assert driver.holding(lender, "USDC").spot_atoms == 250_000_000


def test_repay_all_after_interest_clears_the_debt_to_the_last_atom(driver: Driver) -> None:
    driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.deposit(borrower, "USDC", "50")
    driver.at(HOUR_MS // 7).borrow(borrower, "USDC", "3333.333333")
    driver.tick(49 * HOUR_MS + 17)
    debt = driver.holding(borrower, "USDC").debt_atoms
    assert debt > 3_333_333_333
    driver.lend(borrower, "USDC", driver.text("USDC", debt))
    assert driver.state.positions.get((borrower, "USDC")) is None
    assert driver.holding(borrower, "USDC").debt_atoms == 0
    assert driver.state.ledger[(BORROWERS, "USDC")] == 0, "no debt dust left in the pool"
    assert driver.state.ledger.get((ROUNDING, "USDC"), 0) >= 0


def test_repay_needs_the_balance(driver: Driver) -> None:
    driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "100")
    driver.accept(driver.withdraw(borrower, "USDC", "100"))
    rejection = driver.refuse(
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.LEND, "50"), RejectReason.BALANCE_INSUFFICIENT
    )
    assert "available balance of 0 USDC" in rejection.message


def test_borrow_limit_per_subaccount_is_enforced(driver: Driver) -> None:
    driver.lender(BTC="100")
    whale = driver.account()
    driver.deposit(whale, "USDC", "50000000")
    rejection = driver.refuse(
        driver.borrow_lend(whale, "BTC", BorrowLendSide.BORROW, "50.00000001"), RejectReason.BORROW_LIMIT_EXCEEDED
    )
    assert "limit of 50 BTC per subaccount" in rejection.message


def test_the_last_lender_redeeming_everything_leaves_no_dust(driver: Driver) -> None:
    lender = driver.lender(SOL="12.34567891")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "5000")
    driver.at(HOUR_MS // 2).borrow(borrower, "SOL", "3.3")
    driver.tick(5 * HOUR_MS)
    debt = driver.holding(borrower, "SOL").debt_atoms
    driver.deposit(borrower, "SOL", "1")
    driver.lend(borrower, "SOL", driver.text("SOL", debt))
    claim = driver.holding(lender, "SOL").lend_atoms
    driver.borrow(lender, "SOL", driver.text("SOL", claim))
    assert driver.state.pools["SOL"].lend_scaled_total == 0
    assert driver.state.pools["SOL"].debt_scaled_total == 0
    assert claim > 1_234_567_891, "the lender earned interest"
