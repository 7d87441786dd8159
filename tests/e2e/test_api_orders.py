"""Signed order endpoints end to end (in-process ASGI): place, query, cancel, batch, and every refusal."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from nacl.signing import SigningKey
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import funded, order, placed, trading_exchange


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def ask(exchange: Exchange, keys: Keys, quantity: str, price: str, **options: object) -> dict[str, object]:
    return placed(
        exchange, keys, symbol="BTC_USDC", side="Ask", orderType="Limit", quantity=quantity, price=price, **options
    )


def test_a_resting_limit_order_is_returned_as_backpack_does_and_locks_its_funds(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    engine_ms = int(exchange.client.get("/api/v1/time").text)

    body = ask(exchange, maker, "0.5", "60010", clientId=4294967295)
    capital = exchange.signed(maker, "GET", "/api/v1/capital", "balanceQuery").json()

    assert body == {
        "id": body["id"],
        "clientId": 4294967295,
        "createdAt": engine_ms + 1,  # on the manual clock, 1 ms after the engine's time
        "executedQuantity": "0",
        "executedQuoteQuantity": "0",
        "orderType": "Limit",
        "postOnly": False,
        "price": "60010",
        "quantity": "0.5",
        "selfTradePrevention": "RejectTaker",
        "side": "Ask",
        "status": "New",
        "symbol": "BTC_USDC",
        "timeInForce": "GTC",
    }
    assert isinstance(body["id"], str)
    assert capital["BTC"] == {"available": "0.5", "locked": "0.5", "staked": "0"}


def test_a_market_order_fills_against_the_book_and_pays_the_taker_fee(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    taker = funded(exchange, USDC="10000")
    ask(exchange, maker, "0.1", "60000")

    body = placed(exchange, taker, symbol="BTC_USDC", side="Bid", orderType="Market", quantity="0.05")
    capital = exchange.signed(taker, "GET", "/api/v1/capital", "balanceQuery").json()

    assert (body["status"], body["executedQuantity"], body["executedQuoteQuantity"]) == ("Filled", "0.05", "3000")
    assert body["timeInForce"] == "IOC"
    assert capital["BTC"]["available"] == "0.04995", "0.1% taker fee paid in the asset received"
    assert capital["USDC"] == {"available": "7000", "locked": "0", "staked": "0"}


def test_a_quote_quantity_market_order_buys_what_the_budget_allows(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    taker = funded(exchange, USDC="10000")
    ask(exchange, maker, "1", "60000")

    body = placed(exchange, taker, symbol="BTC_USDC", side="Bid", orderType="Market", quoteQuantity="100.5")

    assert (body["executedQuantity"], body["executedQuoteQuantity"], body["quoteQuantity"]) == (
        "0.00167",
        "100.2",
        "100.5",
    )


def test_orders_off_the_grid_or_unknown_markets_get_backpacks_codes(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="100000", BTC="1")
    limit = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit"}

    off_tick = order(exchange, trader, **limit, quantity="0.1", price="60000.05")
    off_step = order(exchange, trader, **limit, quantity="0.000015", price="60000")
    too_fine = order(exchange, trader, **limit, quantity="0.000000001", price="60000")
    unknown = order(exchange, trader, **{**limit, "symbol": "DOGE_USDC"}, quantity="1", price="1")
    bad_side = order(exchange, trader, **{**limit, "side": "Buy"}, quantity="1", price="1")
    number = order(exchange, trader, **limit, quantity=0.1, price="60000")
    trigger = order(exchange, trader, **limit, quantity="0.1", price="60000", triggerPrice="59000")
    big_client = order(exchange, trader, **limit, quantity="0.1", price="60000", clientId=2**32)

    assert (off_tick.status_code, off_tick.json()) == (
        400,
        {"code": "INVALID_PRICE", "message": "Price must be a multiple of BTC_USDC's tick size 0.1"},
    )
    assert (off_step.status_code, off_step.json()["code"]) == (400, "INVALID_QUANTITY")
    assert "step size 0.00001" in off_step.json()["message"]
    assert (too_fine.status_code, too_fine.json()["code"]) == (400, "INVALID_QUANTITY")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_MARKET")
    assert "listed markets are BTC_USDC, BTC_USDC_PERP" in unknown.json()["message"]
    assert bad_side.json() == {"code": "INVALID_CLIENT_REQUEST", "message": "side 'Buy' must be one of Bid, Ask"}
    assert number.json()["message"] == 'quantity must be a decimal string such as "1.5", not float'
    assert "triggerPrice" in trigger.json()["message"]
    assert "unsigned 32-bit" in big_client.json()["message"]
    assert exchange.signed(trader, "GET", "/api/v1/orders", "orderQueryAll").json() == []


def test_a_post_only_order_that_would_cross_is_refused(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    trader = funded(exchange, USDC="100000")
    ask(exchange, maker, "0.1", "60000")

    response = order(
        exchange,
        trader,
        symbol="BTC_USDC",
        side="Bid",
        orderType="Limit",
        quantity="0.1",
        price="60000",
        postOnly=True,
    )

    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ORDER")
    assert response.json()["message"] == "Post-only order would trade at once against BTC_USDC at 60000"


def test_fill_or_kill_that_cannot_fill_expires_and_ioc_expires_its_remainder(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    trader = funded(exchange, USDC="100000")
    ask(exchange, maker, "0.1", "60000")
    bid = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "price": "60000", "quantity": "0.3"}

    fok = placed(exchange, trader, **bid, timeInForce="FOK")
    ioc = placed(exchange, trader, **bid, timeInForce="IOC")

    assert (fok["status"], fok["expiryReason"], fok["executedQuantity"]) == ("Expired", "FillOrKill", "0")
    assert (ioc["status"], ioc["expiryReason"], ioc["executedQuantity"]) == ("Expired", "ImmediateOrCancel", "0.1")
    capital = exchange.signed(trader, "GET", "/api/v1/capital", "balanceQuery").json()
    assert capital["USDC"] == {"available": "94000", "locked": "0", "staked": "0"}, "nothing stays locked"


def test_self_trade_prevention_expires_the_taker_or_the_maker(exchange: Exchange) -> None:
    trader = funded(exchange, BTC="1", USDC="100000")
    resting = ask(exchange, trader, "0.1", "60000")
    bid = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "price": "60000", "quantity": "0.1"}

    taker_stopped = placed(exchange, trader, **bid)
    maker_stopped = placed(exchange, trader, **bid, selfTradePrevention="RejectMaker")

    assert (taker_stopped["status"], taker_stopped["expiryReason"]) == ("Expired", "SelfTradePrevention")
    assert maker_stopped["status"] == "New", "the taker rests once its own maker is gone"
    history = exchange.signed(trader, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll").json()
    by_id = {row["id"]: row for row in history}
    assert (by_id[resting["id"]]["status"], by_id[resting["id"]]["expiryReason"]) == ("Expired", "SelfTradePrevention")


def test_reduce_only_must_reduce_a_perp_position(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="100000")

    response = order(
        exchange, trader, symbol="BTC_USDC_PERP", side="Ask", orderType="Market", quantity="0.1", reduceOnly=True
    )

    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ORDER")
    assert response.json()["message"] == "A reduce-only order must reduce your BTC_USDC_PERP position"


def test_an_order_beyond_the_margin_is_refused_saying_what_is_available(exchange: Exchange) -> None:
    maker = funded(exchange, USDC="10000000")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Ask", orderType="Limit", quantity="10", price="60000")
    trader = funded(exchange, USDC="100")

    response = order(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="1")

    assert (response.status_code, response.json()["code"]) == (400, "INSUFFICIENT_MARGIN")
    assert response.json()["message"] == "Order would take your available margin below zero: you have 100 USD available"


def test_a_spot_order_without_the_funds_is_refused(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="10")

    response = order(exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="0.1", price="60000")

    assert (response.status_code, response.json()["code"]) == (400, "INSUFFICIENT_FUNDS")
    assert response.json()["message"].startswith("Order needs 6000 USDC")


def test_query_and_cancel_by_client_id_then_the_order_is_gone(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")
    resting = ask(exchange, maker, "0.1", "61000", clientId=42)

    found = exchange.signed(maker, "GET", "/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "clientId": 42})
    cancelled = exchange.signed(maker, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "clientId": 42})
    gone = exchange.signed(
        maker, "GET", "/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": resting["id"]}
    )
    again = exchange.signed(maker, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "clientId": 42})

    assert found.json() == resting
    assert {**cancelled.json(), "status": "New"} == resting
    assert cancelled.json()["status"] == "Cancelled"
    assert (gone.status_code, gone.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    assert (again.status_code, again.json()) == (
        404,
        {"code": "RESOURCE_NOT_FOUND", "message": "No open BTC_USDC order with clientId 42"},
    )
    capital = exchange.signed(maker, "GET", "/api/v1/capital", "balanceQuery").json()
    assert capital["BTC"]["locked"] == "0"


def test_cancel_needs_exactly_one_of_order_id_and_client_id(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="1")

    neither = exchange.signed(maker, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC"})
    bad_id = exchange.signed(maker, "GET", "/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": "x1"})

    assert (neither.status_code, neither.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert (bad_id.status_code, bad_id.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


def test_open_orders_filter_by_symbol_and_market_type_and_cancel_all_returns_them(exchange: Exchange) -> None:
    trader = funded(exchange, BTC="1", USDC="100000")
    first = ask(exchange, trader, "0.1", "61000")
    second = ask(exchange, trader, "0.1", "62000")
    perp = placed(
        exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="0.1", price="55000"
    )

    spot_only = exchange.signed(trader, "GET", "/api/v1/orders", "orderQueryAll", {"marketType": "SPOT"}).json()
    perp_only = exchange.signed(trader, "GET", "/api/v1/orders", "orderQueryAll", {"symbol": "BTC_USDC_PERP"}).json()
    cancelled = exchange.signed(trader, "DELETE", "/api/v1/orders", "orderCancelAll", {"symbol": "BTC_USDC"}).json()
    left = exchange.signed(trader, "GET", "/api/v1/orders", "orderQueryAll").json()

    assert [row["id"] for row in spot_only] == [first["id"], second["id"]]
    assert [row["id"] for row in perp_only] == [perp["id"]]
    assert [(row["id"], row["status"]) for row in cancelled] == [
        (first["id"], "Cancelled"),
        (second["id"], "Cancelled"),
    ]
    assert [row["id"] for row in left] == [perp["id"]]


def _signed_batch(exchange: Exchange, keys: Keys, items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Sign a batch the way ccxt and Backpack's docs do: one instruction run per item, then time and window."""
    timestamp, window = int(time.time() * 1000), 5000
    runs = ["&".join(["instruction=orderExecute", *(f"{k}={v}" for k, v in sorted(item.items()))]) for item in items]
    text = "&".join([*runs, f"timestamp={timestamp}&window={window}"])
    signature = SigningKey(base64.b64decode(keys.api_secret)).sign(text.encode()).signature
    headers = {
        "X-API-Key": keys.api_key,
        "X-Signature": base64.b64encode(signature).decode(),
        "X-Timestamp": str(timestamp),
        "X-Window": str(window),
        "Content-Type": "application/json",
    }
    response = exchange.client.post("/api/v1/orders", content=json.dumps(items), headers=headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, object]] = response.json()
    return body


