"""Shared helpers: timing, progress and result files."""

from __future__ import annotations

import cProfile
import importlib
import json
import os
import platform
import pstats
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx

from crossmargin.compiled_core import core_is_compiled

ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """Return the fastest wall time of `repeats` runs of `work`, in seconds."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def profile_rows(work: Callable[[], object], top: int = 12) -> list[dict[str, object]]:
    """Run `work` under cProfile; return its top functions by cumulative time (share of the run)."""
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats = pstats.Stats(profiler)
    total = max((row[3] for row in stats.stats.values()), default=1.0)  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    return [
        {
            "function": f"{Path(filename).name}:{line}({name})",
            "calls": calls,
            "cumulative_share": round(cumulative / total, 3),
            "own_share": round(own / total, 3),
        }
        for (filename, line, name), (_, calls, own, cumulative, _) in rows
        if not filename.startswith("<") and "bench" not in Path(filename).parent.name
    ][:top]


def print_rows(title: str, rows: list[dict[str, object]]) -> None:
    """Print profile rows (`profile_rows`) under a title: cumulative share, own share, calls, function."""
    print(f"  {title} (cumulative share, own share, calls):")
    for row in rows:
        cumulative, own = float(str(row["cumulative_share"])), float(str(row["own_share"]))
        print(f"    {cumulative:>6.1%} {own:>6.1%} {row['calls']!s:>9}  {row['function']}")


PURE_CORE_NOTE: Final = "pure-Python core: cProfile sees no frame inside the compiled one"


def in_pure_core(module: str, function: str) -> Any:  # noqa: ANN401 -- whatever JSON the function returns
    """Return `function()` of bench module `module` (JSON), computed with the pure-Python core.

    A profile of the compiled core shows one built-in call (`engine.execute`) and nothing of what
    happens inside it, so when this process runs the compiled core the function runs in a fresh
    process with `CROSSMARGIN_COMPILED_CORE` unset; otherwise here. Its shares are the pure
    core's: the same calls, each a few times dearer than compiled.
    """
    if not core_is_compiled():
        return getattr(importlib.import_module(module), function)()
    env = {name: value for name, value in os.environ.items() if name != "CROSSMARGIN_COMPILED_CORE"}
    env["PYTHONPATH"] = os.pathsep.join((str(ROOT / "src"), str(ROOT)))
    code = f"import importlib, json; print(json.dumps(importlib.import_module({module!r}).{function}()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


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
