"""ccxt pro's `backpack` class against a live server's WebSocket streams, pointed at `ws://127.0.0.1:PORT/`.

The script (scripts/ccxt_ws_client.py) watches the BTC/USDC book and trades and the maker's orders,
positions and balance, then places orders over REST with ccxt's own `create_order`: a resting bid
from the maker and a smaller crossing ask from the taker, on BTC/USDC and on the BTC perp.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from real_clients import DROPPED_ENVIRONMENT, SCRIPT_TIMEOUT_S, SCRIPTS, client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"


def test_ccxt_pro_watches_the_book_trades_orders_positions_and_balance(tmp_path: Path) -> None:
    python = client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"USDC": "100000"})
        taker = exchange.new_account({"BTC": "1", "USDC": "100000"})
        environment = {name: value for name, value in os.environ.items() if name not in DROPPED_ENVIRONMENT}
        environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
        keys = [maker.api_key, maker.api_secret, taker.api_key, taker.api_secret]
        finished = subprocess.run(
            [str(python), str(SCRIPTS / "ccxt_ws_client.py"), exchange.base_url, *keys],
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            env=environment,
            check=False,
        )
    assert finished.returncode == 0, finished.stderr
    results = json.loads(finished.stdout)

    bid = ok(results, "placed")[0]
    book = ok(results, "watch_order_book")
    assert book["symbol"] == "BTC/USDC"
    assert book["bids"][0] == [60000.0, 0.008], "the maker's bid, less the 0.002 the taker sold into it"
    books = ok(results, "books")
    assert books["stream"] == books["rest"], "the book kept from depth updates equals GET /api/v1/depth"

    trade = ok(results, "watch_trades")[0]
    assert (trade["symbol"], trade["price"], trade["amount"], trade["side"]) == ("BTC/USDC", 60000.0, 0.002, "sell")

    orders = {order["id"]: order for order in ok(results, "watch_orders")}
    assert (orders[bid]["symbol"], orders[bid]["status"], orders[bid]["side"], orders[bid]["amount"]) == (
        "BTC/USDC",
        "open",
        "buy",
        0.01,
    )

    position = ok(results, "watch_positions")[0]
    assert (position["symbol"], position["side"], float(position["contracts"]), float(position["entryPrice"])) == (
        "BTC/USDC:USDC",
        "long",
        0.002,
        60000.0,
    )
    balance = ok(results, "watch_balance")
    assert balance, "a balance update arrived for the maker"
