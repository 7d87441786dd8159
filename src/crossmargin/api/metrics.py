"""The operator's metrics in Prometheus's text format, from prometheus-client, one registry per server.

`Metrics` owns a `CollectorRegistry` of its own (never the library's global one, so two apps in
one process, as in the tests, never clash) with:

- the HTTP metrics, counted as requests are answered (`http_metrics.py`);
- a collector that reads everything else when scraped: the sequencer's counters
  (`app/sequencer_stats.py`), its queue and fault, the streams' connections and dropped consumers,
  and from the durable state (one `Service.read`, between batches) the liquidations, the
  insurance fund and each index price's age; the background workers' liveness; the replica lag;
- the process's own collectors (CPU, memory, open files, garbage collections).

Nothing is computed on the hot path but the sequencer's plain counters: a scrape does the rest.
`METRIC_NAMES` lists every metric this module exposes (docs/OPERATIONS.md describes each).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from crossmargin.api.health import Watched
from crossmargin.app.faults import ServiceUnavailableError
from crossmargin.app.sequencer_stats import Buckets
from crossmargin.app.service import Service
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

__all__ = ["CONTENT_TYPE", "HTTP_SECONDS_BOUNDS", "METRIC_NAMES", "Metrics", "Streams", "Watched"]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
HTTP_SECONDS_BOUNDS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
MS_PER_SECOND: Final = 1000

METRIC_NAMES: Final = (
    "crossmargin_commands_total",
    "crossmargin_batch_commands",
    "crossmargin_journal_flush_seconds",
    "crossmargin_snapshot_seconds",
    "crossmargin_command_queue_depth",
    "crossmargin_journal_sequence",
    "crossmargin_journal_up",
    "crossmargin_sequencer_up",
    "crossmargin_worker_up",
    "crossmargin_websocket_connections",
    "crossmargin_websocket_dropped_consumers_total",
    "crossmargin_liquidation_steps_total",
    "crossmargin_backstops_total",
    "crossmargin_auto_deleverages_total",
    "crossmargin_lend_index_cuts_total",
    "crossmargin_insurance_fund_balance",
    "crossmargin_insurance_fund_value_usd",
    "crossmargin_index_price_age_seconds",
    "crossmargin_index_price_max_age_seconds",
    "crossmargin_replica_lag_commands",
    "crossmargin_replica_lag_seconds",
    "crossmargin_http_requests_total",
    "crossmargin_http_request_duration_seconds",
)
"""Every metric of this module, as a scrape names its family (a counter without its `_total`, see `family_name`)."""


class Streams(Protocol):
    """What the metrics read of the WebSocket streams (`api/streams.StreamHub`)."""

    @property
    def connections(self) -> int:
        """Return the open WebSocket connections."""
        ...

    @property
    def dropped_consumers(self) -> int:
        """Return the connections cut off as slow consumers since the start."""
        ...


def family_name(name: str) -> str:
    """Return the name prometheus-client's parser gives a metric's family (a counter loses its `_total`)."""
    return name.removesuffix("_total")


@dataclass(frozen=True, slots=True)
class _StateFigures:
    liquidation_steps: int
    backstops: int
    auto_deleverages: int
    lend_index_cuts: int
    fund_balances: tuple[tuple[str, float], ...]
    fund_value_usd: float
    price_ages_seconds: tuple[tuple[str, float], ...]
    price_max_age_seconds: float


def _state_figures(state: EngineState, now_ms: int) -> _StateFigures:
    """Read what the metrics show of the state (under the service's lock: quick, and changes nothing)."""
    tx = StateView(state, max(now_ms, state.now_ms))
    holdings = tx.holdings(INSURANCE_FUND_ID) if INSURANCE_FUND_ID in state.subaccounts else {}
    balances = []
    for symbol, spec in sorted(state.specs.items()):
        holding = holdings.get(symbol)
        net = 0 if holding is None else holding.spot_atoms + holding.lend_atoms - holding.debt_atoms
        balances.append((symbol, net / 10**spec.decimals))
    settings = state.oracle
    ages = tuple(
        (symbol, (tx.now_ms - state.price_updated_ms.get(symbol, settings.configured_ms)) / MS_PER_SECOND)
        for symbol in sorted(state.mark_prices_wad)
    )
    max_age = settings.price_max_age_ms
    return _StateFigures(
        liquidation_steps=len(state.liquidation_steps),
        backstops=len(state.backstops),
        auto_deleverages=len(state.auto_deleverages),
        lend_index_cuts=len(state.lend_index_cuts),
        fund_balances=tuple(balances),
        fund_value_usd=fund_value_wad(tx) / WAD,
        price_ages_seconds=ages,
        price_max_age_seconds=math.inf if max_age is None else max_age / MS_PER_SECOND,
    )


def _histogram(name: str, documentation: str, buckets: Buckets) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, documentation, buckets=buckets.cumulative(), sum_value=buckets.total)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _ServiceCollector(Collector):
    """Everything but HTTP, read from the service, its streams and workers when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        """Yield the sequencer's, the streams', the workers' and the state's metrics."""
        metrics = self._metrics
        service = metrics.service
        yield from self._sequencer(service)
        yield from self._streams(metrics.streams)
        workers = GaugeMetricFamily("crossmargin_worker_up", "1 while a background worker runs", labels=["worker"])
        for worker in metrics.watched:
            workers.add_metric([worker.worker_name], 1.0 if worker.running else 0.0)
        yield workers
        lag_commands, lag_seconds = metrics.replica_lag
        yield _gauge(
            "crossmargin_replica_lag_commands",
            "Commands a replica is behind its primary (0 on a primary)",
            lag_commands,
        )
        yield _gauge(
            "crossmargin_replica_lag_seconds", "Seconds a replica is behind its primary (0 on a primary)", lag_seconds
        )
        try:
            figures = service.read(lambda state: _state_figures(state, service.now_ms()))
        except ServiceUnavailableError:
            return  # a journal fault: the state is not readable, `crossmargin_journal_up` says why
        yield from _state_metrics(figures)

    @staticmethod
    def _sequencer(service: Service) -> Iterator[Metric]:
        stats = service.stats
        commands = CounterMetricFamily(
            "crossmargin_commands",
            "Commands the sequencer answered, by type and result (accepted, refused with its reason, duplicate)",
            labels=["command", "result", "reason"],
        )
        for kind, count in sorted(stats.accepted.copy().items(), key=lambda item: item[0].__name__):
            commands.add_metric([kind.__name__, "accepted", ""], count)
        for (kind, reason), count in sorted(stats.refused.copy().items(), key=lambda item: item[0][0].__name__):
            commands.add_metric([kind.__name__, "refused", reason.value], count)
        for kind, count in sorted(stats.duplicates.copy().items(), key=lambda item: item[0].__name__):
            commands.add_metric([kind.__name__, "duplicate", ""], count)
        yield commands
        yield _histogram("crossmargin_batch_commands", "Commands per sequencer batch", stats.batch_commands)
        yield _histogram(
            "crossmargin_journal_flush_seconds", "Time to make one batch durable in the journal", stats.flush_seconds
        )
        yield _histogram(
            "crossmargin_snapshot_seconds",
            "Time to save one snapshot (the writer thread runs no command meanwhile)",
            stats.snapshot_seconds,
        )
        yield _gauge("crossmargin_command_queue_depth", "Submissions waiting for the sequencer", service.queue_depth)
        yield _gauge("crossmargin_journal_sequence", "Sequence of the last durable command", service.sequence)
        yield _gauge(
            "crossmargin_journal_up", "1 while the journal takes writes, 0 during a fault", service.fault is None
        )
        yield _gauge("crossmargin_sequencer_up", "1 while the sequencer thread runs", service.running)

    @staticmethod
    def _streams(streams: Streams | None) -> Iterator[Metric]:
        connections = 0 if streams is None else streams.connections
        dropped = 0 if streams is None else streams.dropped_consumers
        yield _gauge("crossmargin_websocket_connections", "Open WebSocket connections", connections)
        yield CounterMetricFamily(
            "crossmargin_websocket_dropped_consumers",
            "WebSocket connections closed for falling too far behind (slow consumers)",
            value=dropped,
        )


def _state_metrics(figures: _StateFigures) -> Iterator[Metric]:
    for name, documentation, value in (
        ("crossmargin_liquidation_steps", "Liquidation steps the engine has taken", figures.liquidation_steps),
        ("crossmargin_backstops", "Accounts the insurance fund took over", figures.backstops),
        ("crossmargin_auto_deleverages", "Auto-deleveraging closes", figures.auto_deleverages),
        ("crossmargin_lend_index_cuts", "Lend-index cuts (losses shared by lenders)", figures.lend_index_cuts),
    ):
        yield CounterMetricFamily(name, f"{documentation}, in the whole journal", value=value)
    balances = GaugeMetricFamily(
        "crossmargin_insurance_fund_balance",
        "The insurance fund's net balance per asset (available + lent - owed), in the asset's units",
        labels=["asset"],
    )
    for symbol, balance in figures.fund_balances:
        balances.add_metric([symbol], balance)
    yield balances
    yield _gauge("crossmargin_insurance_fund_value_usd", "The insurance fund's value in USD", figures.fund_value_usd)
    ages = GaugeMetricFamily(
        "crossmargin_index_price_age_seconds", "Engine seconds since each index price was last set", labels=["asset"]
    )
    for symbol, age in figures.price_ages_seconds:
        ages.add_metric([symbol], age)
    yield ages
    yield _gauge(
        "crossmargin_index_price_max_age_seconds",
        "The age beyond which an index price is stale (the oracle guard's limit; +Inf: no limit)",
        figures.price_max_age_seconds,
    )


class Metrics:
    """One server's metrics: its registry, the HTTP counters, and what a scrape reads from the service."""

    def __init__(self, service: Service, *, watched: Iterable[Watched] = (), process: bool = True) -> None:
        """Collect `service`'s metrics and the liveness of `watched` workers; with `process`, the process's too."""
        self.service = service
        self.watched: tuple[Watched, ...] = tuple(watched)
        self.streams: Streams | None = None
        self.replica_lag: tuple[float, float] = (0.0, 0.0)
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "crossmargin_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "crossmargin_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            ["route", "method"],
            buckets=HTTP_SECONDS_BOUNDS,
            registry=self.registry,
        )
        self._http_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registry.register(_ServiceCollector(self))
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def watch_streams(self, streams: Streams) -> None:
        """Report the WebSocket connections and dropped consumers of `streams`."""
        self.streams = streams

    def watch(self, workers: Sequence[Watched]) -> None:
        """Also report the liveness of `workers`."""
        self.watched = (*self.watched, *workers)

    def set_replica_lag(self, commands: int, seconds: float) -> None:
        """Set how far a replica is behind its primary (a primary leaves it at 0, 0)."""
        self.replica_lag = (float(commands), float(seconds))

    def render(self) -> bytes:
        """Return the text a Prometheus scrape reads (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered HTTP request.

        Each (route template, method, status) keeps its two series: `labels()` builds a key and
        takes a lock on every call (3.1 µs a request against 1.4 µs, measured). The keys are
        bounded as the labels are (`http_metrics.py`); a race adds the same series twice, harmlessly.
        """
        key = (route, method, status)
        series = self._http_series.get(key)
        if series is None:
            series = (self.http_requests.labels(route, method, str(status)), self.http_seconds.labels(route, method))
            self._http_series[key] = series
        series[0].inc()
        series[1].observe(seconds)
