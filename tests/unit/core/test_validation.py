"""Malformed commands are refused by name and change nothing."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import (
    BorrowLendSide,
    ConfigureAssets,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
)
from crossmargin.core.events import AccountCreated, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.rejections import RejectReason


def test_unknown_asset_lists_the_listed_ones(driver: Driver) -> None:
    sub = driver.account()
    rejection = driver.refuse(Deposit(sub, "DOGE", 1), RejectReason.ASSET_NOT_FOUND)
    assert rejection.message == "Unknown asset 'DOGE'; listed assets are BTC, ETH, SOL, USDC, USDT"


def test_zero_or_negative_quantity_is_refused(driver: Driver) -> None:
    sub = driver.account()
    driver.refuse(Deposit(sub, "USDC", 0), RejectReason.QUANTITY_MUST_BE_POSITIVE)
    driver.refuse(ExecuteBorrowLend(sub, "USDC", BorrowLendSide.LEND, -5), RejectReason.QUANTITY_MUST_BE_POSITIVE)


def test_unknown_subaccount_and_account_are_refused(driver: Driver) -> None:
    driver.refuse(Deposit(SubaccountId(999), "USDC", 1), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(CreateSubaccount(AccountId(999)), RejectReason.ACCOUNT_NOT_FOUND)


def test_quantity_off_the_step_is_refused(driver: Driver) -> None:
    driver.accept(ConfigureAssets((replace(driver.state.specs["SOL"], step_atoms=1_000_000),)))
    sub = driver.account()
    driver.deposit(sub, "SOL", "1.5")
    rejection = driver.refuse(
        ExecuteBorrowLend(sub, "SOL", BorrowLendSide.LEND, 150_500_000), RejectReason.QUANTITY_MUST_BE_MULTIPLE_OF_STEP
    )
    assert rejection.message == "Quantity must be a multiple of the SOL step size 0.01"


def test_prices_must_be_positive_and_listed(driver: Driver) -> None:
    driver.refuse(SetMarkPrices((("BTC", 0),)), RejectReason.PRICE_MUST_BE_POSITIVE)
    driver.refuse(SetMarkPrices((("XYZ", 1),)), RejectReason.ASSET_NOT_FOUND)


def test_the_clock_never_goes_back(driver: Driver) -> None:
    driver.tick(5_000)
    driver.at(4_999).refuse(Tick(), RejectReason.CLOCK_MUST_NOT_GO_BACK)


def test_an_asset_scale_never_changes(driver: Driver) -> None:
    rejection = driver.refuse(
        ConfigureAssets((replace(driver.state.specs["BTC"], decimals=9),)), RejectReason.ASSET_DECIMALS_MUST_NOT_CHANGE
    )
    assert "8 decimals" in rejection.message


def test_api_keys_are_registered_and_never_shared(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-a",)))
    assert isinstance(created, AccountCreated)
    assert driver.state.api_keys == {"key-a": created.subaccount_id}
    rejection = driver.refuse(CreateAccount(api_keys=("key-a",)), RejectReason.API_KEY_TAKEN)
    assert "key-a" in rejection.message
    driver.refuse(CreateSubaccount(created.account_id, api_keys=("key-b", "key-b")), RejectReason.API_KEY_TAKEN)
    (second,) = driver.accept(CreateSubaccount(created.account_id, api_keys=("key-b",)))
    assert isinstance(second, SubaccountCreated)
    assert driver.state.subaccounts[second.subaccount_id].api_keys == ("key-b",)
    driver.settings(second.subaccount_id, auto_lend=True)
    assert driver.state.subaccounts[second.subaccount_id].api_keys == ("key-b",), "settings keep the keys"
