"""The HTTP edge against a real `crossmargin serve`: bounded signature work, bodies refused unread, Host checked.

Each attack here once cost the server dearly: a 64-parameter request with a made-up key meant
2^64 ED25519 verifications on the event loop (19 parameters froze it for half a minute, ping
unanswered); a 100 MB body was read whole into memory before being refused; any `Host` was served.
The asserts are on outcomes with generous bounds (a 401 within 2 s, RSS growth under 50 MB), never
on fine timings.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx
import pytest
from live_server import TOKEN, free_port, start, stop
from nacl.signing import SigningKey
from plain_http import HTTP

ALLOWED_NAME = "crossmargin.test"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Server:
    """A live server: its process id and base URL."""

    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        """Return the server process's resident memory in MiB (Linux `/proc`)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS line: this test reads Linux's /proc")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    options = ["--allowed-host", ALLOWED_NAME, "--no-market-maker"]
    process = start(tmp_path_factory.mktemp("edge"), port, options=options)
    try:
        yield Server(process.pid, port)
    finally:
        stop(process)


def _registered_key(server: Server) -> str:
    created = HTTP.post(
        f"{server.url}/admin/v1/accounts", json={}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert created.status_code == 200, created.text
    api_key: str = created.json()["apiKey"]
    return api_key


def _made_up_key(_: Server) -> str:
    return base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


def _awkward_body(count: int) -> dict[str, object]:
    """Parameters whose values each print two ways (encoded or not, true or True): 2^count texts for the old code."""
    return {f"p{index:02d}": ("a b" if index % 2 else "True") for index in range(count)}


@pytest.mark.parametrize(
    ("key_of", "refusal"),
    [(_made_up_key, "Unknown API key"), (_registered_key, "Invalid signature")],
    ids=["made-up key", "registered key with a wrong signature"],
)
def test_a_64_parameter_request_of_an_unproven_signer_is_refused_at_once_while_ping_answers(
    server: Server, key_of: Callable[[Server], str], refusal: str
) -> None:
    # A real signature of another text: libsodium cannot reject it early, each verification costs in full.
    signature = base64.b64encode(SigningKey.generate().sign(b"another text").signature).decode()
    headers = {
        "X-API-Key": key_of(server),
        "X-Signature": signature,
        "X-Timestamp": str(int(time.time() * 1000)),
        "X-Window": "60000",
        "Content-Type": "application/json",
    }
    body = json.dumps(_awkward_body(64))
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        sent = pool.submit(httpx.post, f"{server.url}/api/v1/borrowLend", content=body, headers=headers, timeout=30)
        pong = HTTP.get(f"{server.url}/api/v1/ping", timeout=30).text
        response = sent.result()
        elapsed = time.monotonic() - started

    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")
    assert refusal in response.json()["message"]
    assert pong == "pong", "the server answers others while it refuses the request"
    assert elapsed < 2.0, f"refused in {elapsed:.2f} s: the work must not grow with the parameter count"


class _RssPeak:
    """Samples a process's RSS in a thread until stopped; `peak` is the highest seen."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.before = self.peak = server.rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mib())
            time.sleep(0.005)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.2)  # let the server finish with what it received
        self._stop.set()
        self._thread.join()


def _hundred_mib_in_chunks() -> Iterator[bytes]:
    chunk = b"x" * MIB
    for _ in range(100):
        yield chunk


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_a_100_mb_body_is_refused_413_without_the_server_holding_it(server: Server, framing: str) -> None:
    # An operator route with its token: before, the body was read whole, then refused for its size.
    content = b"x" * (100 * MIB) if framing == "Content-Length" else _hundred_mib_in_chunks()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with _RssPeak(server) as memory:
        response = HTTP.post(f"{server.url}/admin/v1/deposits", content=content, headers=headers, timeout=60)

    assert response.status_code == 413
    assert response.json()["code"] == "INVALID_CLIENT_REQUEST"
    assert "at most 65536 bytes" in response.json()["message"]
    growth = memory.peak - memory.before
    assert growth < 50, f"the server's RSS grew {growth:.0f} MiB while refusing a 100 MB body"
    assert HTTP.get(f"{server.url}/api/v1/ping", timeout=10).text == "pong", "the connection pool is still usable"


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", f"{ALLOWED_NAME}:8443"])
def test_loopback_names_and_an_allowed_host_are_served(server: Server, host: str) -> None:
    response = HTTP.get(f"{server.url}/api/v1/ping", headers={"Host": host.format(port=server.port)}, timeout=10)
    assert (response.status_code, response.text) == (200, "pong")


@pytest.mark.parametrize("path", ["/api/v1/ping", "/lend", "/admin/v1/clock"])
def test_a_foreign_host_is_refused_421_on_every_kind_of_route(server: Server, path: str) -> None:
    headers = {"Host": "rebound.example:8080", "Authorization": f"Bearer {TOKEN}"}
    response = HTTP.get(f"{server.url}{path}", headers=headers, timeout=10)
    assert response.status_code == 421
    assert response.json()["code"] == "INVALID_CLIENT_REQUEST"
    assert "'rebound.example:8080' is not served here" in response.json()["message"]
    assert "--allowed-host" in response.json()["message"]


def _upgrade_status(server: Server, host: str) -> str:
    """Send a WebSocket upgrade to /ws naming `host`; return the answer's status line."""
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request.encode())
        return connection.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_a_websocket_upgrade_naming_a_foreign_host_is_refused(server: Server) -> None:
    assert _upgrade_status(server, "rebound.example") == "HTTP/1.1 421 Misdirected Request"
    assert _upgrade_status(server, f"localhost:{server.port}") == "HTTP/1.1 101 Switching Protocols"
