"""bpx-py against a live server: public markets and tickers, borrow-lend, account, capital, collateral, history.

bpx-py signs booleans as `true` but sends GET booleans through requests as `True`; the server
accepts both. Known gaps of the client itself (not exercised): `update_account` drops every
false value (`if auto_lend:`), so it cannot turn a setting off, and `Public.get_market` asks
for `/api/v1/markets/{symbol}`, a path Backpack's spec does not have (`/api/v1/market?symbol=`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-bpx"
SCRIPT = "bpx_client.py"


def test_bpx_py_borrows_and_reads_account_capital_collateral_and_history(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        credentials = exchange.new_account({"BTC": "1", "USDC": "1000"})
        opened = exchange.run_client(VENV, SCRIPT, credentials, "open")
        exchange.advance(3600)
        read = exchange.run_client(VENV, SCRIPT, credentials, "read")

    assert [market["symbol"] for market in ok(opened, "get_markets")] == [
        "BTC_USDC",
        "BTC_USDC_PERP",
        "ETH_USDC",
        "ETH_USDC_PERP",
        "SOL_USDC",
        "SOL_USDC_PERP",
        "USDT_USDC",
    ]
    assert ok(opened, "get_ticker")["lastPrice"] == "60000"
    assert len(ok(opened, "get_tickers")) == 7
    assert ok(opened, "get_balances")["USDC"] == {"available": "1000", "locked": "0", "staked": "0"}
    assert ok(opened, "execute_borrow_lend") == ""
    assert ok(opened, "update_account") == ""

    account = ok(read, "get_account")
    assert (account["leverageLimit"], account["autoBorrowSettlements"]) == ("5", True)
    (position,) = ok(read, "get_borrow_lend_positions")
    assert position["symbol"] == "USDC"
    assert Decimal(position["netQuantity"]) < Decimal(-100)
    collateral = ok(read, "get_collateral")
    assert collateral["borrowLiability"] == position["netExposureNotional"]
    assert {row["symbol"] for row in collateral["collateral"]} == {"BTC", "USDC"}
    assert ok(read, "get_max_borrow_quantity")["symbol"] == "USDC"
    withdrawal = ok(read, "get_max_withdrawal_quantity")
    assert (withdrawal["autoBorrow"], withdrawal["autoLendRedeem"]) == (True, False)
    assert Decimal(withdrawal["maxWithdrawalQuantity"]) > 1, "auto-borrow lets more BTC out than is held"
    history = ok(read, "get_borrow_history")
    assert [(row["eventType"], row["source"], row["quantity"]) for row in history] == [("Borrow", "Manual", "100")]
    assert [row["paymentType"] for row in ok(read, "get_interest_history")] == ["Borrow", "EntryFee"]
    assert ok(read, "get_balances")["USDC"]["available"] == "1100"
