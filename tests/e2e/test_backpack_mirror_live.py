"""`crossmargin serve --prices backpack` as a real process against a local fake of Backpack's public API.

Method: start the fake (recorded, spec-shaped responses; BTC's index 118,333.18643195, about
twice the demo's 60,000 seed, so the jump guard would refuse it), then a server on the wall clock
mirroring it. The first mirrored update after a start passes the jump guard (a live venue's
prices are the truth), so BTC's index becomes the fake's exactly; a change on the fake's stream
follows; once the fake stops, prices age past `--price-max-age` and `/api/v1/status` names them stale.
"""

from __future__ import annotations

import time
from pathlib import Path

from fake_backpack import FakeBackpack
from live_server import free_port, start, stop
from plain_http import HTTP


def _btc_index(port: int) -> str:
    marks = HTTP.get(f"http://127.0.0.1:{port}/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}, timeout=10)
    index: str = marks.json()[0]["indexPrice"]
    return index


def _wait_for_index(port: int, wanted: str, seconds: float) -> str:
    seen = _btc_index(port)
    deadline = time.monotonic() + seconds
    while seen != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = _btc_index(port)
    return seen


def test_serve_mirrors_backpack_exactly_follows_its_stream_and_goes_stale_without_it(tmp_path: Path) -> None:
    fake = FakeBackpack().start()
    port = free_port()
    options = ["--clock", "wall", "--prices", "backpack", "--backpack-url", fake.rest_url]
    options += ["--backpack-ws-url", fake.ws_url, "--backpack-poll", "0.5", "--price-max-age", "3", "--no-market-maker"]
    server = start(tmp_path, port, options=options)
    try:
        first = _wait_for_index(port, "118333.18643195", 20)
        fake.set_index("BTC_USDC_PERP", "119000.5")
        followed = _wait_for_index(port, "119000.5", 20)
        fake.stop()
        time.sleep(4)
        status = HTTP.get(f"http://127.0.0.1:{port}/api/v1/status", timeout=10).json()
    finally:
        fake.stop()
        output = stop(server)
    assert first == "118333.18643195", "the first mirrored price passes the 50% jump guard, exactly"
    assert followed == "119000.5"
    assert "Prices: backpack" in output
    assert "BTC" in status["message"], status
    assert "stale" in status["message"].lower(), status
