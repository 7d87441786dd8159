"""While a subaccount is being liquidated, every command is either health-improving or refused.

Found on main: `Lend` and turning auto-lend on were accepted on a liquidating subaccount, taking
balances the liquidation needed. Each command a user can send is tried here in that state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from engine_driver import Driver

from crossmargin.core.commands import (
    AddApiKey,
    BorrowLendSide,
    CancelAllOrders,
    Command,
    Deposit,
    UpdateSettings,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import OrderFlags
from crossmargin.core.rejections import RejectReason

Scenario = Callable[[Driver, SubaccountId, SubaccountId], Command]


def _liquidating_trader(driver: Driver) -> tuple[SubaccountId, SubaccountId]:
    """A trader with a USDC balance, a BTC borrow, a perp long and a resting order, marked liquidating."""
    driver.lender(USDC="100000", BTC="10", ETH="100")
    driver.maker("BTC_USDC_PERP", "60000", "5", "2")
    trader = driver.account()
    sibling = driver.subaccount(trader)
    driver.deposit(trader, "USDC", "10000")
    driver.deposit(trader, "ETH", "1")
    driver.deposit(sibling, "USDC", "100")
    driver.borrow(trader, "BTC", "0.01")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.01")
    driver.place(trader, "BTC_USDC", "buy", "0.01", "50000")
    driver.settings(trader, auto_borrow_settlements=False)
    driver.state.subaccounts[trader] = replace(driver.state.subaccounts[trader], liquidating=True)
    return trader, sibling


REFUSED: dict[str, Scenario] = {
    "withdraw": lambda d, t, _: d.withdraw(t, "USDC", "1"),
    "transfer out": lambda d, t, s: d.transfer(t, s, "USDC", "1"),
    "borrow": lambda d, t, _: d.borrow_lend(t, "USDC", BorrowLendSide.BORROW, "1"),
    "lend": lambda d, t, _: d.borrow_lend(t, "USDC", BorrowLendSide.LEND, "1"),
    "raise leverage": lambda _, t, __: UpdateSettings(t, leverage_limit=Ratio.parse("20")),
    "auto-lend on": lambda _, t, __: UpdateSettings(t, auto_lend=True),
    "auto-borrow settlements on": lambda d, t, _: UpdateSettings(t, auto_borrow_settlements=True),
    "perp order adding exposure": lambda d, t, _: d.order(t, "BTC_USDC_PERP", "buy", "0.01"),
    "spot order": lambda d, t, _: d.order(t, "BTC_USDC", "buy", "0.01", "50000"),
}

ACCEPTED: dict[str, Scenario] = {
    "deposit": lambda d, t, _: Deposit(t, "USDC", d.atoms("USDC", "1")),
    "transfer in": lambda d, t, s: d.transfer(s, t, "USDC", "1"),
    "repay": lambda d, t, _: d.borrow_lend(t, "BTC", BorrowLendSide.LEND, "0.001"),
    "lower leverage": lambda _, t, __: UpdateSettings(t, leverage_limit=Ratio.parse("5")),
    "auto-lend off": lambda _, t, __: UpdateSettings(t, auto_lend=False),
    "auto-repay on": lambda _, t, __: UpdateSettings(t, auto_repay_borrows=True),
    "auto-borrow settlements off": lambda _, t, __: UpdateSettings(t, auto_borrow_settlements=False),
    "reduce-only order": lambda d, t, _: d.order(
        t, "BTC_USDC_PERP", "sell", "0.005", flags=OrderFlags(reduce_only=True)
    ),
    "cancel orders": lambda _, t, __: CancelAllOrders(t, "BTC_USDC"),
    "add an API key": lambda _, t, __: AddApiKey(t, "another-key"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_command_adding_risk_is_refused_while_liquidating(driver: Driver, name: str) -> None:
    trader, sibling = _liquidating_trader(driver)
    rejection = driver.refuse(REFUSED[name](driver, trader, sibling), RejectReason.ACCOUNT_LIQUIDATING)
    assert "being liquidated" in rejection.message


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_a_health_improving_command_is_accepted_while_liquidating(driver: Driver, name: str) -> None:
    trader, sibling = _liquidating_trader(driver)
    driver.accept(ACCEPTED[name](driver, trader, sibling))
    assert driver.state.subaccounts[trader].liquidating
