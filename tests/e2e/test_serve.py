"""`crossmargin serve` as a real process on loopback: it answers, stops gracefully, and restarts intact."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
from live_server import TOKEN, free_port, start, stop
from nacl.signing import SigningKey


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
    assert f"Web page: http://127.0.0.1:{port}/lend" in output
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
