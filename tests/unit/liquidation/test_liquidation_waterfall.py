"""Liquidation: the issue's scenarios with exact numbers, the guard, the target and every refusal."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import BorrowLendSide, Command, Liquidate, UpdateSettings
from crossmargin.core.events import BorrowLendSource, LiquidationStepKind
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.liquidation import is_at_target
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import OrderFlags, SystemOrderType
from crossmargin.core.rejections import RejectReason

SECOND_MS = 1_000


def _borrowed_out(driver: Driver, bid: str = "56000") -> SubaccountId:
    """1 BTC collateral, the most USDC it can borrow and withdraw; a maker bids 1 BTC at `bid`."""
    driver.lender(USDC="1000000")
    maker = driver.account()
    driver.deposit(maker, "USDC", "10000000")
    driver.place(maker, "BTC_USDC", "buy", "1", bid)
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    most = driver.max_withdrawal(trader, "USDC", auto_borrow=True)
    assert driver.text("USDC", most) == "48851.384819"
    driver.accept(driver.withdraw(trader, "USDC", driver.text("USDC", most), auto_borrow=True))
    return trader


def _fall_until_liquidatable(driver: Driver, trader: SubaccountId) -> str:
    for price in range(60000, 40000, -100):
        driver.prices(BTC=str(price))
        if driver.margin(trader).is_liquidatable:
            return str(price)
        driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)
    raise AssertionError("never liquidatable")


def test_btc_falls_step_by_step_and_liquidation_sells_just_enough(driver: Driver) -> None:
    trader = _borrowed_out(driver)
    assert _fall_until_liquidatable(driver, trader) == "57200"
    before = driver.margin(trader)
    assert before.maintenance_wad >= before.net_equity_wad > 0
    driver.accept(Liquidate(trader))
    steps = driver.state.liquidation_steps
    assert [step.kind for step in steps] == [LiquidationStepKind.SELL_COLLATERAL] * 2
    assert [driver.text("BTC", step.quantity_atoms) for step in steps] == ["0.21352", "0.16183"]
    assert [driver.text("USDC", step.quote_atoms) for step in steps] == ["11957.12", "9062.48"]
    assert [driver.text("USDC", step.fee_atoms) for step in steps] == ["119.5712", "90.6248"]
    assert all(step.fee_atoms * 100 == step.quote_atoms for step in steps)
    assert steps[0].mmr_before_wad > steps[0].mmr_after_wad > steps[1].mmr_after_wad
    assert driver.usdc(INSURANCE_FUND_ID) == "210.196"
    after = driver.margin(trader)
    assert is_at_target(after)
    assert after.net_equity_wad >= 2 * after.maintenance_wad
    assert not driver.state.subaccounts[trader].liquidating
    assert after.maintenance_margin_ratio is not None
    assert str(after.maintenance_margin_ratio) == "0.353203335632474609"
    fills = [fill for fill in driver.state.fills if fill.taker_subaccount_id == trader]
    assert {fill.system_order_type for fill in fills} == {SystemOrderType.COLLATERAL_CONVERSION}
    repays = [move for move in driver.state.movements if move.subaccount_id == trader][1:]
    assert [move.source for move in repays] == [BorrowLendSource.LIQUIDATION] * 2
    driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)


def test_a_healthy_unknown_or_fund_subaccount_is_not_liquidated(driver: Driver) -> None:
    trader = _borrowed_out(driver)
    refusal = driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)
    assert "is not liquidatable" in refusal.message
    driver.refuse(Liquidate(SubaccountId(99)), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.deposit(INSURANCE_FUND_ID, "USDC", "1000")
    driver.refuse(Liquidate(INSURANCE_FUND_ID), RejectReason.NOT_LIQUIDATABLE)
    assert driver.usdc(INSURANCE_FUND_ID) == "1000"


def _mark_liquidating(driver: Driver, sub: SubaccountId) -> None:
    driver.state.subaccounts[sub] = replace(driver.state.subaccounts[sub], liquidating=True)


def test_while_liquidating_only_improving_actions_are_accepted(driver: Driver) -> None:
    driver.lender(USDC="100000", BTC="10")
    driver.maker("BTC_USDC_PERP", "60000", "5", "2")
    trader = driver.account()
    sibling = driver.subaccount(trader)
    driver.deposit(trader, "USDC", "10000")
    driver.deposit(sibling, "USDC", "100")
    driver.borrow(trader, "BTC", "0.01")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.01")
    _mark_liquidating(driver, trader)
    refused: list[Command] = [
        driver.withdraw(trader, "USDC", "1"),
        driver.transfer(trader, sibling, "USDC", "1"),
        driver.borrow_lend(trader, "USDC", BorrowLendSide.BORROW, "1"),
        UpdateSettings(trader, leverage_limit=Ratio.parse("20")),
        driver.order(trader, "BTC_USDC_PERP", "buy", "0.01"),
        driver.order(trader, "BTC_USDC", "buy", "0.01", "50000"),
    ]
    for command in refused:
        rejection = driver.refuse(command, RejectReason.ACCOUNT_LIQUIDATING)
        assert "being liquidated" in rejection.message
    driver.deposit(trader, "USDC", "1")
    driver.accept(driver.transfer(sibling, trader, "USDC", "1"))
    driver.lend(trader, "BTC", "0.001")
    driver.settings(trader, leverage_limit="5")
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "sell", "0.005", flags=OrderFlags(reduce_only=True)))
    assert driver.state.subaccounts[trader].liquidating
    events = driver.accept(Liquidate(trader))
    assert not driver.state.subaccounts[trader].liquidating
    assert not driver.state.liquidation_steps
    assert type(events[-1]).__name__ == "LiquidationFinished"
