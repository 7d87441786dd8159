"""Repay all and redeem all: `ExecuteBorrowLend(whole_position=True)` moves the whole opposite position.

The position is taken as it stands when the command runs, after the interest that fell due before
it in the same command, so the debt or the lend ends at zero to the atom; `quantity_atoms` is the
most the caller allows, and the command never opens a position.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import HOUR_MS, Driver

from crossmargin.app.codec import decode_command, encode_command
from crossmargin.core.commands import BorrowLendSide, ConfigureAssets, ExecuteBorrowLend, Tick
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import BORROWERS, LENDERS
from crossmargin.core.margin import Holding
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

ALL = AMOUNT_ATOMS_MAX


def whole(sub: SubaccountId, symbol: str, side: BorrowLendSide, most: int = ALL) -> ExecuteBorrowLend:
    return ExecuteBorrowLend(sub, symbol, side, most, whole_position=True)


def holding_after_due_work(driver: Driver, sub: SubaccountId, symbol: str) -> Holding:
    """Return the holding as a command at the driver's time sees it: after what falls due then."""
    state = copy.deepcopy(driver.state)
    assert isinstance(execute(state, Tick(), driver.now_ms), Accepted)
    return Transaction(state, driver.now_ms).holding(sub, symbol)


def borrower_with_debt(driver: Driver) -> SubaccountId:
    driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.deposit(borrower, "USDC", "50")
    driver.at(HOUR_MS // 7).borrow(borrower, "USDC", "3333.333333")
    return borrower


def test_repay_all_clears_the_debt_with_the_interest_due_in_the_same_command(driver: Driver) -> None:
    borrower = borrower_with_debt(driver)
    driver.at(49 * HOUR_MS + 17)
    due = holding_after_due_work(driver, borrower, "USDC")
    assert driver.holding(borrower, "USDC").debt_atoms < due.debt_atoms, "hours of interest fall due"
    (event,) = [
        event
        for event in driver.accept(whole(borrower, "USDC", BorrowLendSide.LEND))
        if isinstance(event, BorrowLendMoved)
    ]
    assert event.event_type is BorrowLendEventType.BORROW_REPAY
    assert event.quantity_atoms == due.debt_atoms
    assert driver.holding(borrower, "USDC") == Holding(spot_atoms=due.spot_atoms - due.debt_atoms)
    assert driver.state.positions.get((borrower, "USDC")) is None
    assert driver.state.ledger[(BORROWERS, "USDC")] == 0, "no debt dust left in the pool"


def test_redeem_all_takes_the_whole_lend_with_its_interest(driver: Driver) -> None:
    lender = driver.lender(SOL="12.34567891")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "5000")
    driver.at(HOUR_MS // 2).borrow(borrower, "SOL", "3.3")
    driver.deposit(borrower, "SOL", "1")
    driver.at(5 * HOUR_MS)
    debt = holding_after_due_work(driver, borrower, "SOL").debt_atoms
    driver.accept(whole(borrower, "SOL", BorrowLendSide.LEND, debt))
    claim = driver.holding(lender, "SOL").lend_atoms
    assert claim > 1_234_567_891, "the lender earned interest"
    driver.accept(whole(lender, "SOL", BorrowLendSide.BORROW))
    assert driver.holding(lender, "SOL") == Holding(spot_atoms=claim)
    assert driver.state.pools["SOL"].lend_scaled_total == 0
    assert driver.state.ledger[(LENDERS, "SOL")] == 0


def test_the_quantity_bounds_the_whole_position_and_need_not_be_on_the_step(driver: Driver) -> None:
    borrower = borrower_with_debt(driver)
    spec = driver.state.specs["USDC"]
    driver.accept(ConfigureAssets((replace(spec, step_atoms=1000),)))
    driver.at(3 * HOUR_MS)
    debt = holding_after_due_work(driver, borrower, "USDC").debt_atoms
    assert debt % 1000, "the debt is off the step grid"
    rejection = driver.refuse(
        whole(borrower, "USDC", BorrowLendSide.LEND, debt - 1), RejectReason.WHOLE_POSITION_ABOVE_QUANTITY
    )
    assert rejection.message == (
        f"Your debt of {driver.text('USDC', debt)} USDC is more than the most you allowed to move, "
        f"{driver.text('USDC', debt - 1)} USDC"
    )
    driver.accept(whole(borrower, "USDC", BorrowLendSide.LEND, debt))
    assert driver.holding(borrower, "USDC").debt_atoms == 0


def test_without_an_opposite_position_nothing_is_opened(driver: Driver) -> None:
    lender = driver.lender(USDC="100")
    rejection = driver.refuse(whole(lender, "USDC", BorrowLendSide.LEND), RejectReason.POSITION_NOT_FOUND)
    assert rejection.message == "You have no USDC debt to repay whole"
    empty = driver.account()
    driver.deposit(empty, "USDC", "10")
    rejection = driver.refuse(whole(empty, "USDC", BorrowLendSide.BORROW), RejectReason.POSITION_NOT_FOUND)
    assert rejection.message == "You have no USDC lend to redeem whole"


def test_the_rules_of_a_partial_repay_and_redeem_still_apply(driver: Driver) -> None:
    borrower = borrower_with_debt(driver)
    driver.settings(borrower, auto_repay_borrows=False)
    driver.accept(driver.withdraw(borrower, "USDC", "3383.333333"))
    driver.refuse(whole(borrower, "USDC", BorrowLendSide.LEND), RejectReason.BALANCE_INSUFFICIENT)
    lender = driver.lender(ETH="1")
    driver.settings(lender, auto_lend=True)
    driver.refuse(whole(lender, "ETH", BorrowLendSide.BORROW), RejectReason.AUTO_LEND_MUST_BE_OFF)


def test_whole_position_survives_the_journal_and_old_records_read_it_as_false() -> None:
    command = whole(SubaccountId(3), "USDC", BorrowLendSide.LEND, 12)
    assert decode_command(encode_command(command)) == command
    old = '{"type":"ExecuteBorrowLend","subaccount_id":3,"symbol":"USDC","side":"Lend","quantity_atoms":12}'
    assert decode_command(old) == replace(command, whole_position=False)
