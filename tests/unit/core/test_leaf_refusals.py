"""Refusals reached only by calling the movement functions directly, or by rare configurations."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.assets import PoolState
from crossmargin.core.borrow_lend import lend, redeem
from crossmargin.core.commands import (
    BorrowLendSide,
    ConfigureAssets,
    ExecuteBorrowLend,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.engine import compute_max_withdrawal
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.ids import SubaccountId
from crossmargin.core.margin import MarginSummary
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction


def test_redeem_without_a_lend_and_lend_into_a_closed_pool_are_refused(driver: Driver) -> None:
    sub = driver.account()
    tx = Transaction(driver.state, driver.now_ms)
    refused = redeem(tx, sub, driver.state.specs["USDC"], 1, BorrowLendSource.MANUAL)
    assert refused is not None
    assert refused.reason is RejectReason.LEND_INSUFFICIENT
    closed = replace(driver.state.specs["USDC"], pool_state=PoolState.CLOSED)
    refused = lend(tx, sub, closed, 1, BorrowLendSource.MANUAL)
    assert refused is not None
    assert refused.reason is RejectReason.POOL_CLOSED


def test_a_borrow_past_a_lowered_open_limit_is_refused(driver: Driver) -> None:
    driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.accept(ConfigureAssets((replace(driver.state.specs["USDC"], open_borrow_lend_limit_atoms=100_000_000),)))
    rejection = driver.refuse(
        ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, 200_000_000),
        RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED,
    )
    assert "open borrow limit of 100 USDC" in rejection.message


def test_unknown_subaccounts_and_assets_are_refused_by_every_command(driver: Driver) -> None:
    sub = driver.account()
    ghost = SubaccountId(404)
    driver.refuse(Withdraw(sub, "DOGE", 1), RejectReason.ASSET_NOT_FOUND)
    driver.refuse(Transfer(ghost, sub, "USDC", 1), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(Transfer(sub, ghost, "USDC", 1), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(ExecuteBorrowLend(ghost, "USDC", BorrowLendSide.LEND, 1), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(UpdateSettings(ghost, auto_lend=True), RejectReason.SUBACCOUNT_NOT_FOUND)
    tx = Transaction(driver.state, driver.now_ms)
    assert compute_max_withdrawal(tx, ghost, "USDC", auto_borrow=True, auto_lend_redeem=True) == 0
    assert compute_max_withdrawal(tx, sub, "DOGE", auto_borrow=False, auto_lend_redeem=False) == 0


def test_auto_lend_stops_at_the_pools_open_limit(driver: Driver) -> None:
    driver.accept(ConfigureAssets((replace(driver.state.specs["SOL"], open_borrow_lend_limit_atoms=500_000_000),)))
    saver = driver.account()
    driver.settings(saver, auto_lend=True)
    driver.deposit(saver, "SOL", "8")
    assert driver.holding(saver, "SOL").lend_atoms == 500_000_000, "the pool takes 5 SOL, its limit"
    driver.deposit(saver, "SOL", "1")
    assert driver.holding(saver, "SOL").spot_atoms == 400_000_000, "a full pool lends nothing more"


def test_margin_ratios_with_exposure_and_with_negative_equity() -> None:
    healthy = MarginSummary(
        (),
        collateral_value_wad=2000 * WAD,
        borrow_liability_wad=1000 * WAD,
        locked_wad=100 * WAD,
        maintenance_wad=50 * WAD,
    )
    assert healthy.margin_fraction == Ratio(WAD)
    assert healthy.initial_margin_ratio == Ratio(WAD // 10)
    assert healthy.maintenance_margin_ratio == Ratio(WAD // 20)
    underwater = MarginSummary(
        (),
        collateral_value_wad=900 * WAD,
        borrow_liability_wad=1000 * WAD,
        locked_wad=100 * WAD,
        maintenance_wad=50 * WAD,
    )
    assert underwater.margin_fraction == Ratio(-WAD // 10)
    assert underwater.initial_margin_ratio is None
    assert underwater.is_liquidatable


def test_a_lend_too_small_to_buy_a_share_is_refused_and_auto_lend_leaves_it_idle(driver: Driver) -> None:
    driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "800")  # interest lifts the lend index above one
    driver.tick(50 * 3_600_000)
    assert driver.state.pools["USDC"].lend_index_ray > 10**27
    dust = driver.account()
    driver.deposit(dust, "USDC", "0.000001")
    rejection = driver.refuse(
        ExecuteBorrowLend(dust, "USDC", BorrowLendSide.LEND, 1), RejectReason.QUANTITY_BELOW_MINIMUM
    )
    assert rejection.message == "Lend of 0.000001 USDC is too small to buy any share of the USDC pool"
    driver.settings(dust, auto_lend=True)
    assert driver.holding(dust, "USDC").spot_atoms == 1, "auto-lend leaves dust idle instead of losing it"
