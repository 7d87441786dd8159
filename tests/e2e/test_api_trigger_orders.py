"""Trigger orders, stop losses and take profits end to end (in-process ASGI), as Backpack shows them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import funded, order, placed, trading_exchange

PERP = "BTC_USDC_PERP"


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def set_btc(exchange: Exchange, price: str) -> None:
    response = exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": price}})
    assert response.status_code == 200, response.text


def quote(exchange: Exchange, symbol: str = "BTC_USDC") -> Keys:
    """A maker with a bid at 59990 and an ask at 60010, one BTC each."""
    maker = funded(exchange, BTC="10", USDC="1000000")
    for side, price in (("Bid", "59990"), ("Ask", "60010")):
        placed(exchange, maker, symbol=symbol, side=side, orderType="Limit", quantity="1", price=price)
    return maker


def history(exchange: Exchange, keys: Keys, order_id: object) -> dict[str, object]:
    rows = exchange.signed(keys, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", {"orderId": order_id})
    assert rows.status_code == 200, rows.text
    (row,) = rows.json()
    return row  # type: ignore[no-any-return]


def open_orders(exchange: Exchange, keys: Keys, symbol: str) -> list[dict[str, object]]:
    response = exchange.signed(keys, "GET", "/api/v1/orders", "orderQueryAll", {"symbol": symbol})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_trigger_order_is_pending_listed_and_fires_when_the_index_reaches_it(exchange: Exchange) -> None:
    quote(exchange)
    trader = funded(exchange, USDC="10000")
    body = placed(
        exchange,
        trader,
        symbol="BTC_USDC",
        side="Bid",
        orderType="Market",
        triggerPrice="61000",
        triggerQuantity="0.01",
        triggerBy="IndexPrice",
    )
    assert body == {
        "id": body["id"],
        "createdAt": body["createdAt"],
        "executedQuantity": "0",
        "executedQuoteQuantity": "0",
        "orderType": "Market",
        "selfTradePrevention": "RejectTaker",
        "side": "Bid",
        "status": "TriggerPending",
        "symbol": "BTC_USDC",
        "timeInForce": "IOC",
        "triggerBy": "IndexPrice",
        "triggerPrice": "61000",
        "triggerQuantity": "0.01",
    }
    assert [row["id"] for row in open_orders(exchange, trader, "BTC_USDC")] == [body["id"]]
    one = exchange.signed(trader, "GET", "/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": body["id"]})
    assert one.json()["status"] == "TriggerPending"
    account = exchange.signed(trader, "GET", "/api/v1/account", "accountQuery").json()
    assert account["triggerOrders"] == 1

    set_btc(exchange, "60900")
    assert history(exchange, trader, body["id"])["status"] == "TriggerPending"
    set_btc(exchange, "61000")

    fired = history(exchange, trader, body["id"])
    assert (fired["status"], fired["executedQuantity"], fired["quantity"]) == ("Filled", "0.01", "0.01")
    assert isinstance(fired["triggeredAt"], int)
    assert open_orders(exchange, trader, "BTC_USDC") == []


def test_trigger_price_and_quantity_come_together_as_on_backpack(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="10000")
    base = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Market"}
    alone = order(exchange, trader, **base, quantity="0.01", triggerPrice="61000")
    bad_by = order(exchange, trader, **base, triggerQuantity="0.01", triggerPrice="61000", triggerBy="Oracle")
    slippage = order(exchange, trader, **base, quantity="0.01", slippageTolerance="1")
    spot_stop = order(exchange, trader, **base, quantity="0.01", stopLossTriggerPrice="50000")
    assert alone.json() == {
        "code": "INVALID_CLIENT_REQUEST",
        "message": "Must specify both `triggerPrice` and `triggerQuantity` or neither",
    }
    assert bad_by.json()["message"] == "triggerBy 'Oracle' must be one of MarkPrice, LastPrice, IndexPrice"
    assert "slippageTolerance" in slippage.json()["message"]
    assert (spot_stop.status_code, spot_stop.json()["code"]) == (400, "INVALID_ORDER")
    assert "perpetual" in spot_stop.json()["message"]


def test_a_pending_trigger_is_cancelled_one_at_a_time_or_by_cancel_all_conditional(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="10000")
    trigger = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Market", "triggerQuantity": "0.01"}
    first = placed(exchange, trader, **trigger, triggerPrice="61000")
    second = placed(exchange, trader, **trigger, triggerPrice="62000")
    resting = placed(exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="0.01", price="50000")

    cancelled = exchange.signed(
        trader, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "orderId": first["id"]}
    )
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "Cancelled")
    conditional = exchange.signed(
        trader, "DELETE", "/api/v1/orders", "orderCancelAll", {"symbol": "BTC_USDC", "orderType": "ConditionalOrder"}
    )
    assert [row["id"] for row in conditional.json()] == [second["id"]]
    assert [row["id"] for row in open_orders(exchange, trader, "BTC_USDC")] == [resting["id"]]
    assert history(exchange, trader, first["id"])["status"] == "Cancelled"
    assert "quantity" not in history(exchange, trader, first["id"]), "a trigger that never fired has no quantity"


def test_an_order_with_stop_loss_and_take_profit_closes_its_position_at_the_stop(exchange: Exchange) -> None:
    quote(exchange, PERP)
    trader = funded(exchange, USDC="10000")
    parent = placed(
        exchange,
        trader,
        symbol=PERP,
        side="Bid",
        orderType="Market",
        quantity="0.1",
        stopLossTriggerPrice="59000",
        stopLossTriggerBy="MarkPrice",
        takeProfitTriggerPrice="62000",
        takeProfitLimitPrice="62000",
    )
    assert (parent["status"], parent["stopLossTriggerPrice"], parent["takeProfitLimitPrice"]) == (
        "Filled",
        "59000",
        "62000",
    )
    (child,) = open_orders(exchange, trader, PERP)
    assert (child["status"], child["side"], child["reduceOnly"], child["relatedOrderId"]) == (
        "TriggerPending",
        "Ask",
        True,
        parent["id"],
    )
    assert (child["triggerQuantity"], child["stopLossTriggerBy"], child["takeProfitTriggerBy"]) == (
        "0.1",
        "MarkPrice",
        "LastPrice",
    )

    set_btc(exchange, "58000")

    assert open_orders(exchange, trader, PERP) == []
    assert history(exchange, trader, child["id"])["status"] == "Filled"
    positions = exchange.signed(trader, "GET", "/api/v1/position", "positionQuery").json()
    assert [row["netQuantity"] for row in positions if row["symbol"] == PERP] in ([], ["0"])


def test_a_trigger_that_cannot_be_honoured_is_trigger_failed_with_its_reason(exchange: Exchange) -> None:
    quote(exchange, PERP)
    trader = funded(exchange, USDC="100")
    body = placed(
        exchange,
        trader,
        symbol=PERP,
        side="Bid",
        orderType="Market",
        triggerPrice="61000",
        triggerQuantity="1",
        triggerBy="IndexPrice",
    )
    set_btc(exchange, "61000")
    failed = history(exchange, trader, body["id"])
    assert (failed["status"], failed["expiryReason"]) == ("TriggerFailed", "InsufficientMargin")


def test_cancelling_a_resting_order_cancels_its_unfilled_stop_loss_and_answers_with_the_order(
    exchange: Exchange,
) -> None:
    trader = funded(exchange, USDC="10000")
    parent = placed(
        exchange,
        trader,
        symbol=PERP,
        side="Bid",
        orderType="Limit",
        quantity="0.1",
        price="55000",
        stopLossTriggerPrice="50000",
    )
    (child,) = [row for row in open_orders(exchange, trader, PERP) if row["status"] == "TriggerPending"]
    assert (child["relatedOrderId"], child["triggerQuantity"]) == (parent["id"], "0")

    cancelled = exchange.signed(
        trader, "DELETE", "/api/v1/order", "orderCancel", {"symbol": PERP, "orderId": parent["id"]}
    )

    assert (cancelled.status_code, cancelled.json()["id"], cancelled.json()["status"]) == (
        200,
        parent["id"],
        "Cancelled",
    )
    assert open_orders(exchange, trader, PERP) == []
    assert history(exchange, trader, child["id"])["status"] == "Cancelled"
