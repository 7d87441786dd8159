"""Borrow lines: repay from spot, redeem lends, buy the borrowed asset, sell other collateral first."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import ConfigureAssets, Liquidate
from crossmargin.core.events import BorrowLendSource, LiquidationStepKind
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.liquidation import _guarded_step, is_at_target
from crossmargin.core.liquidation_steps import exposure_lines
from crossmargin.core.transaction import Transaction


def _asks(driver: Driver, market: str, price: str, size: str) -> None:
    maker = driver.account()
    for symbol in ("BTC", "ETH", "USDC"):
        driver.deposit(maker, symbol, "100000" if symbol == "USDC" else "100")
    driver.place(maker, market, "sell", size, price)


def test_a_borrow_held_as_spot_is_repaid_from_it(driver: Driver) -> None:
    driver.lender(BTC="10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.borrow(trader, "BTC", "0.08")
    driver.prices(BTC="90000")
    driver.accept(Liquidate(trader))
    (step,) = driver.state.liquidation_steps
    assert step.kind is LiquidationStepKind.REPAY
    assert step.fee_atoms == 0
    assert driver.text("BTC", step.quantity_atoms) == "0.08"
    assert driver.holding(trader, "BTC").debt_atoms > 0  # the entry fee is still owed
    assert is_at_target(driver.margin(trader))


def test_a_lend_is_redeemed_and_the_borrowed_asset_bought_back(driver: Driver) -> None:
    driver.lender(BTC="10", USDC="100000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "4500")
    driver.lend(trader, "USDC", "4500")
    driver.accept(driver.withdraw(trader, "BTC", "0.06", auto_borrow=True))
    driver.prices(BTC="73000")
    _asks(driver, "BTC_USDC", "73500", "1")
    assert driver.margin(trader).is_liquidatable
    driver.accept(Liquidate(trader))
    redeemed = [
        m for m in driver.state.movements if m.subaccount_id == trader and m.source is BorrowLendSource.LIQUIDATION
    ]
    assert redeemed[0].event_type == "LendRedeem"
    kinds = [step.kind for step in driver.state.liquidation_steps]
    assert kinds[0] is LiquidationStepKind.BUY_BORROWED
    step = driver.state.liquidation_steps[0]
    assert step.fee_symbol == "BTC"
    assert step.fee_atoms == -(-step.quantity_atoms // 100)
    assert driver.holding(INSURANCE_FUND_ID, "BTC").spot_atoms == sum(
        s.fee_atoms for s in driver.state.liquidation_steps
    )
    assert is_at_target(driver.margin(trader))


def test_other_collateral_is_sold_for_usdc_before_buying(driver: Driver) -> None:
    driver.lender(BTC="10", USDC="100000")
    trader = driver.account()
    driver.deposit(trader, "ETH", "1")
    driver.deposit(trader, "SOL", "0.001")  # dust below the SOL_USDC step: never sold
    driver.deposit(trader, "USDC", "0.5")  # less than one BTC step costs: nothing to buy with yet
    driver.accept(driver.withdraw(trader, "BTC", "0.035", auto_borrow=True))
    driver.prices(BTC="75000")
    assert driver.margin(trader).is_liquidatable
    _asks(driver, "BTC_USDC", "75500", "1")
    bidder = driver.account()
    driver.deposit(bidder, "USDC", "100000")
    driver.place(bidder, "ETH_USDC", "buy", "10", "2990")
    driver.accept(Liquidate(trader))
    kinds = [step.kind for step in driver.state.liquidation_steps]
    assert kinds[:2] == [LiquidationStepKind.SELL_COLLATERAL, LiquidationStepKind.BUY_BORROWED]
    assert is_at_target(driver.margin(trader))


def test_no_ask_within_the_band_hands_the_account_to_the_fund(driver: Driver) -> None:
    driver.lender(BTC="10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "4500")
    driver.accept(driver.withdraw(trader, "BTC", "0.06", auto_borrow=True))
    driver.prices(BTC="73000")
    _asks(driver, "BTC_USDC", "80000", "1")  # beyond mark x 1.05
    driver.accept(Liquidate(trader))
    assert not driver.state.liquidation_steps
    (taken,) = driver.state.backstops
    assert taken.net_equity_wad > 0
    assert driver.holding(INSURANCE_FUND_ID, "USDC").spot_atoms == driver.atoms("USDC", "4500")


def test_an_asset_without_a_usdc_book_cannot_be_bought_back(driver: Driver) -> None:
    sol = driver.state.specs["SOL"]
    driver.accept(ConfigureAssets((replace(sol, symbol="DOGE"),)))
    driver.prices(DOGE="1")
    driver.lender(DOGE="100000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.accept(driver.withdraw(trader, "DOGE", "800", auto_borrow=True))
    driver.prices(DOGE="1.2")
    driver.accept(Liquidate(trader))
    assert not driver.state.liquidation_steps
    assert [row.symbol for row in driver.state.backstops[0].holdings] == ["DOGE", "USDC"]


def test_a_step_that_would_raise_the_mmr_is_not_taken_and_leaves_nothing_behind(driver: Driver) -> None:
    # Measured against a margin with no maintenance at all, any step raises the MMR: the guard refuses
    # both kinds of step (a repay from spot, and an order) before anything is written.
    driver.lender(BTC="10", USDC="100000")
    repayer = driver.account()
    driver.deposit(repayer, "USDC", "1000")
    driver.borrow(repayer, "BTC", "0.08")
    buyer = driver.account()
    driver.deposit(buyer, "USDC", "4500")
    driver.accept(driver.withdraw(buyer, "BTC", "0.06", auto_borrow=True))
    driver.prices(BTC="73000")
    _asks(driver, "BTC_USDC", "73500", "1")
    for account in (repayer, buyer):
        margin = driver.margin(account)
        spotless = replace(margin, maintenance_wad=0)
        (line, *_) = exposure_lines(margin)
        tx = Transaction(driver.state, driver.state.now_ms)
        assert _guarded_step(tx, driver.state.subaccounts[account], spotless, line) is None
        assert (tx.events, tx.ledger, tx.orders) == ([], {}, {})
        assert _guarded_step(tx, driver.state.subaccounts[account], margin, line) is not None, "progress otherwise"
