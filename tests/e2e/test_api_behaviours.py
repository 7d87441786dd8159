"""Issue 15's venue behaviours over HTTP: price bands, reduce-only, auto-lend off, autoBorrow cancels, account."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import funded, order, placed, trading_exchange


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def _account(exchange: Exchange, keys: Keys) -> dict[str, object]:
    response = exchange.signed(keys, "GET", "/api/v1/account", "accountQuery")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_bid_at_1_for_btc_is_refused_with_backpacks_invalid_price(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="1000")

    response = order(exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="0.001", price="1")

    assert (response.status_code, response.json()["code"]) == (400, "INVALID_PRICE")
    assert response.json()["message"] == (
        "Price is too far from the last active price: BTC_USDC takes limit prices from 45000 to 75000 now "
        "(0.75 to 1.25 times the last active price 60000)"
    )
    capital = exchange.signed(trader, "GET", "/api/v1/capital", "balanceQuery").json()
    assert capital["USDC"] == {"available": "1000", "locked": "0", "staked": "0"}


def test_markets_publish_their_bands_in_backpacks_price_filter(exchange: Exchange) -> None:
    markets = {market["symbol"]: market for market in exchange.client.get("/api/v1/markets").json()}
    assert markets["SOL_USDC_PERP"]["filters"]["price"] == {
        "minPrice": "0.01",
        "tickSize": "0.01",
        "maxMultiplier": "1.25",
        "minMultiplier": "0.75",
        "maxImpactMultiplier": "1.03",
        "minImpactMultiplier": "0.97",
        "meanMarkPriceBand": {"maxMultiplier": "1.1", "minMultiplier": "0.9"},
    }


def test_a_reduce_only_order_above_the_position_is_refused_naming_the_position(exchange: Exchange) -> None:
    maker = funded(exchange, USDC="1000000")
    trader = funded(exchange, USDC="100000")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Ask", orderType="Limit", quantity="1", price="60010")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="1", price="59990")
    placed(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="0.1")

    response = order(
        exchange, trader, symbol="BTC_USDC_PERP", side="Ask", orderType="Market", quantity="0.3", reduceOnly=True
    )

    assert (response.status_code, response.json()["code"]) == (400, "INVALID_QUANTITY")
    assert response.json()["message"] == (
        "A reduce-only order of 0.3 is larger than your BTC_USDC_PERP position of 0.1: send at most 0.1 BTC"
    )
    closed = placed(
        exchange, trader, symbol="BTC_USDC_PERP", side="Ask", orderType="Market", quantity="0.1", reduceOnly=True
    )
    assert (closed["status"], closed["executedQuantity"]) == ("Filled", "0.1")


def test_turning_auto_lend_off_redeems_so_the_next_withdrawal_goes_through(exchange: Exchange) -> None:
    saver = funded(exchange, USDC="1000")
    assert exchange.signed(saver, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True}).status_code == 200
    lent = exchange.signed(saver, "GET", "/api/v1/capital/collateral", "collateralQuery").json()["collateral"]
    assert [(row["symbol"], row["lendQuantity"]) for row in lent] == [("USDC", "1000")]

    response = exchange.signed(saver, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": False})

    assert response.status_code == 200, response.text
    capital = exchange.signed(saver, "GET", "/api/v1/capital", "balanceQuery").json()
    assert capital["USDC"]["available"] == "1000"
    history = exchange.signed(saver, "GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll").json()
    assert [(row["eventType"], row["source"]) for row in history][:1] == [("LendRedeem", "AutoLend")]
    withdrawal = {"symbol": "USDC", "quantity": "1000", "address": "0xabc", "blockchain": "Ethereum"}
    withdrawn = exchange.signed(saver, "POST", "/wapi/v1/capital/withdrawals", "withdraw", withdrawal)
    assert withdrawn.status_code == 200, withdrawn.text


def test_cancelling_an_auto_borrow_order_with_auto_borrow_repay_leaves_no_loan(exchange: Exchange) -> None:
    lender = funded(exchange, USDC="1000000")
    assert exchange.borrow_lend(lender, "Lend", "1000000").status_code == 200
    buyer = funded(exchange, BTC="1", USDC="1000")
    body = placed(
        exchange,
        buyer,
        symbol="BTC_USDC",
        side="Bid",
        orderType="Limit",
        quantity="0.1",
        price="60000",
        autoBorrow=True,
        autoBorrowRepay=True,
    )
    positions = exchange.signed(buyer, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()
    assert [row["symbol"] for row in positions] == ["USDC"]

    cancelled = exchange.signed(
        buyer, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "orderId": body["id"]}
    )

    assert cancelled.status_code == 200, cancelled.text
    positions = exchange.signed(buyer, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()
    assert positions == []
    capital = exchange.signed(buyer, "GET", "/api/v1/capital", "balanceQuery").json()
    assert Decimal("999.9") < Decimal(capital["USDC"]["available"]) < Decimal(1000)  # less the entry fee


def test_the_account_reports_the_markets_fees_and_its_limits(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="1000")

    account = _account(exchange, trader)

    assert {key: account[key] for key in ("spotMakerFee", "spotTakerFee", "futuresMakerFee", "futuresTakerFee")} == {
        "spotMakerFee": "8",
        "spotTakerFee": "10",
        "futuresMakerFee": "2",
        "futuresTakerFee": "5",
    }
    assert account["marketFees"] == {"USDT_USDC": {"makerFee": "2", "takerFee": "4"}}
    assert (account["borrowLimit"], account["positionLimit"]) == ("2500000", "2500000")


def test_the_operator_sets_account_limits_that_the_engine_enforces(exchange: Exchange) -> None:
    lender = funded(exchange, USDC="1000000")
    assert exchange.borrow_lend(lender, "Lend", "1000000").status_code == 200
    trader = funded(exchange, BTC="1")
    path = f"/admin/v1/subaccounts/{trader.subaccount_id}/limits"

    response = exchange.admin("PATCH", path, {"borrowLimit": "1000"})

    assert response.status_code == 200, response.text
    assert (response.json()["borrowLimit"], response.json()["positionLimit"]) == ("1000", "2500000")
    assert _account(exchange, trader)["borrowLimit"] == "1000"
    assert exchange.borrow_lend(trader, "Borrow", "900").status_code == 200
    refused = exchange.borrow_lend(trader, "Borrow", "200")
    assert (refused.status_code, refused.json()["code"]) == (400, "BORROW_LIMIT")
    assert "above your account's borrow limit of 1000 USD" in refused.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Give borrowLimit and/or positionLimit, in USD"),
        ({"leverageLimit": "3"}, "leverageLimit is not an account limit: give borrowLimit and/or positionLimit"),
        ({"borrowLimit": "-1"}, "borrowLimit must not be negative"),
        ({"borrowLimit": "1e9"}, "borrowLimit '1e9' is not a plain decimal number of USD with at most 18 decimals"),
        ({"positionLimit": "1" + "0" * 20}, "positionLimit must be at most 1000000000000000"),
    ],
)
def test_bad_account_limits_are_refused_naming_the_field(
    exchange: Exchange, body: dict[str, object], message: str
) -> None:
    trader = funded(exchange, USDC="1")
    response = exchange.admin("PATCH", f"/admin/v1/subaccounts/{trader.subaccount_id}/limits", body)
    assert (response.status_code, response.json()) == (400, {"code": "INVALID_CLIENT_REQUEST", "message": message})


def test_account_limits_need_the_operator_token_and_a_real_subaccount(exchange: Exchange) -> None:
    no_token = exchange.client.patch("/admin/v1/subaccounts/1/limits", json={"borrowLimit": "1"})
    assert no_token.status_code == 401
    missing = exchange.admin("PATCH", "/admin/v1/subaccounts/999/limits", {"borrowLimit": "1"})
    assert (missing.status_code, missing.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
