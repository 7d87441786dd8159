"""Spot market views: one `<ASSET>_USDC` market per listed asset, tickers from the mark price alone."""

from __future__ import annotations

import dataclasses

import pytest
from engine_driver import Driver

from crossmargin.api.views import (
    QueryError,
    view_market,
    view_markets,
    view_securities,
    view_ticker,
    view_tickers,
)
from crossmargin.core.state import EngineState


@pytest.fixture
def driver() -> Driver:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000.25", SOL="150")
    return driver


def test_every_listed_asset_but_the_quote_has_one_spot_market_against_usdc(driver: Driver) -> None:
    markets = view_markets(driver.state)

    assert [market["symbol"] for market in markets if isinstance(market, dict)] == [
        "BTC_USDC",
        "ETH_USDC",
        "SOL_USDC",
        "USDT_USDC",
    ]


def test_a_market_takes_its_quantity_step_from_its_asset_and_its_tick_from_usdc(driver: Driver) -> None:
    market = view_market(driver.state, "BTC_USDC")

    assert market == {
        "symbol": "BTC_USDC",
        "baseSymbol": "BTC",
        "quoteSymbol": "USDC",
        "marketType": "SPOT",
        "filters": {
            "price": {"minPrice": "0.000001", "tickSize": "0.000001"},
            "quantity": {"minQuantity": "0.00000001", "stepSize": "0.00000001"},
        },
        "orderBookState": "Open",
        "createdAt": "1970-01-01T00:00:00",
        "visible": True,
    }
    assert view_markets(driver.state)[0] == market


def test_an_unknown_market_is_refused_naming_the_listed_ones(driver: Driver) -> None:
    for symbol in ("DOGE_USDC", "USDC_USDC", "BTC", "BTC_USDC_PERP"):
        with pytest.raises(QueryError, match="markets are BTC_USDC, ETH_USDC, SOL_USDC, USDT_USDC") as refused:
            view_market(driver.state, symbol)
        assert refused.value.code == "INVALID_MARKET"


def test_markets_of_other_types_are_none_yet_and_a_bad_type_is_refused(driver: Driver) -> None:
    assert len(view_markets(driver.state, ["SPOT"])) == 4
    assert len(view_markets(driver.state, ["PERP", "SPOT"])) == 4
    assert view_markets(driver.state, ["PERP"]) == []
    assert view_markets(driver.state, ["RFQ"]) == []
    with pytest.raises(QueryError, match="marketType must be one of"):
        view_markets(driver.state, ["FUTURES"])


def test_without_the_quote_asset_there_are_no_markets(driver: Driver) -> None:
    state = dataclasses.replace(
        driver.state, specs={symbol: spec for symbol, spec in driver.state.specs.items() if symbol != "USDC"}
    )

    assert view_markets(state) == []
    assert view_tickers(state) == []
    with pytest.raises(QueryError, match="markets are none"):
        view_market(state, "BTC_USDC")


def test_a_ticker_is_the_mark_price_with_no_change_and_no_volume(driver: Driver) -> None:
    ticker = view_ticker(driver.state, "ETH_USDC", "1w")

    assert ticker == {
        "symbol": "ETH_USDC",
        "firstPrice": "3000.25",
        "lastPrice": "3000.25",
        "priceChange": "0",
        "priceChangePercent": "0",
        "high": "3000.25",
        "low": "3000.25",
        "volume": "0",
        "quoteVolume": "0",
        "trades": "0",
    }


def test_a_ticker_follows_the_mark_price(driver: Driver) -> None:
    driver.prices(BTC="61234.5")

    ticker = view_ticker(driver.state, "BTC_USDC")

    assert ticker is not None
    assert ticker["lastPrice"] == "61234.5"


def test_a_market_without_a_mark_price_has_no_ticker() -> None:
    state = Driver().state

    assert view_ticker(state, "SOL_USDC") is None
    assert view_tickers(state) == []


def test_tickers_list_every_priced_market_in_symbol_order(driver: Driver) -> None:
    tickers = view_tickers(driver.state, "1d")

    prices = {str(t["symbol"]): t["lastPrice"] for t in tickers if isinstance(t, dict)}
    assert prices == {"BTC_USDC": "60000", "ETH_USDC": "3000.25", "SOL_USDC": "150", "USDT_USDC": "1"}
    assert list(prices) == sorted(prices)


def test_a_ticker_interval_other_than_a_day_or_week_is_refused(driver: Driver) -> None:
    with pytest.raises(QueryError, match="interval must be one of 1d, 1w"):
        view_ticker(driver.state, "BTC_USDC", "1h")
    with pytest.raises(QueryError, match="interval must be one of 1d, 1w"):
        view_tickers(driver.state, "1month")


def test_no_securities_are_listed() -> None:
    assert view_securities(EngineState()) == []
