"""Perp liquidation: reduce on the book in quarter steps, fee capped to half of each step's gain."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.commands import Liquidate
from crossmargin.core.events import LiquidationStepKind
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.ledger import PERP_CLEARING
from crossmargin.core.liquidation import is_at_target
from crossmargin.core.orders import SystemOrderType
from crossmargin.core.rejections import RejectReason


def long_btc_perp(driver: Driver, collateral: str = "6100") -> SubaccountId:
    """A trader buys 1 BTC perp at 60000 with `collateral` USDC."""
    driver.lender(USDC="1000000")
    seller = driver.account()
    driver.deposit(seller, "USDC", "100000")
    driver.place(seller, "BTC_USDC_PERP", "sell", "1", "60000")
    trader = driver.account()
    driver.deposit(trader, "USDC", collateral)
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    return trader


def test_a_falling_long_is_reduced_in_steps_until_its_target(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.prices(BTC="54300")
    driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)
    driver.prices(BTC="54250")
    bidder = driver.account()
    driver.deposit(bidder, "USDC", "1000000")
    driver.place(bidder, "BTC_USDC_PERP", "buy", "1", "54240")
    clearing_before = driver.state.ledger.get((PERP_CLEARING, "USDC"), 0)
    driver.accept(Liquidate(trader))
    steps = driver.state.liquidation_steps
    assert {step.kind for step in steps} == {LiquidationStepKind.REDUCE_POSITION}
    assert len(steps) == 7
    assert driver.text("BTC", steps[0].quantity_atoms) == "0.25"
    assert driver.text("USDC", steps[0].quote_atoms) == "13560"
    # The full 1% (135.6) would undo the step's gain: the fee is the most that keeps half of it.
    assert 0 < steps[0].fee_atoms < steps[0].quote_atoms // 100
    assert all(step.mmr_after_wad < step.mmr_before_wad for step in steps)
    fees = sum(step.fee_atoms for step in steps)
    assert driver.holding(INSURANCE_FUND_ID, "USDC").spot_atoms == fees
    assert driver.state.ledger[(PERP_CLEARING, "USDC")] == clearing_before - fees
    fills = [fill for fill in driver.state.fills if fill.taker_subaccount_id == trader]
    assert fills[-1].system_order_type is SystemOrderType.LIQUIDATE_POSITION_ON_BOOK
    assert is_at_target(driver.margin(trader))
    assert not driver.state.subaccounts[trader].liquidating
    position = driver.perp(trader, "BTC_USDC_PERP")
    assert position is not None
    assert position.quantity_atoms == driver.base_atoms("BTC_USDC_PERP", "1") - sum(s.quantity_atoms for s in steps)
    driver.tick(20_000)
    assert driver.margin(trader).net_equity_wad > 0
