"""A real `crossmargin serve` process: the metrics on their own loopback port, and a backup taken while it runs.

`--metrics-port` serves the same metrics as the guarded `/metrics` of the main port, without a
token, on 127.0.0.1; the workers `serve` started are watched. `crossmargin backup`, run as its own
process against the live server's data directory, copies a journal that a second server, started on
the copy, replays to the same accounts and balances.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from live_server import TOKEN, free_port, start, stop
from nacl.signing import SigningKey
from plain_http import HTTP
from prometheus_client.parser import text_string_to_metric_families

AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _balances(port: int, api_key: str, api_secret: str) -> Any:
    timestamp = int(time.time() * 1000)
    text = f"instruction=balanceQuery&timestamp={timestamp}&window=5000"
    signature = SigningKey(base64.b64decode(api_secret)).sign(text.encode()).signature
    headers = {"X-API-Key": api_key, "X-Signature": base64.b64encode(signature).decode(), "X-Timestamp": str(timestamp)}
    response = HTTP.get(f"http://127.0.0.1:{port}/api/v1/capital", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_metrics_port_answers_without_a_token_and_the_main_port_only_with_it(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    server = start(tmp_path, port, options=("--metrics-port", str(metrics_port), "--no-market-maker"))
    try:
        assert HTTP.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 401
        guarded = HTTP.get(f"http://127.0.0.1:{port}/metrics", headers=AUTHORIZATION, timeout=10)
        assert guarded.status_code == 200
        loopback = HTTP.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert loopback.status_code == 200
        values = _values(loopback.text)
        assert values[("crossmargin_worker_up", (("worker", "risk-monitor"),))] == 1
        assert values[("crossmargin_journal_up", ())] == 1
        assert (
            "crossmargin_http_requests_total",
            (("method", "GET"), ("route", "/metrics"), ("status", "401")),
        ) in values
    finally:
        output = stop(server)
    assert f"Metrics: http://127.0.0.1:{metrics_port}/metrics without a token" in output


def test_a_backup_of_a_running_server_starts_a_server_with_the_same_accounts(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path / "live", port, options=("--no-market-maker",))
    try:
        created = HTTP.post(f"http://127.0.0.1:{port}/admin/v1/accounts", json={}, headers=AUTHORIZATION, timeout=10)
        keys = created.json()
        subaccount = keys["subaccountId"]
        deposit = {"subaccountId": subaccount, "symbol": "USDC", "quantity": "1234.5"}
        assert (
            HTTP.post(
                f"http://127.0.0.1:{port}/admin/v1/deposits", json=deposit, headers=AUTHORIZATION, timeout=10
            ).status_code
            == 200
        )
        before = HTTP.get(f"http://127.0.0.1:{port}/admin/v1/subaccounts", headers=AUTHORIZATION, timeout=10).json()
        balances = _balances(port, keys["apiKey"], keys["apiSecret"])
        assert balances["USDC"]["available"] == "1234.5"
        backup = subprocess.run(
            [
                sys.executable,
                "-m",
                "crossmargin.cli.main",
                "backup",
                str(tmp_path / "copy"),
                "--data-dir",
                str(tmp_path / "live"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert backup.returncode == 0, backup.stdout + backup.stderr
    finally:
        stop(server)
    restored_port = free_port()
    restored = start(tmp_path / "copy", restored_port, options=("--no-market-maker",))
    try:
        after = HTTP.get(f"http://127.0.0.1:{restored_port}/admin/v1/subaccounts", headers=AUTHORIZATION, timeout=10)
        assert after.json() == before
        assert _balances(restored_port, keys["apiKey"], keys["apiSecret"]) == balances
        audit = HTTP.get(f"http://127.0.0.1:{restored_port}/admin/v1/audit", headers=AUTHORIZATION, timeout=10)
        assert audit.json()["ok"] is True
    finally:
        stop(restored)
