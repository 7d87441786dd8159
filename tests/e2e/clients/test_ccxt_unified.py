"""ccxt's own unified test suite for `backpack` (REST public and private, then ccxt.pro's watch methods) against a live server.

The suite is the one ccxt runs against the real exchanges; `scripts/ccxt_unified.py` points it at
the server. Skips live in `ccxt-unified-skips.json`, each with the reason the failure is ccxt's
(or the demo's) and not the server's; everything else must pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from real_clients import client_python, live_exchange

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_unified.py"
SUITE_TIMEOUT_S = 300
# Methods the suite must have exercised, so a run that silently tests nothing cannot pass.
REST_METHODS = {
    "loadMarkets",
    "fetchTicker",
    "fetchTickers",
    "fetchOHLCV",
    "fetchTrades",
    "fetchOrderBook",
    "fetchFundingRateHistory",
    "fetchBalance",
    "fetchMyTrades",
    "fetchOpenOrders",
    "fetchDeposits",
}
WS_METHODS = {"watchOHLCV", "watchTicker", "watchTickers", "watchBidsAsks", "watchOrderBook", "watchTrades"}


ASSETS = Path(__file__).resolve().parents[3] / "src" / "crossmargin" / "data" / "assets.toml"
TAKER_RATE = re.compile(r'^takerTradesPerHour = "\d+"$', re.MULTILINE)


def _living_market(folder: Path) -> tuple[str, ...]:
    """Return serve options for the demo's living market with a taker trading every market about once a second.

    ccxt.pro's watch tests wait for each stream to move, as Backpack's always do: the server runs on
    the wall clock (a client refuses timestamps ahead of its own) with walking prices, the market
    maker and the taker flow, whose few trades an hour per market are raised here to 3,600.
    """
    busy = folder / "assets-busy.toml"
    busy.write_text(TAKER_RATE.sub('takerTradesPerHour = "3600"', ASSETS.read_text()))
    return ("--clock", "wall", "--prices", "demo", "--assets-file", str(busy))


def _run(tmp_path: Path, mode: str) -> dict[str, object]:
    client_python(VENV)
    options = _living_market(tmp_path) if mode == "ws" else ()
    with live_exchange(tmp_path / "data", options) as exchange:
        credentials = exchange.new_account({"BTC": "1", "USDC": "100000"})
        return exchange.run_client(VENV, SCRIPT, credentials, mode, timeout_s=SUITE_TIMEOUT_S)


def test_ccxt_unified_rest_suite_passes_public_and_private(tmp_path: Path) -> None:
    result = _run(tmp_path, "rest")
    assert result["failures"] == [], "\n".join(result["failures"]) + "\n" + str(result["tail"])  # type: ignore[arg-type]
    tested = set(result["tested"])  # type: ignore[call-overload]
    assert tested >= REST_METHODS, f"the suite did not test {sorted(REST_METHODS - tested)}"


@pytest.mark.slow  # about 70 s on a living market; `make test-slow` (test_ccxt_ws.py watches every stream by default)
def test_ccxt_pro_watch_suite_passes_public_and_private(tmp_path: Path) -> None:
    result = _run(tmp_path, "ws")
    assert result["failures"] == [], "\n".join(result["failures"]) + "\n" + str(result["tail"])  # type: ignore[arg-type]
    tested = set(result["tested"])  # type: ignore[call-overload]
    assert tested >= WS_METHODS, f"the suite did not test {sorted(WS_METHODS - tested)}"
