"""`crossmargin serve` as a real process on loopback: it answers, stops gracefully, and restarts intact."""

from __future__ import annotations

import base64
import re
import subprocess
import time
from pathlib import Path

import httpx
from live_server import TOKEN, free_port, start, stop
from nacl.signing import SigningKey
from plain_http import HTTP
from tests.environment import missing


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
        created = HTTP.post(
            f"http://127.0.0.1:{port}/admin/v1/accounts",
            json={},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        assert signed_patch(port, created["apiKey"], created["apiSecret"], {"autoLend": True}).status_code == 200
    finally:
        output = stop(server)
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "core: pure Python" in output, "the banner says which core runs (no CROSSMARGIN_COMPILED_CORE here)"
    assert "HTTP: httptools and uvloop" in output, "uvicorn runs on its C parser and libuv loop (dependencies)"
    assert "Admin token: from --admin-token" in output
    assert TOKEN not in output, "a token the operator chose never reaches the logs"
    assert f"Web page: http://127.0.0.1:{port}/lend" in output
    assert (
        f"curl -s -X POST http://127.0.0.1:{port}/admin/v1/accounts -H 'Authorization: Bearer <your --admin-token>'"
        in output
    )
    assert "Stopped; every acknowledged command is in the journal." in output

    server = start(tmp_path, port)
    try:
        again = signed_patch(port, created["apiKey"], created["apiSecret"], {"autoLend": False})
        assert again.status_code == 200, "the key journaled before the restart still signs"
        audit = HTTP.get(
            f"http://127.0.0.1:{port}/admin/v1/audit", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert audit.json()["ok"] is True
    finally:
        stop(server)


def test_serve_names_an_admin_token_from_the_environment_without_printing_it(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port, token_from="environment")
    try:
        answer = admin_post(port, TOKEN)
        assert answer.status_code == 200, "the server uses the token from CROSSMARGIN_ADMIN_TOKEN"
    finally:
        output = stop(server)
    assert "Admin token: from CROSSMARGIN_ADMIN_TOKEN" in output
    assert TOKEN not in output, "the environment's token never reaches the logs"
    assert '-H "Authorization: Bearer $CROSSMARGIN_ADMIN_TOKEN"' in output, "the first command still works as typed"


def test_serve_prints_the_admin_token_it_generated_and_accepts_it(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port, token_from="generated")
    try:
        banner = read_banner(server)
        printed = re.search(r"Admin token: (\S+)", banner)
        assert printed is not None, banner
        token = printed.group(1)
        assert f"-H 'Authorization: Bearer {token}'" in banner
        assert admin_post(port, token).status_code == 200, "the printed token is the server's"
        assert admin_post(port, TOKEN).status_code == 401
    finally:
        stop(server)


def admin_post(port: int, token: str) -> httpx.Response:
    return HTTP.post(
        f"http://127.0.0.1:{port}/admin/v1/accounts", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def read_banner(server: subprocess.Popen[str]) -> str:
    """Read what the running server printed up to its first command."""
    assert server.stdout is not None
    lines: list[str] = []
    while not any(line.startswith("  curl ") for line in lines):
        line = server.stdout.readline()
        assert line, f"the server stopped printing before its first command: {lines}"
        lines.append(line)
    return "".join(lines)


def test_serve_answers_on_httptools_and_uvloop(tmp_path: Path) -> None:
    """The running server has loaded both native modules, not only named them (Linux: its memory map)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        missing("Linux /proc", "the check reads the server's memory map from /proc")
    port = free_port()
    server = start(tmp_path, port)
    try:
        assert HTTP.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=10).status_code == 200
        mapped = Path(f"/proc/{server.pid}/maps").read_text()
    finally:
        stop(server)
    assert re.search(r"/httptools/parser/parser\.[^/]*\.so", mapped), "the HTTP parser is httptools' C one"
    assert re.search(r"/uvloop/loop\.[^/]*\.so", mapped), "the event loop is uvloop's"
