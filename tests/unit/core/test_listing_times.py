"""Listing times: every asset and market keeps the time of the command that first configured it.

Backpack's markets carry `createdAt`; ours is the time `ConfigureAssets` / `ConfigureMarkets`
first listed the symbol. A later reconfiguration changes parameters, never the listing time, and
a refused configuration records nothing.
"""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import ConfigureAssets, ConfigureMarkets
from crossmargin.core.rejections import RejectReason


def test_configured_assets_and_markets_keep_the_time_they_were_first_listed() -> None:
    driver = Driver()
    assert driver.state.listed_at_ms["BTC"] == 0
    assert driver.state.listed_at_ms["BTC_USDC_PERP"] == 0
    btc_perp = driver.state.markets["BTC_USDC_PERP"]
    doge = replace(driver.state.specs["SOL"], symbol="DOGE")
    doge_usdc = replace(driver.state.markets["SOL_USDC"], symbol="DOGE_USDC", base="DOGE")
    driver.at(5_000).accept(ConfigureAssets((doge, driver.state.specs["BTC"])))
    driver.at(7_000).accept(ConfigureMarkets((doge_usdc, replace(btc_perp, taker_fee=btc_perp.maker_fee))))
    assert driver.state.listed_at_ms["DOGE"] == 5_000
    assert driver.state.listed_at_ms["DOGE_USDC"] == 7_000
    assert driver.state.listed_at_ms["BTC"] == 0, "reconfiguring a listed asset keeps its listing time"
    assert driver.state.listed_at_ms["BTC_USDC_PERP"] == 0, "reconfiguring a listed market keeps its listing time"


def test_a_refused_configuration_records_no_listing_time() -> None:
    driver = Driver()
    wrong = replace(driver.state.specs["BTC"], symbol="WBTC")
    changed = replace(driver.state.specs["SOL"], decimals=driver.state.specs["SOL"].decimals + 1)
    driver.at(9_000).refuse(ConfigureAssets((wrong, changed)), RejectReason.ASSET_DECIMALS_MUST_NOT_CHANGE)
    assert "WBTC" not in driver.state.listed_at_ms
