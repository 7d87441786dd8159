"""`crossmargin serve --clock accelerated:N --prices demo|FILE` as a real process: prices move on engine time.

Method: start the server on a free loopback port on an accelerated clock and poll the public
mark prices until BTC's index moves (bounded by a deadline, never by a speed); the banner names
the source and the clock; `/api/v1/time` runs ahead of the wall clock. A bad `--prices` choice
stops the start with a message and exit status 2.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from live_server import TOKEN, free_port, start, stop
from plain_http import HTTP

ACCELERATION = 600


def btc_index(port: int) -> str:
    marks = HTTP.get(f"http://127.0.0.1:{port}/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}, timeout=10)
    index: str = marks.json()[0]["indexPrice"]
    return index


def test_serve_on_an_accelerated_clock_with_demo_prices_moves_btc(tmp_path: Path) -> None:
    port = free_port()
    options = ["--clock", f"accelerated:{ACCELERATION}", "--prices", "demo", "--price-seed", "3", "--no-market-maker"]
    server = start(tmp_path, port, options=options)
    try:
        seen = {btc_index(port)}
        deadline = time.monotonic() + 30
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
            seen.add(btc_index(port))
        engine_ms = int(HTTP.get(f"http://127.0.0.1:{port}/api/v1/time", timeout=10).text)
    finally:
        output = stop(server)
    assert len(seen) >= 3, f"BTC's index moved at least twice: {seen}"
    assert engine_ms > time.time() * 1000 + 60_000, "engine time runs ahead of the wall clock"
    assert f"clock: accelerated:{ACCELERATION}" in output
    assert "Prices: demo (seed 3), submitted every 150 s of engine time" in output


def test_serve_refuses_a_prices_file_that_does_not_exist(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "crossmargin.cli.main", "serve", "--port", str(free_port())]
    command += ["--data-dir", str(tmp_path), "--prices", str(tmp_path / "missing.csv")]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert "no such file; write backpack, demo, none, or the path of a price CSV" in finished.stdout


def test_on_the_manual_clock_demo_prices_move_only_when_the_clock_does(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port, options=["--prices", "demo", "--no-market-maker"])
    try:
        before = btc_index(port)
        time.sleep(1.5)
        still = btc_index(port)
        advanced = HTTP.post(
            f"http://127.0.0.1:{port}/admin/v1/clock/advance",
            json={"seconds": 3600},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert advanced.status_code == 200, advanced.text
        deadline = time.monotonic() + 20
        after = btc_index(port)
        while after == before and time.monotonic() < deadline:
            time.sleep(0.2)
            after = btc_index(port)
    finally:
        output = stop(server)
    assert still == before, "a manual clock that stands still keeps the walk still"
    assert after != before, "an hour of engine time moves BTC"
    assert "Prices: demo (seed 1)" in output


def test_on_the_manual_clock_prices_stay_still_by_default(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    try:
        before = btc_index(port)
    finally:
        banner = stop(server)
    assert "Prices: still; set them with `crossmargin prices set`" in banner
    assert before == "60000"
