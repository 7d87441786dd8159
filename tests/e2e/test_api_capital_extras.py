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
from tests.e2e.trading_exchange import advance, funded, placed, trading_exchange
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
    assert len(bitcoin.json()["address"]) == 42
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


def test_convert_dust_over_http_and_its_history(exchange: Exchange, schema_of: Any) -> None:
    keys = funded(exchange, SOL="0.005", BTC="1")

    not_dust = exchange.signed(keys, "POST", "/api/v1/account/convertDust", "convertDust", {"symbol": "BTC"})
    converted = exchange.signed(keys, "POST", "/api/v1/account/convertDust", "convertDust", {"symbol": "SOL"})
    history = exchange.signed(keys, "GET", "/wapi/v1/history/dust", "dustHistoryQueryAll", {"symbol": "SOL"})
    borrow_lend = exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery")

    assert (not_dust.status_code, not_dust.json()["code"]) == (400, "INVALID_QUANTITY")
    assert "not dust" in not_dust.json()["message"]
    assert converted.status_code == 200, converted.text
    assert_valid(schema_of("/wapi/v1/history/dust"), history.json())
    (row,) = history.json()
    assert (row["id"], row["symbol"], row["quantity"], row["usdcReceived"]) == (0, "SOL", "0.005", "0.75")
    assert history.headers["X-TOTAL"] == "1"
    assert borrow_lend.json()["USDC"]["available"] == "0.75"
    assert "SOL" not in borrow_lend.json() or borrow_lend.json()["SOL"]["available"] == "0"


def test_a_withdrawal_delay_holds_a_withdrawal_until_the_clock_passes_its_release(
    exchange: Exchange, schema_of: Any
) -> None:
    keys = funded(exchange, USDC="1000")
    path = "/wapi/v1/capital/withdrawals/delay"

    assert exchange.signed(keys, "GET", path, "withdrawalDelayQuery").status_code == 204
    body = {"withdrawalDelayHours": 2, "twoFactorToken": "000000"}
    assert exchange.signed(keys, "POST", path, "withdrawalDelayCreate", body).status_code == 200
    again = exchange.signed(keys, "POST", path, "withdrawalDelayCreate", body)
    too_long = exchange.signed(keys, "PATCH", path, "withdrawalDelayUpdate", {**body, "withdrawalDelayHours": 1441})
    no_token = exchange.signed(keys, "PATCH", path, "withdrawalDelayUpdate", {"withdrawalDelayHours": 1})
    delay = exchange.signed(keys, "GET", path, "withdrawalDelayQuery")
    withdrawal = {"symbol": "USDC", "quantity": "400", "blockchain": "Solana", "address": "addr"}
    sent = exchange.signed(keys, "POST", "/wapi/v1/capital/withdrawals", "withdraw", withdrawal)
    capital = exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery").json()

    assert (again.status_code, again.json()["code"]) == (409, "INVALID_CLIENT_REQUEST")
    assert too_long.status_code == 400
    assert "1440" in too_long.json()["message"]
    assert no_token.status_code == 400
    assert_valid(schema_of(path), delay.json())
    assert delay.json() == {"currentWithdrawalDelayHours": 2}
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "pending"
    assert capital["USDC"]["available"] == "600", "held funds are not spendable"
    advance(exchange, 2 * 3600)
    rows = exchange.signed(keys, "GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll").json()
    assert rows[0]["status"] == "confirmed"
    lowered = exchange.signed(keys, "PATCH", path, "withdrawalDelayUpdate", {**body, "withdrawalDelayHours": 0})
    assert lowered.status_code == 200, lowered.text
    assert_valid(schema_of(path), lowered.json())
    assert lowered.json()["currentWithdrawalDelayHours"] == 2
    assert lowered.json()["pendingWithdrawalDelayHours"] == 0
