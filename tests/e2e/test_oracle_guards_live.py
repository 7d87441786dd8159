"""The oracle guards over HTTP, on a real `crossmargin serve`: jumps need force, stale prices open no risk."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from live_server import TOKEN, free_port, start, stop
from plain_http import HTTP
from signing_client import Keys, signed_headers

BORROW = {"symbol": "USDC", "side": "Borrow", "quantity": "100"}


def _admin(base: str, path: str, body: dict[str, object]) -> httpx.Response:
    return HTTP.post(f"{base}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def _funded(base: str, **deposits: str) -> Keys:
    created = _admin(base, "/admin/v1/accounts", {}).json()
    keys = Keys(created["subaccountId"], created["accountId"], created["apiKey"], created["apiSecret"])
    for symbol, quantity in deposits.items():
        body = {"subaccountId": keys.subaccount_id, "symbol": symbol, "quantity": quantity}
        assert _admin(base, "/admin/v1/deposits", body).status_code == 200
    return keys


def _borrow_lend(base: str, keys: Keys, body: Mapping[str, object]) -> httpx.Response:
    headers = signed_headers(keys.api_key, keys.api_secret, "borrowLendExecute", body, int(time.time() * 1000))
    return HTTP.post(f"{base}/api/v1/borrowLend", json=dict(body), headers=headers, timeout=30)


def test_a_price_jump_beyond_the_band_is_refused_unless_forced(tmp_path: Path) -> None:
    port = free_port()
    process = start(tmp_path / "data", port, options=["--no-market-maker"])
    base = f"http://127.0.0.1:{port}"
    try:
        refused = _admin(base, "/admin/v1/prices", {"prices": {"BTC": "20000"}})
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "INVALID_PRICE"
        assert "BTC would move from 60000 to 20000" in refused.json()["message"]
        assert "force" in refused.json()["message"]
        forced = _admin(base, "/admin/v1/prices", {"prices": {"BTC": "20000"}, "force": True})
        assert forced.status_code == 200, forced.text
        assert _admin(base, "/admin/v1/prices", {"prices": {"BTC": "25000"}}).status_code == 200
    finally:
        stop(process)


def test_serve_refuses_a_price_age_on_the_manual_clock(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "crossmargin.cli.main", "serve", "--clock", "manual", "--price-max-age", "5"]
    finished = subprocess.run(
        [*command, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 2
    assert "--price-max-age needs --clock wall" in finished.stdout + finished.stderr


def test_a_stale_price_on_the_wall_clock_refuses_new_risk_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    options = ["--clock", "wall", "--price-max-age", "3", "--no-market-maker", "--prices", "none"]
    process = start(tmp_path / "data", port, options=options)
    base = f"http://127.0.0.1:{port}"
    prices = {"BTC": "60000", "USDC": "1", "USDT": "1", "ETH": "3000", "SOL": "150"}
    try:
        borrower = _funded(base, BTC="1")
        assert _admin(base, "/admin/v1/prices", {"prices": prices}).status_code == 200  # fresh, whatever start took
        assert _borrow_lend(base, borrower, BORROW).status_code == 200
        time.sleep(3.5)  # the prices are now older than 3 s
        status = HTTP.get(f"{base}/api/v1/status", timeout=10).json()
        assert status["status"] == "Ok"
        assert "Stale index prices" in status["message"]
        assert "BTC" in status["message"]
        market = HTTP.get(f"{base}/api/v1/market", params={"symbol": "BTC_USDC"}, timeout=10).json()
        assert market["priceStale"] is True
        refused = _borrow_lend(base, borrower, BORROW)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "TRADING_PAUSED"
        repay = _borrow_lend(base, borrower, {"symbol": "USDC", "side": "Lend", "quantity": "50"})
        assert repay.status_code == 200, repay.text
        assert _admin(base, "/admin/v1/prices", {"prices": prices}).status_code == 200
        assert _borrow_lend(base, borrower, BORROW).status_code == 200
        market = HTTP.get(f"{base}/api/v1/market", params={"symbol": "BTC_USDC"}, timeout=10).json()
        assert market["priceStale"] is False
    finally:
        stop(process)
