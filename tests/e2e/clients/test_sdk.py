"""backpack-exchange-sdk against a live server: markets, tickers, borrow-lend, account, capital, history.

The SDK takes `base_url` in both clients' constructors, signs booleans as `true`, sends GET
booleans through requests as `True`, and raises `BackpackAPIError` on an error response.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-sdk"
SCRIPT = "sdk_client.py"


def test_backpack_exchange_sdk_borrows_and_reads_account_capital_and_history(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        credentials = exchange.new_account({"BTC": "1", "USDC": "1000"})
        opened = exchange.run_client(VENV, SCRIPT, credentials, "open")
        exchange.advance(3600)
        read = exchange.run_client(VENV, SCRIPT, credentials, "read")

    assert len(ok(opened, "get_markets")) == 7
    market = ok(opened, "get_market")
    assert (market["symbol"], market["marketType"], market["orderBookState"]) == ("BTC_USDC", "SPOT", "Open")
    assert ok(opened, "get_ticker")["lastPrice"] == "60000"
    assert {ticker["symbol"] for ticker in ok(opened, "get_tickers")} == {
        "BTC_USDC",
        "BTC_USDC_PERP",
        "ETH_USDC",
        "ETH_USDC_PERP",
        "SOL_USDC",
        "SOL_USDC_PERP",
        "USDT_USDC",
    }
    assert ok(opened, "get_balances")["BTC"]["available"] == "1"
    assert ok(opened, "execute_borrow_lend") is None, "the SDK returns None for an empty 200"
    assert ok(opened, "update_account") is None

    assert ok(read, "get_account")["leverageLimit"] == "5"
    (position,) = ok(read, "get_borrow_lend_positions")
    assert Decimal(position["netQuantity"]) < Decimal(-100)
    assert ok(read, "get_collateral")["borrowLiability"] == position["netExposureNotional"]
    assert ok(read, "get_max_borrow_quantity")["symbol"] == "USDC"
    assert ok(read, "get_max_withdrawal_quantity")["autoBorrow"] is True
    history = ok(read, "get_borrow_history")
    assert [(row["eventType"], row["source"]) for row in history] == [("Borrow", "Manual")]
    interest = ok(read, "get_interest_history")
    assert [row["paymentType"] for row in interest] == ["Borrow", "EntryFee"]
    (closed_or_open,) = ok(read, "get_borrow_position_history")
    assert (closed_or_open["side"], closed_or_open["quantity"]) == (
        "Borrow",
        position["netExposureQuantity"].lstrip("-"),
    )
    assert ok(read, "get_balances")["USDC"]["available"] == "1100"
