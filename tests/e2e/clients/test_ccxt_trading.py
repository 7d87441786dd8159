"""ccxt's `backpack` class trading against a live server: every unified trading call a bot makes.

A maker quotes BTC/USDC and the BTC perp (the perp quotes as one `create_orders` batch, signed as
Backpack signs batches), places one more order, finds it and cancels it; a taker buys against the
quotes with market orders and reads back the order, the book, public and own trades, candles,
its perp position, the funding rate and open interest; the maker then cancels all its spot
orders. The live server may also run a demo market maker; the quotes here sit inside its spread,
so they are the best prices.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_trading.py"


def test_ccxt_places_finds_fills_and_cancels_orders_and_reads_market_data_and_positions(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"BTC": "10", "USDC": "1000000"})
        taker = exchange.new_account({"USDC": "100000"})
        quoted = exchange.run_client(VENV, SCRIPT, maker, "maker")
        traded = exchange.run_client(VENV, SCRIPT, taker, "taker")
        cleaned = exchange.run_client(VENV, SCRIPT, maker, "cleanup")

    markets = ok(quoted, "load_markets")
    assert "BTC/USDC:USDC" in markets["symbols"]
    perp = markets["BTC/USDC:USDC"]
    assert (perp["id"], perp["type"], perp["swap"], perp["settle"]) == ("BTC_USDC_PERP", "swap", True, "USDC")
    assert perp["precision"] == {"amount": 1e-05, "price": 0.1}

    sell = ok(quoted, "sell_limit")
    assert (sell["status"], sell["clientOrderId"], sell["price"], sell["amount"]) == ("open", "11", 60010.0, 0.5)
    assert [order["side"] for order in ok(quoted, "perp_quotes")] == ["sell", "buy"]
    extra = ok(quoted, "extra_limit")
    assert [order["id"] for order in ok(quoted, "fetch_open_orders")] == [
        sell["id"],
        ok(quoted, "buy_limit")["id"],
        extra["id"],
    ]
    assert ok(quoted, "fetch_open_order") == extra
    assert ok(quoted, "cancel_order")["status"] == "canceled"

    bought = ok(traded, "market_buy")
    assert (bought["status"], bought["filled"], bought["cost"], bought["type"]) == ("closed", 0.1, 6001.0, "market")
    assert ok(traded, "perp_market_buy")["filled"] == 0.2
    assert ok(traded, "fetch_order") == bought, "found in the order history once closed"
    book = ok(traded, "fetch_order_book")
    assert (book["bids"][0], book["asks"][0]) == ([59990.0, 0.5], [60010.0, 0.4]), "ccxt sorts best first"
    assert [(trade["price"], trade["amount"], trade["side"]) for trade in ok(traded, "fetch_trades")] == [
        (60010.0, 0.1, "buy")
    ]
    (mine,) = ok(traded, "fetch_my_trades")
    assert (mine["order"], mine["takerOrMaker"], mine["fee"], mine["feeCurrency"]) == (
        bought["id"],
        "taker",
        0.0001,
        "BTC",
    )
    (candle,) = ok(traded, "fetch_ohlcv")
    assert candle[1:] == [60010.0, 60010.0, 60010.0, 60010.0, 0.1]
    (position,) = ok(traded, "fetch_positions")
    assert (position["symbol"], position["side"], position["contracts"], position["entryPrice"]) == (
        "BTC/USDC:USDC",
        "long",
        "0.2",
        "60010",
    )
    funding = ok(traded, "fetch_funding_rate")
    assert (funding["symbol"], funding["indexPrice"], funding["fundingRate"]) == ("BTC/USDC:USDC", 60000.0, 0.0)
    assert funding["nextFundingTimestamp"] % 3_600_000 == 0
    assert ok(traded, "fetch_open_interest") == 0.2

    cancelled = ok(cleaned, "cancel_all_orders")
    assert [(order["id"], order["status"], order["filled"]) for order in cancelled] == [
        (sell["id"], "canceled", 0.1),
        (ok(quoted, "buy_limit")["id"], "canceled", 0.0),
    ]
    assert ok(cleaned, "fetch_open_orders") == []
