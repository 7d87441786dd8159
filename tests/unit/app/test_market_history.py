"""The market history's bounds and the spot markets' listing times, on states built with the engine driver."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.api.views.market_data import view_klines
from crossmargin.api.views.markets import view_market
from crossmargin.app.market_history import CANDLES_MAX, MarketHistory, PriceKind
from crossmargin.core.commands import ConfigureAssets, SetMarkPrices
from crossmargin.core.numbers import WAD


def test_the_history_keeps_the_latest_candles_and_evicts_the_oldest() -> None:
    driver = Driver()
    history = MarketHistory()
    history.feed(driver.events, driver.state.markets)
    prices = [60_000 + step for step in range(CANDLES_MAX + 1)]
    for second, price in enumerate(prices):
        events = driver.at(second * 1000).accept(SetMarkPrices((("USDC", WAD), ("BTC", price * WAD))))
        history.feed(events, driver.state.markets)

    seconds = history.markets["BTC_USDC"].series(PriceKind.INDEX, "1s")
    minutes = history.markets["BTC_USDC"].series(PriceKind.INDEX, "1m")
    assert len(seconds) == CANDLES_MAX
    assert (seconds[0].start_ms, seconds[0].close_wad) == (1000, prices[1] * WAD), "the first second was evicted"
    assert (seconds[-1].start_ms, seconds[-1].close_wad) == (CANDLES_MAX * 1000, prices[-1] * WAD)
    assert len(minutes) == 17, "1,001 seconds span 17 minutes, all kept"
    assert (minutes[0].open_wad, minutes[0].low_wad) == (prices[0] * WAD, prices[0] * WAD)
    rows = view_klines(driver.state, history, "BTC_USDC", "1s", 0, price_type="Index")
    assert len(rows) == CANDLES_MAX, "an answer starts at the oldest candle kept"


def test_an_asset_derived_spot_market_was_created_when_its_asset_was_listed() -> None:
    driver = Driver()
    doge = replace(driver.state.specs["SOL"], symbol="DOGE")
    driver.at(5_250).accept(ConfigureAssets((doge,)))

    assert view_market(driver.state, "DOGE_USDC")["createdAt"] == "1970-01-01T00:00:05.250"
    assert view_market(driver.state, "BTC_USDC_PERP")["createdAt"] == "1970-01-01T00:00:00"
