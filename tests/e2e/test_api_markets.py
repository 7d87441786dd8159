"""Public market routes over HTTP: markets, one market, tickers, securities, and their refusals."""

from __future__ import annotations

from signing_client import Exchange


def test_markets_list_one_spot_market_per_asset_and_are_not_cached(exchange: Exchange) -> None:
    response = exchange.client.get("/api/v1/markets")

    assert response.status_code == 200, response.text
    assert [market["symbol"] for market in response.json()] == ["BTC_USDC", "ETH_USDC", "SOL_USDC", "USDT_USDC"]
    assert response.headers["Cache-Control"] == "no-store"


def test_markets_filter_by_repeated_market_type(exchange: Exchange) -> None:
    spot = exchange.client.get("/api/v1/markets", params=[("marketType", "PERP"), ("marketType", "SPOT")])
    perp = exchange.client.get("/api/v1/markets", params={"marketType": "PERP"})
    bad = exchange.client.get("/api/v1/markets", params={"marketType": "spot"})

    assert len(spot.json()) == 4
    assert perp.json() == []
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


def test_one_market_by_symbol_or_a_refusal_naming_the_field(exchange: Exchange) -> None:
    found = exchange.client.get("/api/v1/market", params={"symbol": "SOL_USDC"})
    unknown = exchange.client.get("/api/v1/market", params={"symbol": "SOL_USDT"})
    missing = exchange.client.get("/api/v1/market")

    assert found.json()["filters"]["quantity"]["stepSize"] == "0.00000001"
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_MARKET")
    assert (missing.status_code, missing.json()) == (
        400,
        {"code": "INVALID_CLIENT_REQUEST", "message": "symbol is required"},
    )


def test_the_ticker_moves_with_the_mark_price(exchange: Exchange) -> None:
    before = exchange.client.get("/api/v1/ticker", params={"symbol": "BTC_USDC", "interval": "1d"})
    exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "65000.5"}})
    after = exchange.client.get("/api/v1/ticker", params={"symbol": "BTC_USDC"})

    assert before.json()["lastPrice"] == "60000"
    assert after.json()["lastPrice"] == after.json()["high"] == "65000.5"
    assert after.json()["volume"] == "0"
    assert after.headers["Cache-Control"] == "no-store"


def test_tickers_and_their_refusals(exchange: Exchange) -> None:
    tickers = exchange.client.get("/api/v1/tickers").json()
    bad_interval = exchange.client.get("/api/v1/tickers", params={"interval": "1h"})
    bad_symbol = exchange.client.get("/api/v1/ticker", params={"symbol": "DOGE_USDC"})

    assert {ticker["symbol"]: ticker["lastPrice"] for ticker in tickers} == {
        "BTC_USDC": "60000",
        "ETH_USDC": "3000",
        "SOL_USDC": "150",
        "USDT_USDC": "1",
    }
    assert (bad_interval.status_code, bad_interval.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert (bad_symbol.status_code, bad_symbol.json()["code"]) == (400, "INVALID_MARKET")


def test_no_securities_are_listed(exchange: Exchange) -> None:
    response = exchange.client.get("/api/v1/securities")

    assert (response.status_code, response.json()) == (200, [])
