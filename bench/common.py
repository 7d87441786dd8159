"""Shared helpers: timing, progress and result files."""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(repeats: int, work: Callable[[], None]) -> float:
    """Return the fastest wall time of `repeats` runs of `work`, in seconds."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def progress(message: str) -> None:
    """Print a progress line at once."""
    print(f"  … {message}", file=sys.stderr, flush=True)


def save(name: str, results: dict[str, object]) -> Path:
    """Write results as JSON under bench/results/ and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"python": platform.python_version(), "machine": platform.machine(), **results}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_answering(process: subprocess.Popen[bytes], port: int, seconds: float) -> None:
    """Wait until the server on `port` answers GET /api/v1/ping; kill `process` and raise if it does not in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=1).text == "pong":
                return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not answer within {seconds:.0f} s")
