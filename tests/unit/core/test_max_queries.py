"""Every max query is what `execute` accepts: the max is accepted, one step (or atom) more is refused.

The max searches probe with `engine.preview` of the very command a user would send (a `Borrow`
of N, a `Withdraw` of N with its options), so these hold by construction; the tests pin them on
seeded random states, after clock jumps with interest due, with each withdrawal option, and for a
lender, whose `Borrow` command redeems the lend rather than borrowing.
"""

from __future__ import annotations

import copy
import random

import pytest
from engine_driver import HOUR_MS, Driver

from crossmargin.core.commands import BorrowLendSide, Command, ExecuteBorrowLend, Withdraw
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, execute, preview
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

COLLATERAL = {"BTC": ("0.01", "0.5"), "ETH": ("0.1", "5"), "SOL": ("1", "50"), "USDC": ("10", "20000")}


def accepted(driver: Driver, command: Command) -> bool:
    """Whether `execute` accepts the command now, on a copy of the state (the driver's state stays as it is)."""
    return isinstance(execute(copy.deepcopy(driver.state), command, driver.now_ms), Accepted)


def borrow(sub: SubaccountId, symbol: str, atoms: int) -> ExecuteBorrowLend:
    return ExecuteBorrowLend(sub, symbol, BorrowLendSide.BORROW, atoms)


