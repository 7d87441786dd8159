"""Tickers come from the day's fills: first, last, high, low, volumes, count, change as a fraction."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.markets import view_ticker, view_tickers


def test_a_ticker_sums_the_days_fills_of_its_market() -> None:
    driver = Driver().at(HOUR_MS)
    driver.prices(BTC="60000", USDC="1", USDT="1", ETH="3000", SOL="150")
    maker, taker = driver.account(), driver.account()
    driver.deposit(maker, "BTC", "10")
    driver.deposit(taker, "USDC", "1000000")
    driver.place(maker, "BTC_USDC", "sell", "0.1", "60000")
    driver.place(maker, "BTC_USDC", "sell", "0.2", "61000")
    driver.place(maker, "BTC_USDC", "sell", "0.1", "59500")
    driver.at(HOUR_MS + 1000).place(taker, "BTC_USDC", "buy", "0.1")  # takes 59500
    driver.at(HOUR_MS + 2000).place(taker, "BTC_USDC", "buy", "0.3")  # takes 60000 then 61000
    ticker = view_ticker(driver.state, "BTC_USDC")
    assert ticker is not None
    assert (ticker["firstPrice"], ticker["lastPrice"], ticker["high"], ticker["low"]) == (
        "59500",
        "61000",
        "61000",
        "59500",
    )
    assert (ticker["volume"], ticker["quoteVolume"], ticker["trades"]) == ("0.4", "24150", "3")
    assert (ticker["priceChange"], ticker["priceChangePercent"]) == ("1500", "0.02521")


def test_fills_older_than_the_interval_and_other_markets_do_not_count() -> None:
    driver = Driver().at(HOUR_MS)
    driver.prices(BTC="60000", USDC="1", USDT="1", ETH="3000", SOL="150")
    maker, taker = driver.account(), driver.account()
    driver.deposit(maker, "BTC", "10")
    driver.deposit(taker, "USDC", "1000000")
    driver.place(maker, "BTC_USDC", "sell", "0.1", "60000")
    driver.place(taker, "BTC_USDC", "buy", "0.1")
    driver.place(maker, "BTC_USDC", "sell", "0.1", "59000")
    driver.tick(HOUR_MS + 25 * HOUR_MS)
    driver.place(taker, "BTC_USDC", "buy", "0.1")
    day = view_ticker(driver.state, "BTC_USDC")
    week = view_ticker(driver.state, "BTC_USDC", "1w")
    assert day is not None
    assert week is not None
    assert (day["trades"], day["priceChange"]) == ("1", "0")
    assert (week["trades"], week["firstPrice"], week["lastPrice"], week["priceChange"]) == (
        "2",
        "60000",
        "59000",
        "-1000",
    )
    assert week["priceChangePercent"] == "-0.016666"
    eth = next(row for row in view_tickers(driver.state) if isinstance(row, dict) and row["symbol"] == "ETH_USDC")
    assert (eth["trades"], eth["lastPrice"]) == ("0", "3000")
