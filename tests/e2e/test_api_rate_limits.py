"""Rate limits and the access log through the ASGI app, on a clock the test moves.

Bursts of public and signed requests get Backpack's 429 `TOO_MANY_REQUESTS` with `Retry-After`;
other keys and addresses keep their budgets; the budget comes back after the wait; the operator is
never limited; WebSocket connections count. The access log writes one JSON line per request with
its fields, signed instructions and 429s included. The `crossmargin serve` flags, the live server
and real clients backing off are in `test_rate_limits_live.py` and `clients/test_ccxt_rate_limits.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from signing_client import ADMIN_TOKEN, Exchange
from starlette.testclient import TestClient, WebSocketDenialResponse

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.access_log import FIELD_CHARS_MAX, AccessLogWriter
from crossmargin.api.app import create_app
from crossmargin.api.rate_budgets import Budget, RateLimitSettings
from crossmargin.api.rate_limit import NS_PER_SECOND, RateLimiter
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000
SETTINGS = RateLimitSettings(public=Budget(12, 10, 6), signed=Budget(8, 10, 4), signed_ip=Budget(20, 10, 10))
FIELDS = {"time", "ip", "method", "path", "query", "status", "latencyMs", "key", "instruction"}


@dataclass
class Limited:
    """An app with small budgets on a clock the test moves, its access log, and clients at two addresses."""

    exchange: Exchange
    other_address: TestClient
    clock_ns: list[int]
    log: AccessLogWriter
    log_path: Path

    def advance(self, seconds: float) -> None:
        self.clock_ns[0] += int(seconds * NS_PER_SECOND)

    def lines(self) -> list[dict[str, object]]:
        self.log.flush()
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Limited]:
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    clock_ns = [10**15]
    log_path = tmp_path / "access.log"
    log = AccessLogWriter(str(log_path))
    limiter = RateLimiter(SETTINGS, ADMIN_TOKEN, clock=lambda: clock_ns[0])
    app = create_app(service, ADMIN_TOKEN, rate_limiter=limiter, access_log=log)
    try:
        with (
            TestClient(app, client=("10.0.0.1", 40000)) as client,
            TestClient(app, client=("10.0.0.2", 40000)) as other,
        ):
            exchange = Exchange(client)
            exchange.admin("POST", "/admin/v1/prices", {"prices": {"USDC": "1", "BTC": "60000"}})
            yield Limited(exchange, other, clock_ns, log, log_path)
    finally:
        log.close()
        service.close()


def _too_many(response: object, budget: str, retry_after: int) -> None:
    assert getattr(response, "status_code", None) == 429
    assert response.headers["retry-after"] == str(retry_after)  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"code", "message"}
    assert body["code"] == "TOO_MANY_REQUESTS"
    assert body["message"].startswith(f"Too many requests: the {budget} budget allows ")
    assert body["message"].endswith(f"retry after {retry_after} s")


def test_a_public_burst_gets_429_other_addresses_do_not_and_it_recovers(limited: Limited) -> None:
    client = limited.exchange.client
    statuses = [client.get("/api/v1/assets").status_code for _ in range(6)]
    assert statuses == [200] * 6
    refused = client.get("/api/v1/markets")
    # 12 - 6 = 6 requests refill per 10 s: one every 5/3 s, announced as 2 whole seconds.
    _too_many(refused, "public (per IP)", 2)
    assert limited.other_address.get("/api/v1/assets").status_code == 200
    limited.advance(1.6)
    assert client.get("/api/v1/assets").status_code == 429, "not a moment early"
    limited.advance(0.1)
    assert client.get("/api/v1/assets").status_code == 200
    limited.advance(10)
    assert [client.get("/api/v1/ping").status_code for _ in range(7)] == [200] * 6 + [429]


def test_a_signed_burst_gets_429_per_key_and_other_keys_are_unaffected(limited: Limited) -> None:
    first, second = limited.exchange.new_account(), limited.exchange.new_account()

    def capital(keys: object) -> int:
        return limited.exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery").status_code  # type: ignore[arg-type]

    assert [capital(first) for _ in range(4)] == [200] * 4
    refused = limited.exchange.signed(first, "GET", "/api/v1/capital", "balanceQuery")
    _too_many(refused, "signed (per API key)", 3)  # 8 - 4 = 4 per 10 s: one every 2.5 s
    assert capital(second) == 200
    # Public requests from the same address draw on their own budget.
    assert limited.exchange.client.get("/api/v1/assets").status_code == 200
    limited.advance(2.5)
    assert capital(first) == 200


def test_many_keys_from_one_address_share_its_signed_budget(limited: Limited) -> None:
    keys = [limited.exchange.new_account() for _ in range(4)]
    statuses = [limited.exchange.signed(k, "GET", "/api/v1/capital", "balanceQuery") for k in keys for _ in range(3)]
    assert [response.status_code for response in statuses[:10]] == [200] * 10
    _too_many(statuses[10], "signed (per IP)", 1)  # 20 - 10 = 10 per 10 s


def test_made_up_keys_are_refused_by_the_address_budget_before_any_lookup(limited: Limited) -> None:
    answers = [limited.exchange.client.get("/api/v1/capital", headers={"X-API-Key": f"made-up-{n}"}) for n in range(12)]
    assert [answer.status_code for answer in answers] == [401] * 10 + [429] * 2


def test_the_operator_is_never_limited(limited: Limited) -> None:
    statuses = {limited.exchange.admin("GET", "/admin/v1/audit").status_code for _ in range(30)}
    assert statuses == {200}


def test_websocket_connections_count_against_the_public_budget(limited: Limited) -> None:
    client = limited.exchange.client
    for _ in range(6):
        with client.websocket_connect("/ws"):
            pass
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 429
    assert denied.value.json()["code"] == "TOO_MANY_REQUESTS"


def test_the_access_log_has_a_json_line_per_request_with_its_fields(limited: Limited) -> None:
    keys = limited.exchange.new_account()
    limited.exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery")
    limited.exchange.borrow_lend(keys, "Borrow", "10")
    depth_status = limited.exchange.client.get("/api/v1/depth", params={"symbol": "BTC_USDC"}).status_code
    limited.exchange.client.get("/" + "a" * 5_000)
    for _ in range(6):
        limited.exchange.client.get("/api/v1/ping")
    limited.advance(10)
    with limited.exchange.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["depth.BTC_USDC", "x" * 1_000], "id": 1})
        socket.receive_json()
    lines = limited.lines()
    requests = [line for line in lines if line["method"] != "SUBSCRIBE"]
    assert all(set(line) == FIELDS for line in requests)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["time"])) for line in lines)
    assert all(isinstance(line["latencyMs"], float) and line["latencyMs"] >= 0 for line in requests)
    by_path = {(line["method"], line["path"]): line for line in requests}
    capital = by_path["GET", "/api/v1/capital"]
    assert (capital["status"], capital["key"], capital["instruction"], capital["ip"]) == (
        200,
        keys.api_key,
        "balanceQuery",
        "10.0.0.1",
    )
    borrow = by_path["POST", "/api/v1/borrowLend"]
    assert (borrow["instruction"], borrow["key"]) == ("borrowLendExecute", keys.api_key)
    depth = by_path["GET", "/api/v1/depth"]
    assert (depth["status"], depth["query"], depth["key"], depth["instruction"]) == (
        depth_status,
        "symbol=BTC_USDC",
        None,
        None,
    )
    long_path = next(line for line in requests if str(line["path"]).startswith("/aaa"))
    assert (long_path["status"], len(str(long_path["path"]))) == (404, FIELD_CHARS_MAX)
    assert [line["status"] for line in requests if line["path"] == "/api/v1/ping"][-1] == 429
    websocket = by_path["GET", "/ws"]
    assert websocket["status"] == 101
    subscribe = next(line for line in lines if line["method"] == "SUBSCRIBE")
    assert subscribe["streams"] == ["depth.BTC_USDC", "x" * FIELD_CHARS_MAX]
    assert subscribe["path"] == "/ws"
    operator = by_path["POST", "/admin/v1/accounts"]
    assert (operator["status"], operator["key"]) == (200, None)
    assert "Bearer" not in limited.log_path.read_text()
    assert keys.api_secret not in limited.log_path.read_text()


def test_without_a_limiter_nothing_is_limited_or_logged() -> None:
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    try:
        with TestClient(create_app(service, ADMIN_TOKEN)) as client:
            assert {client.get("/api/v1/ping").status_code for _ in range(300)} == {200}
    finally:
        service.close()
