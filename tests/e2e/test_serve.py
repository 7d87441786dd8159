"""`crossmargin serve` as a real process on loopback: it answers, stops gracefully, and restarts intact."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from nacl.signing import SigningKey

TOKEN = "serve-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "crossmargin.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--admin-token", TOKEN, "--clock", "manual"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=1).text == "pong":
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the server did not answer within 30 s: {process.communicate()[0]}")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def signed_patch(port: int, api_key: str, api_secret: str, body: dict[str, object]) -> httpx.Response:
    timestamp = int(time.time() * 1000)
    pairs = "&".join(f"{key}={str(value).lower()}" for key, value in sorted(body.items()))
    text = f"instruction=accountUpdate&{pairs}&timestamp={timestamp}&window=5000"
    signature = SigningKey(base64.b64decode(api_secret)).sign(text.encode()).signature
    headers = {"X-API-Key": api_key, "X-Signature": base64.b64encode(signature).decode(), "X-Timestamp": str(timestamp)}
    return httpx.patch(f"http://127.0.0.1:{port}/api/v1/account", json=body, headers=headers, timeout=10)


def test_serve_prints_how_to_start_stops_gracefully_and_restarts_with_its_state(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/admin/v1/accounts",
            json={},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        assert signed_patch(port, created["apiKey"], created["apiSecret"], {"autoLend": True}).status_code == 200
    finally:
        output = stop(server)
    assert f"listening on http://127.0.0.1:{port}" in output
    assert f"Admin token: {TOKEN}" in output
    assert f"curl -s -X POST http://127.0.0.1:{port}/admin/v1/accounts -H 'Authorization: Bearer {TOKEN}'" in output
    assert "Stopped; every acknowledged command is in the journal." in output

    server = start(tmp_path, port)
    try:
        again = signed_patch(port, created["apiKey"], created["apiSecret"], {"autoLend": False})
        assert again.status_code == 200, "the key journaled before the restart still signs"
        audit = httpx.get(
            f"http://127.0.0.1:{port}/admin/v1/audit", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert audit.json()["ok"] is True
    finally:
        stop(server)