def test_a_batch_runs_each_order_and_reports_the_bad_one_in_place(exchange: Exchange) -> None:
    trader = funded(exchange, BTC="1")
    item = {"symbol": "BTC_USDC", "side": "Ask", "orderType": "Limit", "quantity": "0.1"}

    results = _signed_batch(
        exchange, trader, [{**item, "price": "61000"}, {**item, "price": "61000.05"}, {**item, "price": "62000"}]
    )

    assert [row["operation"] for row in results] == ["Ok", "Err", "Ok"]
    assert results[1] == {
        "operation": "Err",
        "code": "INVALID_PRICE",
        "message": "Price must be a multiple of BTC_USDC's tick size 0.1",
    }
    assert [row["price"] for row in (results[0], results[2])] == ["61000", "62000"]
    assert len(exchange.signed(trader, "GET", "/api/v1/orders", "orderQueryAll").json()) == 2


def test_a_batch_with_a_wrong_signature_or_shape_is_refused(exchange: Exchange) -> None:
    trader = funded(exchange, BTC="1")
    headers = {"X-API-Key": trader.api_key, "X-Signature": base64.b64encode(bytes(64)).decode()}
    headers["X-Timestamp"] = str(int(time.time() * 1000))

    unsigned = exchange.client.post("/api/v1/orders", content=json.dumps([{"symbol": "BTC_USDC"}]), headers=headers)
    not_a_list = exchange.client.post("/api/v1/orders", content=json.dumps({"symbol": "BTC_USDC"}), headers=headers)

    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "UNAUTHORIZED")
    assert (not_a_list.status_code, not_a_list.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
