"""Transactions layered over transactions read through every layer and commit one layer down."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.accounts import Subaccount
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.oracle_settings import OracleSettings
from crossmargin.core.transaction import Transaction


def test_a_nested_transaction_sees_its_parents_writes_and_commits_into_the_parent(driver: Driver) -> None:
    sub = driver.account()
    outer = Transaction(driver.state, driver.now_ms)
    outer.mark_prices_wad["SOL"] = 7
    outer.accounts[AccountId(99)] = [SubaccountId(99)]
    outer.subaccounts[SubaccountId(99)] = Subaccount(SubaccountId(99), AccountId(99), api_keys=("nested-key",))
    inner = Transaction(outer, driver.now_ms)
    assert inner.mark_price("SOL") == 7
    assert inner.spec("BTC") is driver.state.specs["BTC"]
    assert inner.account_subaccounts(AccountId(99)) == [SubaccountId(99)]
    assert inner.api_key_owner("nested-key") == SubaccountId(99)
    assert inner.api_key_owner("absent") is None
    relisted = replace(driver.state.specs["SOL"], fee=driver.state.specs["BTC"].fee)
    inner.specs["SOL"] = relisted
    assert inner.spec("SOL") is relisted
    inner.mark_prices_wad["ETH"] = 11
    inner.commit()
    assert outer.mark_price("ETH") == 11
    assert driver.state.mark_prices_wad["ETH"] != 11, "nothing reaches the state until the outer commit"
    assert Transaction(driver.state, 0).account_subaccounts(AccountId(99)) is None
    del sub


def test_price_times_and_oracle_settings_read_through_layers_and_commit_one_layer_down(driver: Driver) -> None:
    outer = Transaction(driver.state, driver.now_ms)
    outer.price_updated_ms["SOL"] = 5
    inner = Transaction(outer, driver.now_ms)
    assert inner.price_updated("SOL") == 5
    assert inner.price_updated("NOPE") is None
    assert inner.oracle_settings() == driver.state.oracle
    inner.oracle = OracleSettings(price_max_age_ms=1_000, configured_ms=3)
    inner.price_updated_ms["ETH"] = 9
    assert inner.oracle_settings().price_max_age_ms == 1_000
    inner.commit()
    assert outer.oracle_settings().configured_ms == 3
    assert outer.price_updated("ETH") == 9
    assert driver.state.oracle.price_max_age_ms is None, "nothing reaches the state until the outer commit"
    outer.commit()
    assert driver.state.oracle.price_max_age_ms == 1_000
    assert driver.state.price_updated_ms["ETH"] == 9
