"""A live demo market: `crossmargin serve` quotes each book as the markets file says, the taker trades, funding moves.

On a manual clock the taker flow is off unless asked for (`--taker-flow`), since time moves only
when the operator moves it; here it is asked for, and the clock is moved through the operator API.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from live_server import TOKEN, free_port, start, stop
from plain_http import HTTP

WAIT_SECONDS = 30.0
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _wait_for(url: str, ready: Callable[[object], bool], what: str) -> object:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        body = HTTP.get(url, timeout=10).json()
        if ready(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{what} within {WAIT_SECONDS} s: {body}")


def _advance(base: str, seconds: int) -> None:
    response = HTTP.post(f"{base}/admin/v1/clock/advance", json={"seconds": seconds}, headers=ADMIN, timeout=30)
    assert response.status_code == 200, response.text


def _taker_of(output: str) -> str:
    found = re.search(r"Demo: a taker \(subaccount (\d+)\)", output)
    assert found, output
    return found.group(1)


def test_the_demo_market_lives_and_its_taker_comes_back_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port, options=["--taker-flow"])
    try:
        depth = _wait_for(
            f"{base}/api/v1/depth?symbol=BTC_USDC_PERP",
            lambda body: isinstance(body, dict) and len(body["bids"]) == len(body["asks"]) == 10,
            "the maker quotes BTC_USDC_PERP with makerLevels = 10",
        )
        assert isinstance(depth, dict)
        best_bid = max(Decimal(price) for price, _ in depth["bids"])
        best_ask = min(Decimal(price) for price, _ in depth["asks"])
        assert (best_bid, best_ask) == (Decimal(59988), Decimal(60012)), "makerSpreadBps = 4 around 60,000"
        for _ in range(4):
            _advance(base, 60)
            time.sleep(0.5)
        _wait_for(f"{base}/api/v1/trades?symbol=BTC_USDC_PERP", bool, "the taker trades as the clock moves")
        _advance(base, 3600)
        rates = _wait_for(f"{base}/api/v1/fundingRates?symbol=BTC_USDC_PERP", bool, "an hour's funding is charged")
        assert isinstance(rates, list)
        assert all(abs(Decimal(row["fundingRate"])) <= Decimal("0.01") for row in rates), "within fundingBound"
    finally:
        first = stop(server)
    taker = _taker_of(first)
    assert "places small random market orders" in first

    server = start(tmp_path, port, options=["--taker-flow"])
    try:
        trades_before = len(HTTP.get(f"{base}/api/v1/trades?symbol=ETH_USDC_PERP&limit=1000", timeout=10).json())
        for _ in range(4):
            _advance(base, 60)
            time.sleep(0.5)
        _wait_for(
            f"{base}/api/v1/trades?symbol=ETH_USDC_PERP&limit=1000",
            lambda body: isinstance(body, list) and len(body) > trades_before,
            "the taker trades again after a restart",
        )
    finally:
        second = stop(server)
    assert _taker_of(second) == taker, "the same taker subaccount, found by its API key"


def test_on_a_manual_clock_the_taker_flow_is_off_unless_asked_for(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    try:
        _advance(f"http://127.0.0.1:{port}", 600)
    finally:
        output = stop(server)
    assert "Demo: a market maker" in output
    assert "Demo: a taker" not in output
