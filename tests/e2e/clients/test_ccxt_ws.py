"""ccxt pro's `backpack` class against a live server's WebSocket streams, pointed at `ws://127.0.0.1:PORT/`.

The script (scripts/ccxt_ws_client.py) watches the BTC/USDC book, trades, ticker and best bid/ask
(`watchBidsAsks`, Backpack's `bookTicker`) and the maker's orders, positions and balance, then places orders over REST with ccxt's own `create_order`: a resting bid
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


def test_ccxt_pro_watches_the_book_trades_ticker_bids_asks_orders_positions_and_balance(tmp_path: Path) -> None:
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

    placed = ok(results, "placed")  # per round: spot bid, spot ask, perp bid, perp ask
    book = ok(results, "watch_order_book")
    assert book["symbol"] == "BTC/USDC"
    assert book["bids"][0][0] == 60000.0, "the maker's first bid: every later ask of the taker's sells into it first"
    assert book["bids"][0][1] in (0.008, 0.006, 0.004, 0.002), "less 0.002 per round played before the book came"
    books = ok(results, "books")
    assert books["stream"] == books["rest"], "the book kept from depth updates equals GET /api/v1/depth"

    trade = ok(results, "watch_trades")[0]
    assert (trade["symbol"], trade["amount"], trade["side"]) == ("BTC/USDC", 0.002, "sell")
    assert trade["price"] == 60000.0, "every taker ask sells into the first bid, the best"

    prices = {60000.0 - round_number for round_number in range(5)}
    ticker = ok(results, "watch_ticker")
    assert ticker["symbol"] == "BTC/USDC"
    assert ticker["last"] in prices, ticker
    assert ticker["baseVolume"] > 0, "the 24-hour volume of the fills so far"
    assert ticker["timestamp"] > 1_000_000_000_000, "ccxt read E as microseconds into milliseconds"
    (top,) = ok(results, "watch_bids_asks").values()
    assert top["bid"] == 60000.0, "the best bid is always the maker's first"
    assert top["bidVolume"] in (0.01, 0.008, 0.006, 0.004, 0.002), "its quantity, before or after the taker's sales"
    assert top["ask"] > top["bid"], "the best ask (the demo market maker's quote) above it"
    assert top["askVolume"] > 0

    # ccxt acknowledges no subscription, so a watcher may first hear a later round than the first.
    orders = {order["id"]: order for order in ok(results, "watch_orders")}
    heard = [orders[order_id] for order_id in placed[0::2] if order_id in orders]
    assert heard, "an update of one of the maker's bids"
    assert (heard[0]["symbol"], heard[0]["side"], heard[0]["amount"]) == (
        "BTC/USDC" if heard[0]["id"] in placed[0::4] else "BTC/USDC:USDC",
        "buy",
        0.01,
    )

    position = ok(results, "watch_positions")[0]
    assert (position["symbol"], position["side"]) == ("BTC/USDC:USDC", "long")
    assert float(position["contracts"]) in (0.002, 0.004, 0.006, 0.008, 0.01), "0.002 bought per round"
    assert 59996 <= float(position["entryPrice"]) <= 60000
    balance = ok(results, "watch_balance")
    assert balance, "a balance update arrived for the maker"
