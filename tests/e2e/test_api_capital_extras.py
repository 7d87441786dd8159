"""Max order quantity, position history, deposit address, wallets and APY over HTTP, checked against Backpack's schemas."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from signing_client import Exchange
from tests.e2e.trading_exchange import funded, placed, trading_exchange
from tests.unit.api.test_views_schema import SPEC_PATH, assert_valid, closed, format_checker, with_extensions

pytestmark = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Backpack's spec is not at {SPEC_PATH}")


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


@pytest.fixture(scope="module")
def schema_of() -> Any:
    spec = yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    components = closed(with_extensions(spec["components"]))

    def for_path(path: str) -> Draft202012Validator:
        (body,) = spec["paths"][path]["get"]["responses"]["200"]["content"].values()
        schema = {**copy.deepcopy(body["schema"]), "unevaluatedProperties": False, "components": components}
        return Draft202012Validator(schema, format_checker=format_checker())

    return for_path


def test_max_order_quantity_is_an_order_the_engine_takes_and_one_step_more_it_refuses(
    exchange: Exchange, schema_of: Any
) -> None:
    keys = funded(exchange, USDC="1000")
    query = {"symbol": "BTC_USDC", "side": "Bid", "price": "50000"}

    response = exchange.signed(keys, "GET", "/api/v1/account/limits/order", "maxOrderQuantity", query)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(schema_of("/api/v1/account/limits/order"), body)
    assert (body["symbol"], body["side"], body["price"], body["autoBorrow"]) == ("BTC_USDC", "Bid", "50000", False)
    most = Decimal(body["maxOrderQuantity"])
    assert most == Decimal("0.02")
    order = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "price": "50000"}
    too_many = exchange.signed(keys, "POST", "/api/v1/order", "orderExecute", {**order, "quantity": "0.02001"})
    assert too_many.status_code == 400, too_many.text
    placed(exchange, keys, **order, quantity=str(most))


def test_max_order_quantity_refuses_an_unknown_market_and_side(exchange: Exchange) -> None:
    keys = funded(exchange, USDC="1000")

    market = exchange.signed(
        keys, "GET", "/api/v1/account/limits/order", "maxOrderQuantity", {"symbol": "DOGE_USDC", "side": "Bid"}
    )
    side = exchange.signed(
        keys, "GET", "/api/v1/account/limits/order", "maxOrderQuantity", {"symbol": "BTC_USDC", "side": "Buy"}
    )

    assert (market.status_code, market.json()["code"]) == (400, "INVALID_MARKET")
    assert side.status_code == 400
    assert "side" in side.json()["message"]


def test_position_history_shows_a_closed_and_an_open_perp_position(exchange: Exchange, schema_of: Any) -> None:
    maker = funded(exchange, USDC="1000000")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Ask", orderType="Limit", quantity="1", price="60010")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="1", price="59990")
    trader = funded(exchange, USDC="10000")
    for side in ("Bid", "Ask", "Bid"):
        placed(exchange, trader, symbol="BTC_USDC_PERP", side=side, orderType="Market", quantity="0.01")

    response = exchange.signed(trader, "GET", "/wapi/v1/history/position", "positionHistoryQueryAll")
    closed_only = exchange.signed(
        trader, "GET", "/wapi/v1/history/position", "positionHistoryQueryAll", {"state": "Closed"}
    )

    assert response.status_code == 200, response.text
    assert_valid(schema_of("/wapi/v1/history/position"), response.json())
    newest, oldest = response.json()
    assert (newest["state"], newest["netQuantity"], newest["entryPrice"]) == ("Open", "0.01", "60010")
    assert (oldest["state"], oldest["netQuantity"], oldest["closedVolume"]) == ("Closed", "0", "0.01")
    assert (oldest["entryPrice"], oldest["closingPrice"], oldest["cumulativePnlRealized"]) == ("60010", "59990", "-0.2")
    assert response.headers["X-TOTAL"] == "2"
    assert [row["id"] for row in closed_only.json()] == [oldest["id"]]


def test_deposit_address_is_stable_per_subaccount_and_chain_and_refuses_other_chains(
    exchange: Exchange, schema_of: Any
) -> None:
    one, two = funded(exchange), funded(exchange)

    def address(keys: Any, chain: str) -> Any:
        return exchange.signed(
            keys, "GET", "/wapi/v1/capital/deposit/address", "depositAddressQuery", {"blockchain": chain}
        )

    solana, again, other = address(one, "Solana"), address(one, "Solana"), address(two, "Solana")
    ethereum, bitcoin, tron = address(one, "Ethereum"), address(one, "Bitcoin"), address(one, "Tron")

    assert_valid(schema_of("/wapi/v1/capital/deposit/address"), solana.json())
    assert solana.json() == again.json()
    assert solana.json() != other.json()
    assert ethereum.json()["address"].startswith("0x")
    assert len(ethereum.json()["address"]) == 42
    assert bitcoin.json()["address"].startswith("bc1q")
    assert 32 <= len(solana.json()["address"]) <= 44
    assert tron.status_code == 400
    assert "Bitcoin, Ethereum, Solana" in tron.json()["message"]
    assert address(one, "Moon").status_code == 400


def test_wallets_and_apy_are_public_and_match_the_spec(exchange: Exchange, schema_of: Any) -> None:
    wallets = exchange.client.get("/api/v1/wallets")
    apy = exchange.client.get("/api/v1/borrowLend/apy")

    assert_valid(schema_of("/api/v1/wallets"), wallets.json())
    assert [row["blockchain"] for row in wallets.json()] == ["Bitcoin", "Ethereum", "Solana"]
    assert_valid(schema_of("/api/v1/borrowLend/apy"), apy.json())
    assert {row["symbol"] for row in apy.json()["borrowLend"]} >= {"BTC", "USDC"}
    assert apy.json()["staking"] == []
