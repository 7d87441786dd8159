"""Price feed: a daemon thread that asks a `PriceSource` for prices and submits them as one `SetMarkPrices`.

Every `interval_ms` of engine time (at most `UPDATES_PER_WALL_SECOND_MAX` times a wall second, so a
fast accelerated clock does not flood the journal), it asks the source for the prices at the
engine's time and submits what it returns through the service, the one price path: the oracle
guards apply (a move beyond the jump band is refused, a feed that says nothing lets prices go
stale), perp marks and funding follow as after an operator's `prices set`, which keeps working
alongside. A refusal is logged and counted and the feed goes on; an error of the source is logged
and the feed asks again at the next interval. While the service refuses commands during a journal
fault, it tries again every `FAULT_RETRY_SECONDS` with the prices it could not submit, unless
fresher ones have come since.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Final

from crossmargin.app.clock import clock_rate
from crossmargin.app.faults import FAULT_RETRY_SECONDS, ServiceFailedError, ServiceUnavailableError
from crossmargin.app.ports import PriceSource
from crossmargin.app.service import Service, ServiceClosedError
from crossmargin.core.commands import SetMarkPrices
from crossmargin.core.engine import Rejected

INTERVAL_MS_DEFAULT: Final = 1_000
UPDATES_PER_WALL_SECOND_MAX: Final = 4
LOG = logging.getLogger("crossmargin.price_feed")


def engine_interval_ms(rate: float, interval_ms: int = INTERVAL_MS_DEFAULT) -> int:
    """Return the engine time between two asks on a clock running `rate` times as fast as the wall clock."""
    return max(interval_ms, math.ceil(rate * 1000 / UPDATES_PER_WALL_SECOND_MAX))


class PriceFeed:
    """Submit the prices of `source` every `interval_ms` of engine time, in a daemon thread."""

    def __init__(
        self,
        service: Service,
        source: PriceSource,
        *,
        interval_ms: int = INTERVAL_MS_DEFAULT,
        force_first: bool = False,
    ) -> None:
        assert interval_ms > 0, "the feed asks its source every so many milliseconds, at least one"
        self._service = service
        self._source = source
        self.engine_interval_ms = engine_interval_ms(clock_rate(service.clock), interval_ms)
        self.wait_seconds = self.engine_interval_ms / 1000 / clock_rate(service.clock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-price-feed", daemon=True)
        self._pending: dict[str, int] | None = None
        self._force_next = force_first
        """Submit the next update past the jump guard (a live venue's first prices after a start)."""
        self.updates_accepted = 0
        self.updates_refused = 0
        self.source_errors = 0

    @property
    def source(self) -> PriceSource:
        """Return the source the feed asks."""
        return self._source

    @property
    def worker_name(self) -> str:
        """Return the name the metrics and the status give this worker."""
        return "price-feed"

    @property
    def running(self) -> bool:
        """Return whether the thread runs (False before `start`, after `stop`, and once an error ended it)."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, wait for it and close the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._source.close()

    def poll(self) -> bool:
        """Ask the source at the engine's time and submit what it returns; return whether anything was submitted.

        Raises `ServiceUnavailableError` during a journal fault (the prices wait for the next poll).
        """
        try:
            fresh = self._source.prices_at(self._service.now_ms())
        except Exception:  # a broken source must not stop the feed: it may answer next time
            self.source_errors += 1
            LOG.exception("the price source %s failed; asking again at the next interval", self._source.name)
            fresh = None
        if fresh:
            self._pending = {**(self._pending or {}), **fresh}
        if not self._pending:
            return False
        command = SetMarkPrices(tuple(sorted(self._pending.items())), force=self._force_next)
        result = self._service.execute(command)
        self._pending = None
        if isinstance(result, Rejected):
            self.updates_refused += 1
            LOG.warning("prices from %s refused: %s", self._source.name, result.rejection.message)
        else:
            self.updates_accepted += 1
            self._force_next = False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.wait_seconds
            try:
                self.poll()
            except (ServiceFailedError, ServiceClosedError):
                return  # the service is going away; it logged why
            except ServiceUnavailableError:
                wait = FAULT_RETRY_SECONDS  # a journal fault: the prices are submitted once it is over
            self._stop.wait(wait)
