"""What `/api/v1/status` says beyond a journal fault: a stopped sequencer or a dead background worker.

A journal fault is the service's own (`app/faults.py`). The sequencer can also be stopped without
one (closed), and the workers `crossmargin serve` starts (the risk monitor that liquidates, the
scheduler that runs interest, funding and settlements, the price feed) each run on a thread that
a bug can end: the exchange would go on taking orders with nobody liquidating. Each of these makes
the status Maintenance, with a message naming what stopped, so a health check sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from crossmargin.app.service import Service


@runtime_checkable
class Watched(Protocol):
    """A background worker whose liveness the metrics and `/api/v1/status` report."""

    @property
    def worker_name(self) -> str:
        """Return the worker's name, as the `worker` label says it."""
        ...

    @property
    def running(self) -> bool:
        """Return whether its thread runs (False once stopped, or dead from an error)."""
        ...


def not_serving(service: Service, watched: Sequence[Watched]) -> str | None:
    """Return why the exchange is in maintenance (a fault, a stopped sequencer, dead workers), or None."""
    fault = service.fault
    if fault is not None:
        return fault.message
    if not service.running:
        return "The sequencer has stopped: the exchange takes no commands until it is restarted."
    stopped = [worker.worker_name for worker in watched if not worker.running]
    if stopped:
        return (
            f"Background work stopped: {', '.join(stopped)}. The operator's log says why; the exchange needs a "
            "restart to run it again."
        )
    return None
