"""Account-wide borrow and position limits: enforced on voluntary actions, set by the operator."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.app.codec import decode_command, decode_state, encode_command, encode_state
from crossmargin.core.account_limits import borrow_value_wad
from crossmargin.core.accounts import ACCOUNT_BORROW_LIMIT_DEFAULT_WAD, ACCOUNT_POSITION_LIMIT_DEFAULT_WAD
from crossmargin.core.collateral import value_up
from crossmargin.core.commands import BorrowLendSide, SetAccountLimits
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderFlags
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

PERP = "BTC_USDC_PERP"


def _limited(driver: Driver, *, borrow: int | None = None, position: int | None = None) -> SubaccountId:
    driver.lender(USDC="1000000", BTC="100")
    sub = driver.account()
    driver.deposit(sub, "BTC", "1")
    driver.deposit(sub, "USDC", "10000")
    driver.accept(SetAccountLimits(sub, borrow, position))
    return sub


def test_a_new_subaccount_has_backpacks_default_limits(driver: Driver) -> None:
    sub = driver.account()
    subaccount = driver.state.subaccounts[sub]
    assert (subaccount.borrow_limit_wad, subaccount.position_limit_wad) == (2_500_000 * WAD, 2_500_000 * WAD)


def test_a_borrow_above_the_account_borrow_limit_is_refused(driver: Driver) -> None:
    sub = _limited(driver, borrow=1_000 * WAD)
    assert driver.state.subaccounts[sub].position_limit_wad == ACCOUNT_POSITION_LIMIT_DEFAULT_WAD
    driver.borrow(sub, "USDC", "600")
    more = driver.borrow_lend(sub, "USDC", BorrowLendSide.BORROW, "500")
    rejection = driver.refuse(more, RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED)
    assert rejection.message.startswith("Your borrows would be worth 1100.")
    assert rejection.message.endswith(
        "USD, above your account's borrow limit of 1000 USD: reduce them first, or ask the operator for a higher limit"
    )
    driver.refuse(driver.withdraw(sub, "USDC", "11000", auto_borrow=True), RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED)
    order = driver.order(sub, "BTC_USDC", "buy", "0.2", "60000", flags=OrderFlags(auto_borrow=True))
    driver.refuse(order, RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED)


def test_a_subaccount_above_its_limit_may_still_reduce(driver: Driver) -> None:
    sub = _limited(driver)
    driver.borrow(sub, "USDC", "600")
    driver.accept(SetAccountLimits(sub, borrow_limit_wad=100 * WAD))
    driver.accept(driver.withdraw(sub, "BTC", "0.5"))  # borrows nothing: the figure does not rise
    one_more = driver.borrow_lend(sub, "USDC", BorrowLendSide.BORROW, "1")
    driver.refuse(one_more, RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED)


def test_a_perp_position_above_the_account_position_limit_is_refused(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    sub = _limited(driver, position=10_000 * WAD)
    driver.place(sub, PERP, "buy", "0.1")
    rejection = driver.refuse(driver.order(sub, PERP, "buy", "0.1"), RejectReason.ACCOUNT_POSITION_LIMIT_EXCEEDED)
    assert rejection.message.startswith("Your perp positions would be worth 12000")
    assert "above your account's position limit of 10000 USD" in rejection.message
    driver.accept(SetAccountLimits(sub, position_limit_wad=1_000 * WAD))
    driver.place(sub, PERP, "sell", "0.05")  # reduces: allowed above the limit


def test_the_operator_limit_is_bounded_and_names_a_real_subaccount(driver: Driver) -> None:
    sub = driver.account()
    driver.refuse(SetAccountLimits(SubaccountId(999), 1), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(SetAccountLimits(sub, 10**16 * WAD), RejectReason.QUANTITY_ABOVE_MAXIMUM)
    driver.refuse(SetAccountLimits(sub, None, -1), RejectReason.QUANTITY_ABOVE_MAXIMUM)
    driver.accept(SetAccountLimits(sub, None, 5 * WAD))
    subaccount = driver.state.subaccounts[sub]
    assert (subaccount.borrow_limit_wad, subaccount.position_limit_wad) == (ACCOUNT_BORROW_LIMIT_DEFAULT_WAD, 5 * WAD)


def test_limits_survive_the_journal_and_old_snapshots_read_the_defaults(driver: Driver) -> None:
    command = SetAccountLimits(SubaccountId(3), 7 * WAD, None)
    assert decode_command(encode_command(command)) == command
    sub = driver.account()
    driver.accept(SetAccountLimits(sub, 7 * WAD, 8 * WAD))
    assert decode_state(encode_state(driver.state)) == driver.state
    old = replace(driver.state, subaccounts={sub: replace(driver.state.subaccounts[sub])})
    text = encode_state(old).replace(f',"borrow_limit_wad":{7 * WAD},"position_limit_wad":{8 * WAD}', "")
    assert "borrow_limit_wad" not in text
    assert decode_state(text).subaccounts[sub].borrow_limit_wad == ACCOUNT_BORROW_LIMIT_DEFAULT_WAD


def test_the_borrow_value_is_each_holdings_debt_at_its_mark_rounded_up(driver: Driver) -> None:
    """The limit's figure reads only the debts; it must equal the value of every holding's debt, as a holding shows it."""
    driver.lender(USDC="1000000", BTC="100", ETH="1000")
    sub = driver.account()
    driver.deposit(sub, "BTC", "2")
    driver.deposit(sub, "SOL", "30")  # spot only: no position
    driver.borrow(sub, "USDC", "1234.567891")
    driver.borrow(sub, "ETH", "0.3333")
    driver.lend(sub, "BTC", "0.5")  # a position with a lend and no debt
    driver.tick(driver.state.now_ms + 3 * 3_600_000)  # three hours' interest: debts are no longer whole amounts
    tx = Transaction(driver.state, driver.state.now_ms)
    expected = 0
    for symbol, holding in tx.holdings(sub).items():
        spec = tx.spec(symbol)
        assert spec is not None
        expected += value_up(holding.debt_atoms, tx.mark_price(symbol), spec.unit_atoms)
    assert expected > 1_200 * WAD
    assert borrow_value_wad(tx, sub) == expected
