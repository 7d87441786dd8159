"""`account.orderUpdate` for trigger orders: accepted pending, then `triggerPlaced` or `triggerFailed`."""

from __future__ import annotations

from tests.e2e.test_streams_backpack import data_on, live, subscribe

STREAM = "account.orderUpdate"


def test_a_trigger_order_streams_accepted_then_placed_and_filled_or_failed() -> None:
    with live() as market:
        maker = market.account(BTC="1", USDC="100000")
        market.order(maker, "BTC_USDC", "Ask", "0.5", "60010")
        market.order(maker, "BTC_USDC_PERP", "Ask", "1", "60010")
        trader = market.account(USDC="10000")
        poor = market.account(USDC="10")
        trigger = {"orderType": "Market", "triggerPrice": "61000", "triggerBy": "IndexPrice"}
        with market.socket() as socket:
            subscribe(socket, STREAM, keys=trader)
            body = {"symbol": "BTC_USDC", "side": "Bid", "triggerQuantity": "0.01", **trigger}
            placed = market.exchange.signed(trader, "POST", "/api/v1/order", "orderExecute", body)
            assert placed.status_code == 200, placed.text
            accepted = data_on(socket, STREAM)
            assert market.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "61000"}}).is_success
            fired = data_on(socket, STREAM)
            fill = data_on(socket, STREAM)
        with market.socket() as socket:
            subscribe(socket, STREAM, keys=poor)
            again = {
                "symbol": "BTC_USDC_PERP",
                "side": "Bid",
                "triggerQuantity": "1",
                **trigger,
                "triggerPrice": "62000",
            }
            assert market.exchange.signed(poor, "POST", "/api/v1/order", "orderExecute", again).status_code == 200
            pending = data_on(socket, STREAM)
            assert market.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "62000"}}).is_success
            failed = data_on(socket, STREAM)

    assert (accepted["e"], accepted["X"], accepted["P"], accepted["B"], accepted["Y"]) == (
        "orderAccepted",
        "TriggerPending",
        "61000",
        "IndexPrice",
        "0.01",
    )
    assert accepted["i"] == placed.json()["id"]
    assert (fired["e"], fired["X"], fired["i"], fired["P"]) == ("triggerPlaced", "New", accepted["i"], "61000")
    assert (fill["e"], fill["X"], fill["l"], fill["L"]) == ("orderFill", "Filled", "0.01", "60010")
    assert pending["X"] == "TriggerPending"
    assert (failed["e"], failed["X"], failed["R"], failed["i"]) == (
        "triggerFailed",
        "TriggerFailed",
        "InsufficientMargin",
        pending["i"],
    )


def test_a_pending_limit_trigger_changes_no_depth_level() -> None:
    with live() as market:
        trader = market.account(USDC="100000")
        with market.socket() as socket:
            subscribe(socket, "depth.BTC_USDC")
            body = {
                "symbol": "BTC_USDC",
                "side": "Bid",
                "orderType": "Limit",
                "price": "50000",
                "triggerPrice": "55000",
                "triggerQuantity": "0.01",
            }
            placed = market.exchange.signed(trader, "POST", "/api/v1/order", "orderExecute", body)
            assert placed.status_code == 200, placed.text
            market.order(trader, "BTC_USDC", "Bid", "0.1", "59000")
            depth = data_on(socket, "depth.BTC_USDC")

    assert (depth["b"], depth["a"]) == ([["59000", "0.1"]], [])
