"""ccxt's `backpack` class against a live server: load_markets, fetch_balance, fetch_ticker, raw borrow-lend calls.

ccxt signs every private call itself (values urlencoded, booleans as `true`), and the server
verifies it. The raw implicit methods are the ones a bot uses for borrowing: POST borrowLend,
GET and PATCH account, GET borrowLend positions, GET history interest and borrowLend.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_client.py"


def test_ccxt_loads_markets_reads_balances_and_tickers_borrows_and_sees_the_interest(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        credentials = exchange.new_account({"BTC": "1", "USDC": "1000"})
        opened = exchange.run_client(VENV, SCRIPT, credentials, "open")
        exchange.advance(3600)
        read = exchange.run_client(VENV, SCRIPT, credentials, "read")

    markets = ok(opened, "load_markets")
    assert markets["symbols"] == [
        "BTC/USDC",
        "BTC/USDC:USDC",
        "ETH/USDC",
        "ETH/USDC:USDC",
        "SOL/USDC",
        "SOL/USDC:USDC",
        "USDT/USDC",
    ]
    btc = markets["BTC/USDC"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"], btc["spot"], btc["active"]) == (
        "BTC_USDC",
        "BTC",
        "USDC",
        "spot",
        True,
        True,
    )
    assert btc["precision"] == {"amount": 1e-05, "price": 0.1}, "the BTC_USDC book's step and tick"
    assert btc["limits"]["amount"]["min"] == 1e-05
    assert ok(opened, "fetch_balance") == {
        "BTC": {"free": 1.0, "used": 0.0, "total": 1.0},
        "USDC": {"free": 1000.0, "used": 0.0, "total": 1000.0},
    }
    ticker = ok(opened, "fetch_ticker")
    assert (ticker["symbol"], ticker["last"], ticker["open"], ticker["change"], ticker["baseVolume"]) == (
        "BTC/USDC",
        60000.0,
        60000.0,
        0.0,
        0.0,
    )
    assert ok(opened, "post_borrow_lend") == "", "POST borrowLend answers 200 with an empty body"
    assert ok(opened, "patch_account") == ""

    account = ok(read, "get_account")
    assert (account["leverageLimit"], account["autoBorrowSettlements"], account["autoLend"]) == ("5", True, False)
    (position,) = ok(read, "get_borrow_lend_positions")
    assert position["symbol"] == "USDC"
    assert Decimal(position["netQuantity"]) < Decimal(-100), "the debt grew by the entry fee and an hour's interest"
    interest = ok(read, "get_interest_history")
    assert [row["paymentType"] for row in interest] == ["Borrow", "EntryFee"]
    assert Decimal(position["cumulativeInterest"]) == sum(Decimal(row["quantity"]) for row in interest)
    history = ok(read, "get_borrow_lend_history")
    assert [(row["eventType"], row["source"], row["quantity"]) for row in history] == [("Borrow", "Manual", "100")]
    assert ok(read, "fetch_balance")["USDC"]["free"] == 1100.0, "borrowed coins land in the balance"


def test_ccxt_reads_last_mark_and_index_candles_the_trade_history_and_market_creation_times(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        credentials = exchange.new_account({"USDC": "1000"})
        read = exchange.run_client(VENV, SCRIPT, credentials, "market_data")

    created = ok(read, "load_markets")
    assert len(set(created.values())) == 1, "every market was listed by the server's first start"
    assert next(iter(created.values())) > 1_700_000_000_000, "listed at the server's time, not 1970"
    assert ok(read, "market_buy") == "closed"
    (candle,) = ok(read, "fetch_ohlcv")[-1:]
    timestamp, open_, high, low, close, volume = candle
    assert timestamp % 60_000 == 0
    assert volume == 0.001, "the one trade: 0.001 BTC"
    assert low <= open_ <= high
    assert low <= close <= high
    for step in ("fetch_mark_ohlcv", "fetch_index_ohlcv"):
        candles = ok(read, step)
        assert candles, f"{step} has candles from the demo's prices on"
        assert all(row[5] == 0 and row[3] <= row[1] <= row[2] for row in candles), "prices only, no volume"
        assert all(later[0] - earlier[0] == 60_000 for earlier, later in itertools.pairwise(candles))
    (trade,) = ok(read, "fetch_trades")
    assert (trade["amount"], trade["side"]) == (0.001, "buy")
