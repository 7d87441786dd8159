"""ccxt's `backpack` class placing trigger orders, stop losses and take profits, fired by price moves.

ccxt sends a trigger order's size as `triggerQuantity` and maps its `stopLoss` / `takeProfit`
params to Backpack's `stopLossTriggerPrice` / `takeProfitTriggerPrice` (and limit prices); its
unified `stopLossPrice` param it passes through unmapped, which the server refuses saying what to
send instead (Backpack would place the order without the stop loss).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_triggers.py"


def test_ccxt_trigger_stop_loss_and_take_profit_orders_rest_fire_and_cancel(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"BTC": "10", "USDC": "1000000"})
        trader = exchange.new_account({"USDC": "100000"})
        quoted = exchange.run_client(VENV, SCRIPT, maker, "maker")
        placed = exchange.run_client(VENV, SCRIPT, trader, "place")
        for price in ("61000", "58000"):
            response = exchange.admin.post("/admin/v1/prices", json={"prices": {"BTC": price}})
            assert response.status_code == 200, response.text
        after = exchange.run_client(VENV, SCRIPT, trader, "after")

    assert ok(quoted, "BTC/USDC:USDC bid")["status"] == "open"
    trigger = ok(placed, "trigger_buy")
    assert (trigger["status"], trigger["amount"], trigger["triggerPrice"]) == ("open", 0.01, 61000.0)
    assert trigger["raw"]["status"] == "TriggerPending"
    bracketed = ok(placed, "bracketed_buy")
    assert (bracketed["status"], bracketed["filled"]) == ("closed", 0.1)
    assert (bracketed["stopLossPrice"], bracketed["takeProfitPrice"]) == (59000.0, 62000.0)
    position_tp = ok(placed, "position_take_profit")
    assert (position_tp["raw"]["status"], position_tp["takeProfitPrice"], position_tp["amount"]) == (
        "TriggerPending",
        63000.0,
        0.05,
    )
    outcome = placed["stop_loss_price"]
    assert isinstance(outcome, dict)
    refused = outcome["error"]
    assert "stopLossPrice is not a field of Backpack's order payload" in refused
    assert "stopLossTriggerPrice" in refused
    assert [order["raw"]["status"] for order in ok(placed, "open_spot")] == ["TriggerPending", "TriggerPending"]
    children = ok(placed, "open_perp")
    assert [(order["side"], order["raw"].get("relatedOrderId")) for order in children] == [
        ("sell", bracketed["id"]),
        ("sell", None),
    ]
    assert children[0]["raw"]["reduceOnly"] is True
    assert ok(placed, "cancel_trigger")["status"] == "canceled"

    by_id = {order["id"]: order for order in ok(after, "spot_orders")}
    assert (by_id[trigger["id"]]["status"], by_id[trigger["id"]]["filled"]) == ("closed", 0.01)
    assert by_id[trigger["id"]]["raw"]["triggeredAt"] is not None
    perp = {order["id"]: order for order in ok(after, "perp_orders")}
    stop = perp[children[0]["id"]]
    assert (stop["status"], stop["filled"], stop["side"]) == ("closed", 0.1, "sell")
    assert [order["id"] for order in ok(after, "open_perp")] == [position_tp["id"]], "the position's TP waits"
    assert all(float(contracts) == 0 for contracts in ok(after, "positions"))
