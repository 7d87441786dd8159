"""Shared helpers: timing, progress and result files."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

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
