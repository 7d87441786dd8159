"""Market views: the configured spot and perp books (or one `<ASSET>_USDC` per asset without them), tickers from marks."""

from __future__ import annotations

import dataclasses

import pytest
from engine_driver import Driver

from crossmargin.api.errors import ApiError
from crossmargin.api.views import (
    JsonValue,
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


ALL_MARKETS = ["BTC_USDC", "BTC_USDC_PERP", "ETH_USDC", "ETH_USDC_PERP", "SOL_USDC", "SOL_USDC_PERP", "USDT_USDC"]


def _symbols(markets: list[JsonValue]) -> list[str]:
    return [str(market["symbol"]) for market in markets if isinstance(market, dict)]


def _assets_only(state: EngineState) -> EngineState:
    """Return the state as it was before order books were configured: assets only."""
    return dataclasses.replace(state, markets={}, books={})


def test_every_configured_book_is_listed_spot_and_perp_in_symbol_order(driver: Driver) -> None:
    assert _symbols(view_markets(driver.state)) == ALL_MARKETS


def test_a_configured_market_shows_its_own_tick_and_step(driver: Driver) -> None:
    market = view_market(driver.state, "BTC_USDC")

    assert market == {
        "symbol": "BTC_USDC",
        "baseSymbol": "BTC",
        "quoteSymbol": "USDC",
        "marketType": "SPOT",
        "filters": {
            "price": {
                "minPrice": "0.1",
                "tickSize": "0.1",
                "maxMultiplier": "1.25",
                "minMultiplier": "0.75",
                "maxImpactMultiplier": "1.03",
                "minImpactMultiplier": "0.97",
            },
            "quantity": {"minQuantity": "0.00001", "stepSize": "0.00001"},
        },
        "orderBookState": "Open",
        "createdAt": "1970-01-01T00:00:00",
        "visible": True,
    }
    assert view_markets(driver.state)[0] == market


def test_a_perp_market_shows_its_margin_functions_limit_and_hourly_funding(driver: Driver) -> None:
    market = view_market(driver.state, "SOL_USDC_PERP")

    assert {key: market[key] for key in ("marketType", "fundingInterval", "openInterestLimit")} == {
        "marketType": "PERP",
        "fundingInterval": 3_600_000,
        "openInterestLimit": "500000",
    }
    assert market["mmfFunction"] == {"type": "sqrt", "base": "0.0125", "factor": "0.0000765"}
    assert (market["fundingRateUpperBound"], market["fundingRateLowerBound"]) == ("100", "-100")


def test_a_perp_market_shows_its_price_bands_as_backpack_does(driver: Driver) -> None:
    filters = view_market(driver.state, "BTC_USDC_PERP")["filters"]
    assert isinstance(filters, dict)
    assert filters["price"] == {
        "minPrice": "0.1",
        "tickSize": "0.1",
        "maxMultiplier": "1.25",
        "minMultiplier": "0.75",
        "maxImpactMultiplier": "1.03",
        "minImpactMultiplier": "0.97",
        "meanMarkPriceBand": {"maxMultiplier": "1.1", "minMultiplier": "0.9"},
    }


def test_without_configured_books_each_asset_gets_a_spot_market_with_asset_filters(driver: Driver) -> None:
    state = _assets_only(driver.state)

    market = view_market(state, "BTC_USDC")

    assert _symbols(view_markets(state)) == ["BTC_USDC", "ETH_USDC", "SOL_USDC", "USDT_USDC"]
    assert market["filters"] == {
        "price": {"minPrice": "0.000001", "tickSize": "0.000001"},
        "quantity": {"minQuantity": "0.00000001", "stepSize": "0.00000001"},
    }


def test_an_unknown_market_is_refused_naming_the_listed_ones(driver: Driver) -> None:
    for symbol in ("DOGE_USDC", "USDC_USDC", "BTC", "DOGE_USDC_PERP"):
        with pytest.raises(ApiError, match="markets are BTC_USDC, BTC_USDC_PERP, ETH_USDC") as refused:
            view_market(driver.state, symbol)
        assert refused.value.code == "INVALID_MARKET"


def test_markets_filter_by_type_and_a_bad_type_is_refused(driver: Driver) -> None:
    assert _symbols(view_markets(driver.state, ["SPOT"])) == ["BTC_USDC", "ETH_USDC", "SOL_USDC", "USDT_USDC"]
    assert _symbols(view_markets(driver.state, ["PERP"])) == ["BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP"]
    assert len(view_markets(driver.state, ["PERP", "SPOT"])) == len(ALL_MARKETS)
    assert view_markets(driver.state, ["RFQ"]) == []
    with pytest.raises(ApiError, match="marketType must be one of"):
        view_markets(driver.state, ["FUTURES"])


def test_without_the_quote_asset_or_books_there_are_no_markets(driver: Driver) -> None:
    state = dataclasses.replace(
        _assets_only(driver.state),
        specs={symbol: spec for symbol, spec in driver.state.specs.items() if symbol != "USDC"},
    )

    assert view_markets(state) == []
    assert view_tickers(state) == []
    with pytest.raises(ApiError, match="markets are none"):
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
    assert prices == {
        "BTC_USDC": "60000",
        "BTC_USDC_PERP": "60000",
        "ETH_USDC": "3000.25",
        "ETH_USDC_PERP": "3000.25",
        "SOL_USDC": "150",
        "SOL_USDC_PERP": "150",
        "USDT_USDC": "1",
    }
    assert list(prices) == sorted(prices)


def test_a_ticker_interval_other_than_a_day_or_week_is_refused(driver: Driver) -> None:
    with pytest.raises(ApiError, match="interval must be one of 1d, 1w"):
        view_ticker(driver.state, "BTC_USDC", "1h")
    with pytest.raises(ApiError, match="interval must be one of 1d, 1w"):
        view_tickers(driver.state, "1month")


def test_no_securities_are_listed() -> None:
    assert view_securities(EngineState()) == []