def random_borrower(driver: Driver, rng: random.Random) -> SubaccountId:
    """Open a subaccount with one to three random collaterals and a random borrow already taken."""
    sub = driver.account()
    for symbol in rng.sample(sorted(COLLATERAL), rng.randint(1, 3)):
        low, high = (driver.atoms(symbol, text) for text in COLLATERAL[symbol])
        driver.deposit(sub, symbol, driver.text(symbol, rng.randint(low, high)))
    symbol = rng.choice(["USDC", "BTC", "ETH"])
    step = driver.state.specs[symbol].step_atoms
    most = driver.max_borrowable(sub, symbol)
    if most >= step:
        driver.borrow(sub, symbol, driver.text(symbol, step * rng.randint(1, most // step)))
    return sub


def assert_borrow_max_is_exact(driver: Driver, sub: SubaccountId, symbol: str) -> int:
    most = driver.max_borrowable(sub, symbol)
    step = driver.state.specs[symbol].step_atoms
    assert most % step == 0
    if most:
        assert accepted(driver, borrow(sub, symbol, most)), "the max borrowable is accepted"
    assert not accepted(driver, borrow(sub, symbol, most + step)), "one step more is refused"
    return most


def assert_withdrawal_max_is_exact(driver: Driver, sub: SubaccountId, symbol: str, **options: bool) -> int:
    most = driver.max_withdrawal(sub, symbol, **options)
    borrow_too, redeem_too = options.get("auto_borrow", False), options.get("auto_lend_redeem", False)

    def withdraw(atoms: int) -> Withdraw:
        return Withdraw(sub, symbol, atoms, auto_borrow=borrow_too, auto_lend_redeem=redeem_too)

    if most:
        assert accepted(driver, withdraw(most)), "the max withdrawal is accepted"
    assert not accepted(driver, withdraw(most + 1)), "one atom more is refused"
    return most


@pytest.mark.parametrize("seed", range(6))
def test_max_queries_are_accepted_and_one_more_is_refused_on_random_states(driver: Driver, seed: int) -> None:
    rng = random.Random(seed)
    driver.lender(USDC="2000000", BTC="20", ETH="300")
    lender = driver.account()
    driver.deposit(lender, "USDC", "5000")
    driver.lend(lender, "USDC", "3000")
    borrowers = [random_borrower(driver, rng) for _ in range(3)]
    # Let interest fall due without any command running: the max queries must count it.
    driver.at(rng.randint(1, 30) * HOUR_MS + rng.randint(0, HOUR_MS - 1))
    for sub in borrowers:
        for symbol in ("USDC", "BTC", "ETH"):
            assert_borrow_max_is_exact(driver, sub, symbol)
            for auto_borrow in (False, True):
                for auto_lend_redeem in (False, True):
                    options = {"auto_borrow": auto_borrow, "auto_lend_redeem": auto_lend_redeem}
                    assert_withdrawal_max_is_exact(driver, sub, symbol, **options)
    for auto_lend_redeem in (False, True):
        most = assert_withdrawal_max_is_exact(driver, lender, "USDC", auto_lend_redeem=auto_lend_redeem)
        holding = driver.holding(lender, "USDC")
        assert (most > holding.spot_atoms) is auto_lend_redeem, "only auto-lend-redeem withdraws the lend"


def test_max_borrowable_after_a_clock_jump_counts_the_interest_due(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    borrower = driver.account()
    driver.deposit(borrower, "ETH", "2")
    driver.borrow(borrower, "USDC", driver.text("USDC", driver.max_borrowable(borrower, "USDC")))
    driver.at(48 * HOUR_MS)
    # The state has not run the 48 hours of interest yet; the query runs them as `execute` would.
    stale_view = Transaction(driver.state, driver.now_ms)
    assert (
        stale_view.holding(borrower, "USDC").debt_atoms
        < preview(driver.state, borrow(borrower, "USDC", 1), driver.now_ms).before.holding(borrower, "USDC").debt_atoms
    )
    most = assert_borrow_max_is_exact(driver, borrower, "USDC")
    assert most == 0, "the interest that fell due used the margin the max borrow left"
    withdrawn = assert_withdrawal_max_is_exact(driver, borrower, "ETH")
    assert withdrawn == 0


def test_a_refused_borrow_names_the_same_max_as_the_query(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "0.3")
    driver.at(5 * HOUR_MS + 7)
    most = compute_max_borrowable(Transaction(driver.state, driver.now_ms), borrower, "USDC")
    outcome = preview(driver.state, borrow(borrower, "USDC", most + 10**6), driver.now_ms)
    assert outcome.rejection is not None
    assert outcome.rejection.message.endswith(f"max borrowable is {driver.text('USDC', most)} USDC")
    probe = preview(driver.state, borrow(borrower, "USDC", most + 10**6), driver.now_ms, max_figure=False)
    assert probe.rejection is not None
    assert probe.rejection.message == "Borrow would exceed your available margin", "a probe skips the max figure"


def test_a_lender_has_no_max_borrowable_because_borrow_redeems_the_lend(driver: Driver) -> None:
    """A `Borrow` command from a lender redeems the lend (netting, as on Backpack): it never opens a borrow.

    So the max borrowable of a lender is 0, though a `Borrow` of up to the lend is accepted, as a
    redeem, and one step beyond the lend is refused until the lend is redeemed.
    """
    driver.lender(USDC="100000")
    lender = driver.account()
    driver.deposit(lender, "BTC", "1")
    driver.deposit(lender, "USDC", "500")
    driver.lend(lender, "USDC", "500")
    assert driver.max_borrowable(lender, "USDC") == 0
    lent = driver.holding(lender, "USDC").lend_atoms
    step = driver.state.specs["USDC"].step_atoms
    result = execute(copy.deepcopy(driver.state), borrow(lender, "USDC", lent), driver.now_ms)
    assert isinstance(result, Accepted)
    kinds = {event.event_type for event in result.events if isinstance(event, BorrowLendMoved)}
    assert kinds == {BorrowLendEventType.LEND_REDEEM}
    driver.refuse(borrow(lender, "USDC", lent + step), RejectReason.BORROW_REQUIRES_LEND_REDEEM)
    driver.settings(lender, auto_lend=True)
    assert driver.max_borrowable(lender, "USDC") == 0, "with auto-lend on a manual borrow is refused"


def test_a_withdrawal_refused_for_margin_names_the_max_with_its_options(driver: Driver) -> None:
    driver.lender(USDC="1000000", BTC="10")
    sub = driver.account()
    driver.deposit(sub, "ETH", "3")
    driver.deposit(sub, "BTC", "0.1")
    driver.lend(sub, "BTC", "0.05")
    options = {"auto_borrow": True, "auto_lend_redeem": True}
    most = assert_withdrawal_max_is_exact(driver, sub, "BTC", **options)
    assert most > driver.holding(sub, "BTC").spot_atoms + driver.holding(sub, "BTC").lend_atoms, "it borrows too"
    beyond = Withdraw(sub, "BTC", most + 1, auto_borrow=True, auto_lend_redeem=True)
    result = execute(copy.deepcopy(driver.state), beyond, driver.now_ms)
    assert isinstance(result, Rejected)
    assert result.rejection.reason is RejectReason.MARGIN_INSUFFICIENT
    assert result.rejection.message == (
        f"Withdrawal would leave your available margin below zero: max withdrawal is {driver.text('BTC', most)} BTC"
    )
