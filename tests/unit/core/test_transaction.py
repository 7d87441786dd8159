"""Transactions layered over transactions read through every layer and commit one layer down."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.accounts import Subaccount
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.marks import refresh_perp_marks
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


def test_three_layers_read_specs_accounts_markets_and_perp_marks_from_any_parent(driver: Driver) -> None:
    outer = Transaction(driver.state, driver.now_ms)
    relisted = replace(driver.state.specs["SOL"], fee=driver.state.specs["BTC"].fee)
    outer.specs["SOL"] = relisted
    outer.accounts[AccountId(98)] = [SubaccountId(98)]
    outer.perp_marks_wad["ANY_PERP"] = 13
    middle = Transaction(outer, driver.now_ms)
    middle.accounts[AccountId(97)] = [SubaccountId(97)]
    inner = Transaction(middle, driver.now_ms)
    assert inner.parents == (middle, outer)
    assert inner.spec("SOL") is relisted
    assert inner.account_subaccounts(AccountId(98)) == [SubaccountId(98)], "found past the nearest parent"
    assert middle.account_subaccounts(AccountId(97)) == [SubaccountId(97)], "found in the layer's own writes"
    assert inner.perp_mark("ANY_PERP") == 13
    assert inner.perp_markets() == driver.state.perp_market_specs()


def test_perp_markets_follow_pending_market_listings(driver: Driver) -> None:
    outer = Transaction(driver.state, driver.now_ms)
    listed = driver.state.perp_market_specs()
    assert listed, "the demo lists perp markets"
    renamed = replace(listed[0], symbol="AAA_USDC_PERP")
    outer.markets[renamed.symbol] = renamed
    inner = Transaction(outer, driver.now_ms)
    assert inner.perp_markets() == (renamed, *listed)
    # As the re-mark after a listing does (INV-MARK-1); the new market's book is empty until the commit.
    refresh_perp_marks(outer, lambda _tx, _market: (None, None), only={renamed.symbol})
    outer.commit()
    assert driver.state.perp_market_specs() == (renamed, *listed), "the state's cache follows the commit"


def test_spot_markets_by_pair_follow_pending_market_listings(driver: Driver) -> None:
    btc = driver.state.spot_markets_by_pair()[("BTC", "USDC")]
    assert Transaction(driver.state, driver.now_ms).spot_market("BTC", "USDC") is btc
    outer = Transaction(driver.state, driver.now_ms)
    earlier = replace(btc, symbol="AAA_BTC_USDC")  # the same pair, listed under a symbol that sorts first
    outer.markets[earlier.symbol] = earlier
    inner = Transaction(outer, driver.now_ms)
    assert inner.spot_market("BTC", "USDC") is earlier, "the first market by symbol trades the pair"
    assert inner.spot_market("BTC", "NOPE") is None
    refresh_perp_marks(outer, lambda _tx, _market: (None, None), only=set())
    outer.commit()
    assert driver.state.spot_markets_by_pair()[("BTC", "USDC")] is earlier, "the state's cache follows the commit"
    driver.state.rebuild_indexes()
    assert driver.state.spot_markets_cache is None, "a rebuild drops the cache"
