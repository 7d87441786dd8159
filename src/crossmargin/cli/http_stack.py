"""Which HTTP parser and event loop uvicorn runs `crossmargin serve` on.

httptools (a C HTTP/1.1 parser) and uvloop (an event loop on libuv) are dependencies: against
uvicorn's pure-Python h11 and asyncio's own loop, they give 1.3x the signed borrows per second and
p99 latency at half rate of 7.9 ms instead of 12.6 ms on a 2-core machine (`bench/bench_http.py`
measures both in one run). An install without them (uvloop has no Windows build) runs on the
pure-Python pair, and the banner says which one runs.
"""

from __future__ import annotations

import importlib.util
from typing import Final, Literal


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


HTTP_PARSER: Final[Literal["httptools", "h11"]] = "httptools" if _installed("httptools") else "h11"
EVENT_LOOP: Final[Literal["uvloop", "asyncio"]] = "uvloop" if _installed("uvloop") else "asyncio"


def http_stack() -> str:
    """Name the parser and loop, for the banner (e.g. `httptools and uvloop`)."""
    return f"{HTTP_PARSER} and {EVENT_LOOP}"
