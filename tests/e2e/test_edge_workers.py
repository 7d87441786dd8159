"""`crossmargin serve --edge-workers 2` end to end: workers verify and forward, the sequencer stays the one writer.

Goal: through a real server with two edge worker processes, a signed borrow is accepted and durable,
a read sent after its acknowledgement sees it (read-your-writes, reads being forwarded to the
sequencer process), a replayed signature is refused whichever worker it reaches, a refusal keeps
Backpack's `{code, message}` body, the operator API and WebSocket streams still answer, a worker killed with SIGKILL is
started again while the other serves on, and SIGTERM stops everything with exit status 0. Method: fresh connections for every request, so the kernel
spreads them over both workers; `tests/unit/app/test_command_channel.py` pins the cross-worker
replay to two workers deterministically.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from live_server import TOKEN, free_port, start, stop
from plain_http import HTTP
from prometheus_client.parser import text_string_to_metric_families
from signing_client import Keys, signed_headers
from websockets.sync.client import connect


@dataclass(frozen=True)
class Server:
    """A live server with edge workers."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self, path: str, body: dict[str, object]) -> httpx.Response:
        return HTTP.post(f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    def new_account(self) -> Keys:
        created = self.admin("/admin/v1/accounts", {}).json()
        return Keys(created["subaccountId"], created["accountId"], created["apiKey"], created["apiSecret"])

    def signed(
        self, keys: Keys, method: str, path: str, instruction: str, parameters: dict[str, object], timestamp_ms: int
    ) -> httpx.Response:
        headers = signed_headers(keys.api_key, keys.api_secret, instruction, parameters, timestamp_ms)
        # A fresh connection each time: the kernel hands it to either worker.
        with httpx.Client(base_url=self.url, timeout=10) as client:
            if method == "GET":
                return client.get(path, params={k: str(v) for k, v in parameters.items()}, headers=headers)
            return client.request(method, path, json=parameters, headers=headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    options = ["--edge-workers", "2", "--no-market-maker", "--no-risk-monitor"]
    process = start(tmp_path_factory.mktemp("edge-workers"), port, options=options)
    try:
        yield Server(port, process.pid)
    finally:
        output = stop(process)
        assert "every acknowledged command is in the journal" in output, output


def _funded(server: Server) -> Keys:
    keys = server.new_account()
    deposit = {"subaccountId": keys.subaccount_id, "symbol": "BTC", "quantity": "1"}
    assert server.admin("/admin/v1/deposits", deposit).status_code == 200
    return keys


def _borrowed_usdc(server: Server, keys: Keys) -> Decimal:
    response = server.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery", {}, _now())
    assert response.status_code == 200, response.text
    rows = [row for row in response.json() if row["symbol"] == "USDC"]
    return -Decimal(rows[0]["netQuantity"]) if rows else Decimal(0)


def _now() -> int:
    return int(time.time() * 1000)


def test_every_acknowledged_borrow_is_seen_by_the_next_read(server: Server) -> None:
    keys = _funded(server)
    for count in range(1, 9):
        body: dict[str, object] = {"symbol": "USDC", "side": "Borrow", "quantity": "1"}
        borrowed = server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body, _now())
        assert borrowed.status_code == 200, borrowed.text
        # Each borrow owes its quantity and an entry fee of a few millionths.
        assert count <= _borrowed_usdc(server, keys) < count + Decimal("0.001"), "a read sees the acknowledged write"


def test_a_replayed_borrow_is_refused_on_every_other_connection(server: Server) -> None:
    keys = _funded(server)
    body: dict[str, object] = {"symbol": "USDC", "side": "Borrow", "quantity": "1"}
    timestamp = _now()
    answers = [
        server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body, timestamp) for _ in range(8)
    ]
    assert [answer.status_code for answer in answers] == [200] + [401] * 7
    for answer in answers[1:]:
        assert answer.json()["code"] == "UNAUTHORIZED"
        assert "already used" in answer.json()["message"]
    assert 1 <= _borrowed_usdc(server, keys) < Decimal("1.001"), "executed once"


def test_a_refusal_keeps_backpacks_error_body(server: Server) -> None:
    keys = _funded(server)
    body: dict[str, object] = {"symbol": "USDC", "side": "Borrow", "quantity": "1000000"}
    refused = server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body, _now())
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "INSUFFICIENT_MARGIN"
    assert set(refused.json()) == {"code", "message"}
    malformed = server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "USDC"}, _now())
    assert (malformed.status_code, set(malformed.json())) == (400, {"code", "message"})
    unknown = HTTP.post(f"{server.url}/api/v1/borrowLend", json=body, headers={"X-API-Key": "x"}, timeout=10)
    assert (unknown.status_code, unknown.json()["code"]) == (401, "UNAUTHORIZED")


