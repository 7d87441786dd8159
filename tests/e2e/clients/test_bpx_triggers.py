"""bpx-py placing trigger orders and a stop loss / take profit, fired by a trade and by the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-bpx"
SCRIPT = "bpx_triggers.py"


def test_bpx_py_trigger_orders_rest_cancel_and_fire_on_the_last_price_and_the_index(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"BTC": "10", "USDC": "1000000"})
        trader = exchange.new_account({"USDC": "100000"})
        taker = exchange.new_account({"USDC": "100000"})
        quoted = exchange.run_client(VENV, SCRIPT, maker, "maker")
        placed = exchange.run_client(VENV, SCRIPT, trader, "place")
        traded = exchange.run_client(VENV, SCRIPT, taker, "taker")
        response = exchange.admin.post("/admin/v1/prices", json={"prices": {"BTC": "58000"}})
        assert response.status_code == 200, response.text
        after = exchange.run_client(VENV, SCRIPT, trader, "after")

    assert ok(quoted, "BTC_USDC ask")["status"] == "New"
    trigger = ok(placed, "trigger_buy")
    assert (trigger["status"], trigger["triggerPrice"], trigger["triggerQuantity"], trigger["triggerBy"]) == (
        "TriggerPending",
        "60010",
        "0.01",
        "LastPrice",
    )
    bracketed = ok(placed, "bracketed_buy")
    assert (bracketed["status"], bracketed["stopLossTriggerBy"], bracketed["takeProfitLimitPrice"]) == (
        "Filled",
        "IndexPrice",
        "62000",
    )
    limit = ok(placed, "limit_trigger")
    assert [order["id"] for order in ok(placed, "get_open_orders")] == [trigger["id"], limit["id"]]
    (child,) = ok(placed, "get_open_perp_orders")
    assert (child["relatedOrderId"], child["triggerQuantity"]) == (bracketed["id"], "0.1")
    assert ok(placed, "get_open_order")["status"] == "TriggerPending"
    assert ok(placed, "cancel_order")["status"] == "Cancelled"
    assert ok(traded, "market_buy")["status"] == "Filled"

    spot = {row["id"]: row for row in ok(after, "spot_history")}
    assert (spot[trigger["id"]]["status"], spot[trigger["id"]]["executedQuantity"]) == ("Filled", "0.01")
    assert spot[limit["id"]]["status"] == "Cancelled"
    perp = {row["id"]: row for row in ok(after, "perp_history")}
    assert (perp[child["id"]]["status"], perp[child["id"]]["executedQuantity"]) == ("Filled", "0.1")
    assert ok(after, "get_open_perp_orders") == []
