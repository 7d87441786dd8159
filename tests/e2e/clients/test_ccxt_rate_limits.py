"""ccxt against a rate-limited server: Backpack's 429 reaches a bot as `ccxt.RateLimitExceeded`, and backing off works.

The server's signed budget is small (20 in any 4 s, 5 at once: one request every 0.27 s after the
burst) so each behaviour shows within seconds; `scripts/ccxt_rate_limits.py` runs the phases, each
in a fresh ccxt process with its own account. The access log counts the 429s each key was sent, so
the test knows a phase that succeeded did meet the limit.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from real_clients import Credentials, LiveExchange, client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_rate_limits.py"
CALLS = 8  # the script's calls per phase: past the burst of 5
BUDGETS = ("--rate-limit-signed", "20/4/5", "--rate-limit-public", "40/4/10")


def _refusals(log: Path, credentials: Credentials) -> int:
    time.sleep(0.5)  # the access log is written every 0.2 s
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return sum(1 for line in lines if line["key"] == credentials.api_key and line["status"] == 429)


def _phase(exchange: LiveExchange, phase: str) -> tuple[dict[str, object], Credentials]:
    credentials = exchange.new_account({"USDC": "1000"})
    return exchange.run_client(VENV, SCRIPT, credentials, phase), credentials


def test_ccxt_meets_the_limit_as_rate_limit_exceeded_and_backs_off(tmp_path: Path) -> None:
    client_python(VENV)
    log = tmp_path / "access.log"
    with live_exchange(tmp_path / "data", (*BUDGETS, "--access-log", str(log))) as exchange:
        throttled, throttled_keys = _phase(exchange, "throttled")
        bot, bot_keys = _phase(exchange, "bot")
        retry, retry_keys = _phase(exchange, "retry")
        burst, _ = _phase(exchange, "burst")

        # ccxt's own throttle at 2 a second stays within 3.75 a second: nothing refused.
        assert ok(throttled, "throttled")["calls"] == CALLS
        assert _refusals(log, throttled_keys) == 0
        # A bot that waits Retry-After gets every call through, after meeting the limit.
        outcome = ok(bot, "bot")
        assert outcome["succeeded"] == CALLS
        assert outcome["refused"] >= 1
        assert set(outcome["waits"]) == {1.0}, "it waited what Retry-After said"
        assert _refusals(log, bot_keys) == outcome["refused"]
        # ccxt's own retries on its NetworkError family carry it through as well.
        assert ok(retry, "retry") == {"calls": CALLS, "all_answered": True}
        assert _refusals(log, retry_keys) >= 1
        # Without throttle or retries, the 429 is ccxt's RateLimitExceeded, signed and public alike.
        for step, passed in (("signed", 5), ("public", None)):
            refused = ok(burst, step)
            assert (refused["class"], refused["rate_limit_exceeded"]) == ("RateLimitExceeded", True), refused
            assert refused["network_error"] is True
            assert '"code":"TOO_MANY_REQUESTS"' in refused["message"]
            if passed is not None:
                assert refused["passed"] == passed