def test_orders_are_placed_and_cancelled_through_a_worker(server: Server) -> None:
    keys = server.new_account()
    deposit = {"subaccountId": keys.subaccount_id, "symbol": "USDC", "quantity": "1000"}
    assert server.admin("/admin/v1/deposits", deposit).status_code == 200
    order: dict[str, object] = {
        "symbol": "BTC_USDC",
        "side": "Bid",
        "orderType": "Limit",
        "price": "50000",
        "quantity": "0.01",
    }
    placed = server.signed(keys, "POST", "/api/v1/order", "orderExecute", order, _now())
    assert placed.status_code == 200, placed.text
    query = {"symbol": "BTC_USDC", "orderId": placed.json()["id"]}
    seen = server.signed(keys, "GET", "/api/v1/order", "orderQuery", query, _now())
    assert seen.status_code == 200, seen.text
    cancelled = server.signed(keys, "DELETE", "/api/v1/order", "orderCancel", query, _now())
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "Cancelled")


def test_public_reads_and_streams_are_forwarded_to_the_sequencer(server: Server) -> None:
    assert HTTP.get(f"{server.url}/api/v1/assets", timeout=10).status_code == 200
    wrong_host = HTTP.get(f"{server.url}/api/v1/assets", headers={"Host": "elsewhere.example"}, timeout=10)
    assert wrong_host.status_code == 421
    with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=10) as websocket:
        websocket.send(json.dumps({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 7}))
        assert json.loads(websocket.recv(timeout=10)) == {"id": 7, "result": None}


def _workers(server: Server) -> set[int]:
    """Return the PIDs of the server's edge workers (its spawned children, not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    found = set()
    for child in children:
        with contextlib.suppress(FileNotFoundError):  # a child that just ended
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.add(int(child))
    return found


def _wait_for_two_workers(server: Server, other_than: set[int]) -> set[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = _workers(server) - other_than
        if len(_workers(server)) == 2 and found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no worker was started again: {_workers(server)}")


def _http_requests(server: Server, route: str, method: str, status: str) -> float:
    """Return `crossmargin_http_requests_total` for one series from the server's /metrics (0 if absent)."""
    text = HTTP.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    wanted = {"route": route, "method": method, "status": status}
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "crossmargin_http_requests_total" and sample.labels == wanted
    )


def test_the_metrics_count_the_requests_the_workers_answer(server: Server) -> None:
    """Borrows and rate refusals answered in the workers are counted in /metrics, once each, like forwarded reads."""
    keys = _funded(server)
    time.sleep(1.5)  # the workers' counts of the earlier tests' requests are in: each reports every second
    borrows_before = _http_requests(server, "/api/v1/borrowLend", "POST", "200")
    depth_before = _http_requests(server, "/api/v1/depth", "GET", "200")
    body: dict[str, object] = {"symbol": "USDC", "side": "Borrow", "quantity": "1"}
    for _ in range(6):
        borrowed = server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body, _now())
        assert borrowed.status_code == 200, borrowed.text
    for _ in range(3):  # forwarded whole to the sequencer process, counted there
        assert HTTP.get(f"{server.url}/api/v1/depth", params={"symbol": "BTC_USDC"}, timeout=10).status_code == 200
    deadline = time.monotonic() + 10
    while _http_requests(server, "/api/v1/borrowLend", "POST", "200") < borrows_before + 6:
        assert time.monotonic() < deadline, "the workers' borrows never reached /metrics"
        time.sleep(0.1)
    time.sleep(1.5)  # a worker's next report would have come: nothing counted twice
    assert _http_requests(server, "/api/v1/borrowLend", "POST", "200") == borrows_before + 6
    assert _http_requests(server, "/api/v1/depth", "GET", "200") == depth_before + 3


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers through Linux's /proc")
def test_a_killed_worker_is_started_again_and_serving_continues(server: Server) -> None:
    keys = _funded(server)
    workers = _wait_for_two_workers(server, set())
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    for count in range(1, 6):  # the other worker serves on meanwhile
        body: dict[str, object] = {"symbol": "USDC", "side": "Borrow", "quantity": "1"}
        borrowed = server.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body, _now())
        assert borrowed.status_code == 200, borrowed.text
        assert count <= _borrowed_usdc(server, keys) < count + Decimal("0.001")
    restarted = _wait_for_two_workers(server, workers)
    assert victim not in _workers(server)
    assert restarted, "a new worker took the killed one's place"
    for _ in range(10):  # fresh connections reach both workers
        assert HTTP.get(f"{server.url}/api/v1/collateral", timeout=10).status_code == 200
