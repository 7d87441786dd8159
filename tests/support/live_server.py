"""A real `crossmargin serve` process on loopback, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import httpx
from plain_http import HTTP

TOKEN = "serve-test-token"
TokenFrom = Literal["flag", "environment", "generated"]


def seconds_to_just_past(now_ms: int, period_ms: int) -> int:
    """Return the whole seconds that take a manual clock at `now_ms` to within a second past the next multiple of `period_ms`.

    Every command moves a manual clock by 1 ms, and the demo maker answers a price change with
    dozens: a test whose commands must all fall between two 10-second settlements (or two hours)
    advances this far first, leaving at least `period_ms` less a second of engine time to spare.
    """
    return -(-(period_ms - now_ms % period_ms) // 1000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(
    data_dir: Path, port: int, *, token_from: TokenFrom = "flag", options: Sequence[str] = ()
) -> subprocess.Popen[str]:
    """Start a server on a manual clock, with any further `serve` options; its admin token is TOKEN or one it generates."""
    command = [sys.executable, "-m", "crossmargin.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--clock", "manual", *options]
    # The tests run the pure core, the reference (tests/integration/test_compiled_core.py checks the compiled one).
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"CROSSMARGIN_ADMIN_TOKEN", "CROSSMARGIN_COMPILED_CORE"}
    }
    if token_from == "flag":
        command += ["--admin-token", TOKEN]
    elif token_from == "environment":
        environment["CROSSMARGIN_ADMIN_TOKEN"] = TOKEN
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**environment, "COLUMNS": "200"}
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if HTTP.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=1).text == "pong":
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
