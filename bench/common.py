"""Shared helpers: timing, progress and result files."""

from __future__ import annotations

import cProfile
import json
import platform
import pstats
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Return the fastest wall time of `repeats` runs of `work`, in seconds."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def print_profile(title: str, work: Callable[[], object], top: int = 12) -> list[dict[str, object]]:
    """Run `work` under cProfile; print and return its top functions by cumulative time (share of the run)."""
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats = pstats.Stats(profiler)
    total = max((row[3] for row in stats.stats.values()), default=1.0)  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    found = [
        {
            "function": f"{Path(filename).name}:{line}({name})",
            "calls": calls,
            "cumulative_share": round(cumulative / total, 3),
            "own_share": round(own / total, 3),
        }
        for (filename, line, name), (_, calls, own, cumulative, _) in rows
        if not filename.startswith("<") and "bench" not in Path(filename).parent.name
    ][:top]
    print(f"  {title} (cumulative share, own share, calls):")
    for row in found:
        print(f"    {row['cumulative_share']:>6.1%} {row['own_share']:>6.1%} {row['calls']!s:>9}  {row['function']}")
    return found


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
