"""An edge worker's count of the HTTP requests it answers itself, reported to the sequencer's metrics.

With `crossmargin serve --edge-workers N` the workers answer the hot routes (signed writes, the
common reads, rate refusals) without the sequencer process's application, whose `http_metrics.py`
counts only what is forwarded to it. Each worker puts its own `HttpMetrics` in front of everything
and counts here what it answers itself (a forwarded request is counted once, by the sequencer
process); `EdgeApp` hands the tally over the command channel every `REPORT_SECONDS` and when it
stops, and the sequencer process adds each request to its one `Metrics`, so /metrics has one series
per (route, method, status) whichever process answered. A worker killed by SIGKILL loses at most
its last `REPORT_SECONDS` of counts; counters never go down.
"""

from __future__ import annotations

from typing import Final

REPORT_SECONDS: Final = 1.0
HttpKey = tuple[str, str, int]
"""(route template, method, status), bounded as `http_metrics.py` bounds them."""
Tally = dict[HttpKey, list[float]]
"""The seconds each request of each key took."""


class HttpTally:
    """The requests answered since the last `take`: an `HttpObserver` that only records."""

    def __init__(self) -> None:
        self._seen: Tally = {}

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self._seen.setdefault((route, method, status), []).append(seconds)

    def take(self) -> Tally:
        """Return what was recorded since the last call, and start afresh."""
        taken, self._seen = self._seen, {}
        return taken
