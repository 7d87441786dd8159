"""A `crossmargin serve` subprocess that can be killed and restarted on the same journal, for recovery tests.

Unlike `live_server.start`, its output goes to a log file (appended across restarts), so a server
that logs a lot never blocks on a full pipe and a test can read everything it printed, and it can
start with any `serve` options (a PostgreSQL URL, wall clock, no demo). `send` replays exactly the
bytes of a request built once: the way a replay attacker or a retrying client sends them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from live_server import TOKEN, free_port
from plain_http import HTTP
from signing_client import signed_headers

READY_SECONDS = 60.0
NO_RATE_LIMIT = ("--no-rate-limit",)
"""For servers loaded as fast as they answer (journal faults, the soak): they measure durability, not a
client's manners; the rate limits have their own tests (`tests/e2e/test_rate_limits_live.py`)."""
EXIT_SECONDS = 60.0


@dataclass(frozen=True)
class SignedRequest:
    """A signed request built once: method, path, body bytes and headers, to send as often as a test likes."""

    method: str
    path: str
    body: bytes
    headers: Mapping[str, str]


def sign_request(
    api_key: str,
    api_secret: str,
    method: str,
    path: str,
    instruction: str,
    parameters: Mapping[str, object],
    *,
    window_ms: int = 60_000,
) -> SignedRequest:
    """Sign a JSON-body request the way Backpack clients do, now, with the given window."""
    headers = signed_headers(api_key, api_secret, instruction, parameters, int(time.time() * 1000), window_ms)
    body = httpx.Request(method, "http://x", json=dict(parameters)).content
    return SignedRequest(method, path, body, {**headers, "Content-Type": "application/json"})


@dataclass
class ServerProcess:
    """One data directory (or database) served by a restartable `crossmargin serve` process."""

    data_dir: Path
    log_path: Path
    options: Sequence[str] = ("--clock", "manual")
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> None:
        """Start the server; with `wait`, return once it answers `/api/v1/ping`."""
        command = [sys.executable, "-m", "crossmargin.cli.main", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--admin-token", TOKEN, *self.options]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"}
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        """Wait until the server answers, failing with its log if it exits or takes longer than `seconds`."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}: {self.log()}")
            try:
                if HTTP.get(f"{self.url}/api/v1/ping", timeout=1).text == "pong":
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not answer within {seconds} s: {self.log()}")

    def kill(self) -> None:
        """Kill the server with SIGKILL and reap it."""
        assert self.process is not None, "start() first"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(EXIT_SECONDS)

    def terminate(self) -> int:
        """Stop the server with SIGTERM; return its exit status."""
        assert self.process is not None, "start() first"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(EXIT_SECONDS)

    def wait_exit(self, seconds: float = EXIT_SECONDS) -> int:
        """Wait for the server to exit by itself; return its exit status."""
        assert self.process is not None, "start() first"
        return self.process.wait(seconds)

    def stop_quietly(self) -> None:
        """Make sure no server process is left behind (for `finally` blocks)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(EXIT_SECONDS)

    def log(self) -> str:
        """Return everything the server printed so far, across restarts."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def admin(self, method: str, path: str, body: Mapping[str, object] | None = None) -> httpx.Response:
        """Call the operator API with the admin token."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return HTTP.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=30)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """Send a public GET."""
        return HTTP.get(f"{self.url}{path}", params=params, timeout=30)

    def send(self, request: SignedRequest, timeout: float = 30) -> httpx.Response:
        """Send the exact bytes of a signed request."""
        return HTTP.request(
            request.method, f"{self.url}{request.path}", content=request.body, headers=request.headers, timeout=timeout
        )

    def signed_get(self, api_key: str, api_secret: str, path: str, instruction: str) -> httpx.Response:
        """Send a signed GET without parameters."""
        headers = signed_headers(api_key, api_secret, instruction, {}, int(time.time() * 1000))
        return HTTP.get(f"{self.url}{path}", headers=headers, timeout=30)
