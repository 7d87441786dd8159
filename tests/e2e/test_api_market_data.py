"""Public market data end to end: markets with perps, depth, trades, K-lines, mark prices, open interest, funding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signing_client import Exchange
from tests.e2e.trading_exchange import START_MS, advance, funded, placed, trading_exchange


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def _quote(exchange: Exchange, market: str, bid: str, ask: str, size: str) -> None:
    maker = funded(exchange, USDC="10000000", BTC="100")
    for side, price in (("Bid", bid), ("Ask", ask)):
        placed(exchange, maker, symbol=market, side=side, orderType="Limit", quantity=size, price=price)


def test_markets_list_the_configured_books_with_perp_parameters(exchange: Exchange) -> None:
    markets = exchange.client.get("/api/v1/markets").json()
    perp = exchange.client.get("/api/v1/market", params={"symbol": "BTC_USDC_PERP"}).json()

    assert [market["symbol"] for market in markets] == [
        "BTC_USDC",
        "BTC_USDC_PERP",
        "ETH_USDC",
        "ETH_USDC_PERP",
        "SOL_USDC",
        "SOL_USDC_PERP",
        "USDT_USDC",
    ]
    assert perp["filters"] == {
        "price": {
            "minPrice": "0.1",
            "tickSize": "0.1",
            "maxMultiplier": "1.25",
            "minMultiplier": "0.75",
            "maxImpactMultiplier": "1.03",
            "minImpactMultiplier": "0.97",
            "meanMarkPriceBand": {"maxMultiplier": "1.1", "minMultiplier": "0.9"},
        },
        "quantity": {"minQuantity": "0.00001", "stepSize": "0.00001"},
    }
    assert (perp["marketType"], perp["fundingInterval"], perp["openInterestLimit"]) == ("PERP", 3600000, "1000")
    assert perp["imfFunction"] == {"type": "sqrt", "base": "0.01333333", "factor": "0.00002494"}
    assert (perp["fundingRateUpperBound"], perp["fundingRateLowerBound"]) == ("100", "-100")
    perps = exchange.client.get("/api/v1/markets", params={"marketType": "PERP"}).json()
    assert [market["symbol"] for market in perps] == ["BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP"]
    tickers = {row["symbol"]: row["lastPrice"] for row in exchange.client.get("/api/v1/tickers").json()}
    assert tickers["BTC_USDC_PERP"] == "60000"


def test_depth_aggregates_levels_in_ascending_price_on_both_sides(exchange: Exchange) -> None:
    _quote(exchange, "BTC_USDC", "59990", "60010", "0.5")
    _quote(exchange, "BTC_USDC", "59980", "60010", "0.25")

    depth = exchange.client.get("/api/v1/depth", params={"symbol": "BTC_USDC"}).json()
    top = exchange.client.get("/api/v1/depth", params={"symbol": "BTC_USDC", "limit": "5"}).json()
    bad = exchange.client.get("/api/v1/depth", params={"symbol": "BTC_USDC", "limit": "7"})
    unknown = exchange.client.get("/api/v1/depth", params={"symbol": "BTC_EUR"})
    last_quote_ms = int(exchange.client.get("/api/v1/time").text)

    assert depth["bids"] == [["59980", "0.25"], ["59990", "0.5"]], "best bid last, as Backpack sends it"
    assert depth["asks"] == [["60010", "0.75"]]
    assert depth["timestamp"] == last_quote_ms * 1000, "the engine's time, in microseconds"
    assert top["bids"] == depth["bids"]
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_MARKET")


def test_depth_update_id_moves_with_the_book(exchange: Exchange) -> None:
    before = exchange.client.get("/api/v1/depth", params={"symbol": "SOL_USDC"}).json()
    _quote(exchange, "BTC_USDC", "59990", "60010", "0.5")
    after = exchange.client.get("/api/v1/depth", params={"symbol": "SOL_USDC"}).json()

    assert int(after["lastUpdateId"]) > int(before["lastUpdateId"])


def test_trades_and_klines_come_from_fills(exchange: Exchange) -> None:
    _quote(exchange, "BTC_USDC", "59990", "60010", "1")
    seller = funded(exchange, BTC="1")
    placed(exchange, seller, symbol="BTC_USDC", side="Ask", orderType="Market", quantity="0.1")
    advance(exchange, 90)
    buyer = funded(exchange, USDC="100000")
    placed(exchange, buyer, symbol="BTC_USDC", side="Bid", orderType="Market", quantity="0.2")

    trades = exchange.client.get("/api/v1/trades", params={"symbol": "BTC_USDC"}).json()
    last = exchange.client.get("/api/v1/trades", params={"symbol": "BTC_USDC", "limit": "1"}).json()
    start = START_MS // 1000
    minutes = exchange.client.get(
        "/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "1m", "startTime": str(start)}
    ).json()
    hours = exchange.client.get(
        "/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "1h", "startTime": str(start)}
    ).json()
    later = exchange.client.get(
        "/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "1m", "startTime": str(start + 60)}
    ).json()
    bid = exchange.client.get(
        "/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "1m", "startTime": "0", "priceType": "Bid"}
    )

    assert [(row["price"], row["quantity"], row["isBuyerMaker"]) for row in trades] == [
        ("59990", "0.1", True),
        ("60010", "0.2", False),
    ]
    assert last == trades[-1:]
    assert trades[1]["quoteQuantity"] == "12002"
    assert [(row["start"], row["close"], row["volume"], row["trades"]) for row in minutes] == [
        ("2026-01-01 00:00:00", "59990", "0.1", "1"),
        ("2026-01-01 00:01:00", "60010", "0.2", "1"),
    ]
    assert hours == [
        {
            "start": "2026-01-01 00:00:00",
            "end": "2026-01-01 01:00:00",
            "open": "59990",
            "high": "60010",
            "low": "59990",
            "close": "60010",
            "volume": "0.3",
            "quoteVolume": "18001",
            "trades": "2",
        }
    ]
    assert later == minutes[1:]
    assert bid.json() == {
        "code": "INVALID_CLIENT_REQUEST",
        "message": "priceType must be one of Last, Index, Mark, not 'Bid'",
    }


def test_klines_refuse_an_unknown_interval_or_a_missing_start(exchange: Exchange) -> None:
    bad = exchange.client.get("/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "2m", "startTime": "0"})
    missing = exchange.client.get("/api/v1/klines", params={"symbol": "BTC_USDC", "interval": "1m"})

    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert missing.json() == {"code": "INVALID_CLIENT_REQUEST", "message": "startTime is required"}


def test_perp_mark_prices_open_interest_and_hourly_funding(exchange: Exchange) -> None:
    _quote(exchange, "BTC_USDC_PERP", "60100", "60200", "1")
    trader = funded(exchange, USDC="100000")
    bought = placed(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="0.5")

    (mark,) = exchange.client.get("/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}).json()
    interest = exchange.client.get("/api/v1/openInterest", params={"symbol": "BTC_USDC_PERP"}).json()
    advance(exchange, 3600)
    rates = exchange.client.get("/api/v1/fundingRates", params={"symbol": "BTC_USDC_PERP"}).json()
    spot_rates = exchange.client.get("/api/v1/fundingRates", params={"symbol": "BTC_USDC"})

    # premium = (mid 60150 - index 60000) / 60000 = 0.0025, inside the 1% bound; the mark is the
    # median of index, best bid and best ask, re-marked by the quotes themselves: 60100.
    assert mark == {
        "fundingRate": "0.0025",
        "indexPrice": "60000",
        "markPrice": "60100",
        "nextFundingTimestamp": START_MS + 3_600_000,
        "symbol": "BTC_USDC_PERP",
    }
    assert interest == [{"symbol": "BTC_USDC_PERP", "openInterest": "0.5", "timestamp": bought["createdAt"]}]
    assert rates == [
        {"symbol": "BTC_USDC_PERP", "intervalEndTimestamp": "2026-01-01T01:00:00", "fundingRate": "0.0025"}
    ]
    assert (spot_rates.status_code, spot_rates.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    spot_marks = exchange.client.get("/api/v1/markPrices", params={"marketType": "SPOT"}).json()
    assert [row["symbol"] for row in spot_marks] == ["BTC_USDC", "ETH_USDC", "SOL_USDC", "USDT_USDC"]
