"""`crossmargin serve`: the exchange over HTTP, on SQLite by default or PostgreSQL by URL.

It opens the service (rebuilding state from the journal), starts the scheduler on a flowing clock
(wall or accelerated: hourly interest and funding, 10-second settlements), seeds the demo on a
fresh journal (prices, a lender supplying every pool and a funded market maker, in one
all-or-nothing command), starts the price feed (`--prices`: the demo walk by default with `--demo`
on a flowing clock, Backpack's live prices, a CSV replay, or none), starts the demo market maker
(unless `--no-market-maker`: its subaccount is seeded all the same, and simply does not quote)
quoting each book as the markets file says, the demo taker's random market orders (`--taker-flow`;
on by default except on a manual clock, where time moves only when told) and the risk monitor that
liquidates (unless `--no-risk-monitor`), prints where it listens, the price source and clock, the
admin token (only one it generated: a chosen one is named by its source) and a first command, and
on Ctrl-C or SIGTERM stops taking requests, lets queued commands finish and closes
the journal with a snapshot.

Exit statuses: 0 after Ctrl-C or SIGTERM; after a journal fault the service cannot recover from in
the running process (it reports Maintenance for `FAULT_EXIT_DELAY_SECONDS` first, so health checks
see it and requests in flight get their 503), `EXIT_JOURNAL_FAILED` (74, the journal cannot be
written: a full disk, a schema from another release, another writer, a journal a failover fenced
(INV-FENCE-1), also when found on opening it), `EXIT_JOURNAL_BEHIND` (65,
the journal lost acknowledged commands) or `EXIT_INTERNAL_ERROR` (70, a bug stopped the
sequencer). A supervisor restarts it; the next start rebuilds everything from the journal.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol

import uvicorn
from rich.console import Console
from starlette.applications import Starlette

from crossmargin.api.access_log import AccessLogWriter
from crossmargin.api.app import create_app
from crossmargin.api.health import Watched
from crossmargin.api.metrics import Metrics
from crossmargin.api.metrics_port import MetricsPort
from crossmargin.api.rate_budgets import RateLimitSettings
from crossmargin.api.rate_limit import RateLimiter
from crossmargin.app.clock import clock_rate, open_clock
from crossmargin.app.demo_taker import DemoTaker, ensure_demo_taker
from crossmargin.app.faults import Fault, FaultKind
from crossmargin.app.gc_tuning import freeze_startup_objects
from crossmargin.app.market_maker import (
    MARKET_MAKER_API_KEY,
    MarketMaker,
    ensure_market_maker,
    market_maker_funds_atoms,
)
from crossmargin.app.oracle_config import configure_oracle_guards
from crossmargin.app.ports import Clock, JournalFencedError, JournalLockedError, PriceSource
from crossmargin.app.price_feed import PriceFeed, engine_interval_ms
from crossmargin.app.price_sources import BACKPACK, PriceSourceError, SourceSettings, open_price_source
from crossmargin.app.price_sources.backpack_options import BackpackOptions, serve_price_max_age_ms
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.app.service import Service, ServiceUnavailableError
from crossmargin.asset_config import load_document
from crossmargin.bootstrap import open_service
from crossmargin.cli.admin_token import AdminToken, choose_admin_token
from crossmargin.cli.http_stack import EVENT_LOOP, HTTP_PARSER, http_stack
from crossmargin.compiled_core import core_is_compiled
from crossmargin.core.commands import SeedDemo
from crossmargin.core.due_work import next_due_ms
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import WAD, Ratio, parse_decimal
from crossmargin.core.rejections import RejectReason
from crossmargin.maker_config import parse_demo_trading
from crossmargin.simulation.demo_walk import DEMO_STEP_MS

DEFAULT_PRICE_JUMP_BAND: Final = Ratio(WAD // 2)
"""One price update may move a price by at most 50% unless the operator forces it (`core/oracle.py`)."""
DEMO_PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
DEMO_LIQUIDITY = {"USDC": "10000000", "USDT": "5000000", "BTC": "200", "ETH": "3000", "SOL": "50000"}
EXIT_JOURNAL_FAILED: Final = 74
EXIT_JOURNAL_BEHIND: Final = 65
EXIT_INTERNAL_ERROR: Final = 70
EXIT_USAGE: Final = 2
MANUAL_DEMO_STEP_MS: Final = 60_000
EXIT_STATUS_OF_FAULT: Final = {
    FaultKind.JOURNAL_FAILED: EXIT_JOURNAL_FAILED,
    FaultKind.JOURNAL_UNAVAILABLE: EXIT_JOURNAL_FAILED,
    FaultKind.JOURNAL_BEHIND: EXIT_JOURNAL_BEHIND,
    FaultKind.INTERNAL_ERROR: EXIT_INTERNAL_ERROR,
}
FAULT_EXIT_DELAY_SECONDS: Final = 5.0
GRACEFUL_SHUTDOWN_SECONDS: Final = 5
EDGE_WORKERS_DEFAULT: Final = 0
"""One process by default: on a 2-core machine the workers' gain is small (see docs/ARCHITECTURE.md)."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `crossmargin serve` was asked for."""

    host: str
    port: int
    database_url: str | None
    data_dir: Path
    clock: str
    demo: bool
    assets_file: Path | None
    admin_token: str | None
    market_maker: bool = True
    risk_monitor: bool = True
    allowed_hosts: tuple[str, ...] = ()
    price_max_age_ms: int | None = None
    price_jump_band: Ratio | None = DEFAULT_PRICE_JUMP_BAND
    edge_workers: int = EDGE_WORKERS_DEFAULT
    prices: str | None = None
    price_seed: int = 1
    price_file_times: Literal["relative", "absolute"] = "relative"
    backpack: BackpackOptions | None = None
    taker_flow: bool | None = None
    """The demo taker's random market orders; None: on, except on a manual clock."""
    rate_limits: RateLimitSettings | None = field(default_factory=RateLimitSettings)
    """Backpack-like budgets (`api/rate_limit.py`); None: `--no-rate-limit`."""
    access_log: str | None = None
    """`--access-log`: a file to append JSON lines to, `-` for standard output; None: no access log."""
    metrics_port: int | None = None
    """`--metrics-port`: also serve `/metrics` unguarded on 127.0.0.1 at this port (`api/metrics_port.py`)."""
    replica: bool = False
    """`--replica`: follow the journal from a PostgreSQL hot standby and serve reads only (`serve_replica.py`)."""
    primary_url: str | None = None
    """`--primary-url`: where a replica sends writers (named in its refusals)."""
    replica_poll_seconds: float = 0.05
    """`--replica-poll`: how often a replica polls the standby for new journal records."""

    @property
    def price_choice(self) -> str:
        """Return the `--prices` choice, or its default: the demo walk with `--demo` on a flowing clock."""
        if self.prices is not None:
            return self.prices
        return "demo" if self.demo and self.clock != "manual" else "none"

    @property
    def runs_taker_flow(self) -> bool:
        """Return whether the demo taker trades."""
        wanted = self.clock != "manual" if self.taker_flow is None else self.taker_flow
        return self.demo and wanted


def seed_demo(service: Service) -> bool:
    """On a fresh journal, seed the demo in one command; return whether it did (False: already in use).

    `SeedDemo` sets the prices, opens a lender that supplies every pool and opens and funds the
    market maker, all or nothing: a crash during the first start leaves no demo (the next start
    seeds it) or the whole demo, never pools left unlent or a maker without funds.
    """
    specs = service.read(lambda state: dict(state.specs))
    command = SeedDemo(
        prices_wad=tuple(
            (symbol, parse_decimal(price, 18)) for symbol, price in DEMO_PRICES.items() if symbol in specs
        ),
        liquidity_atoms=tuple(
            (symbol, parse_decimal(quantity, specs[symbol].decimals))
            for symbol, quantity in DEMO_LIQUIDITY.items()
            if symbol in specs
        ),
        market_maker_api_key=MARKET_MAKER_API_KEY,
        market_maker_funds_atoms=market_maker_funds_atoms(specs),
    )
    result = service.execute(command)
    if isinstance(result, Accepted):
        return True
    assert result.rejection.reason is RejectReason.DEMO_ALREADY_SEEDED, f"the demo seed is accepted: {result}"
    return False


def stale_price_limit_ms(options: ServeOptions) -> int | None:
    """Return the stale-price limit: the one asked for; mirroring Backpack on a flowing clock, a minute by default."""
    if options.price_choice.lower() == BACKPACK:
        return serve_price_max_age_ms(options.price_max_age_ms, wall_clock=options.clock != "manual")
    return options.price_max_age_ms


def open_prices(service: Service, options: ServeOptions) -> PriceSource | None:
    """Return the price source `--prices` names, walking or replaying from the state's prices at the engine's time."""
    specs = service.read(lambda state: dict(state.specs))
    marks = service.read(lambda state: dict(state.mark_prices_wad))
    fallback = {symbol: parse_decimal(price, 18) for symbol, price in DEMO_PRICES.items() if symbol in specs}
    settings = SourceSettings(
        listed=frozenset(specs),
        start_prices={**fallback, **{symbol: price for symbol, price in marks.items() if price > 0}},
        start_ms=service.now_ms(),
        seed=options.price_seed,
        step_ms=_demo_step_ms(options.clock, service),
        file_times=options.price_file_times,
        backpack=options.backpack,
    )
    return open_price_source(options.price_choice, settings)


def _demo_step_ms(clock: str, service: Service) -> int:
    """Return the demo walk's step: a second, or the feed's interval on a fast clock, a minute on the manual clock.

    A manual clock jumps by days at once; a minute's grid walks a year in about ten seconds.
    """
    if clock == "manual":
        return MANUAL_DEMO_STEP_MS
    return max(DEMO_STEP_MS, engine_interval_ms(clock_rate(service.clock)))


@dataclass(slots=True)
class _DemoTraders:
    """The demo's market maker and taker, each running only where the options ask for it."""

    maker: MarketMaker | None = None
    taker: DemoTaker | None = None

    def start(self, service: Service, clock: Clock, options: ServeOptions) -> None:
        """Start the market maker and the taker flow the options ask for, as the markets file configures them."""
        trading = parse_demo_trading(load_document(options.assets_file))
        if options.demo and options.market_maker:
            self.maker = MarketMaker(service, ensure_market_maker(service)[0], ladders=trading.ladders)
            self.maker.start()
        if options.runs_taker_flow:
            self.taker = DemoTaker(service, ensure_demo_taker(service)[0], clock, trading.flows)
            self.taker.start()

    def stop(self) -> None:
        """Stop the taker, then the market maker (their orders stay on the books)."""
        if self.taker is not None:
            self.taker.stop()
        if self.maker is not None:
            self.maker.stop()


def _stop_on_fatal_fault(service: Service, server: uvicorn.Server, fatal: list[Fault]) -> None:
    """Watch for a fault the service cannot recover from; then, after a grace period, stop uvicorn."""

    def watch() -> None:
        fault = service.wait_for_fatal_fault()
        if fault is None:
            return  # the service closed normally
        # Keep answering Maintenance for a moment: health checks see it, requests in flight get their 503.
        time.sleep(FAULT_EXIT_DELAY_SECONDS)
        fatal.append(fault)
        server.should_exit = True

    threading.Thread(target=watch, name="crossmargin-fault-watch", daemon=True).start()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


class Worker(Protocol):
    """A background thread `serve` starts and stops: the scheduler, price feed, demo traders, risk monitor."""

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        ...


def run_server(options: ServeOptions, console: Console) -> int:
    """Serve until interrupted or stopped by a journal fault; lose nothing on the way out; return the exit status."""
    if options.replica:
        from crossmargin.cli.serve_replica import run_replica  # noqa: PLC0415 -- serve_replica imports this module

        return run_replica(options, console)
    return _run_primary(options, console)


def _run_primary(options: ServeOptions, console: Console) -> int:
    """Serve as the sequencer (the primary): the journal, the background workers, the HTTP edge."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    clock = open_clock(options.clock)
    try:
        service = open_service(options.database_url, options.data_dir, clock, options.assets_file)
    except (JournalFencedError, JournalLockedError) as error:
        console.print(f"error: the journal cannot be written by this process: {error}", soft_wrap=True)
        return EXIT_JOURNAL_FAILED
    configure_oracle_guards(
        service, price_max_age_ms=stale_price_limit_ms(options), price_jump_band=options.price_jump_band
    )
    monitor = RiskMonitor(service) if options.risk_monitor else None
    admin_token = choose_admin_token(options.admin_token, os.environ)
    fatal: list[Fault] = []
    workers: list[Worker] = []  # started background threads, stopped in reverse order
    refused = False
    access_log = None
    metrics_port = None
    try:
        seeded = seed_demo(service) if options.demo else False
        source = open_prices(service, options)
        feed, traders = start_workers(service, options, source, workers)
        if monitor is not None:
            monitor.start()
            workers.append(monitor)
        _print_banner(console, options, admin_token, seeded=seeded, maker=traders.maker, taker=traders.taker, feed=feed)
        in_front = options.edge_workers == 0  # else each edge worker limits and logs (`api/edge.py`)
        limits = options.rate_limits if in_front else None
        access_log = AccessLogWriter(options.access_log) if in_front and options.access_log is not None else None
        metrics = Metrics(service)
        app = create_app(
            service,
            admin_token.value,
            risk_monitor=monitor,
            allowed_hosts=(options.host, *options.allowed_hosts),
            rate_limiter=None if limits is None else RateLimiter(limits, admin_token.value),
            access_log=access_log,
            metrics=metrics,
            watched=[worker for worker in workers if isinstance(worker, Watched)],
        )
        metrics_port = MetricsPort.start(metrics, options.metrics_port) if options.metrics_port else None
        if options.edge_workers > 0:
            _serve_with_edge_workers(options, app, service, admin_token.value, fatal, metrics)
        else:
            serve_in_one_process(options, app, service, fatal)
    except (KeyboardInterrupt, SystemExit):
        pass
    except ServiceUnavailableError:
        pass  # a journal fault while starting: the service logged it, and reports it below
    except PriceSourceError as error:
        console.print(f"error: {error}", soft_wrap=True)
        refused = True
    finally:
        for worker in reversed(workers):
            worker.stop()
        service.close()
        if access_log is not None:
            access_log.close()
        if metrics_port is not None:
            metrics_port.stop()
    return EXIT_USAGE if refused else exit_status(service, fatal, console)


def start_workers(
    service: Service, options: ServeOptions, source: PriceSource | None, workers: list[Worker]
) -> tuple[PriceFeed | None, _DemoTraders]:
    """Start the scheduler (on a flowing clock), the price feed and the demo traders; list them in `workers`."""
    if options.clock != "manual":
        scheduler = HourlyScheduler(service.submit, service.clock, settlement_due_ms=lambda: service.peek(next_due_ms))
        scheduler.start()
        workers.append(scheduler)
    feed = None
    if source is not None:
        # A live venue's first prices after a start are the truth, however far the journal's are.
        feed = PriceFeed(service, source, force_first=options.price_choice.lower() == BACKPACK)
        feed.start()
        workers.append(feed)
    traders = _DemoTraders()
    workers.append(traders)
    traders.start(service, service.clock, options)
    return feed, traders


def serve_in_one_process(options: ServeOptions, app: Starlette, service: Service, fatal: list[Fault]) -> None:
    """Serve `app` with uvicorn until a signal or a fatal journal fault (then listed in `fatal`)."""
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        http=HTTP_PARSER,
        loop=EVENT_LOOP,
        log_level="warning",
        proxy_headers=False,  # the rate limits count the connection's address, not an X-Forwarded-For a client sends
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ws_per_message_deflate=True,  # Backpack's clients offer permessage-deflate; accept it (uvicorn's default)
    )
    # uvicorn shuts down gracefully, then re-raises the signal it caught; with SIGTERM's default
    # action that would end the process before the journal is closed, so make it an exception.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server = uvicorn.Server(config)
    _stop_on_fatal_fault(service, server, fatal)
    freeze_startup_objects()  # ready: what exists now lives as long as the process (app/gc_tuning.py)
    server.run()


def _serve_with_edge_workers(
    options: ServeOptions, app: Starlette, service: Service, admin_token: str, fatal: list[Fault], metrics: Metrics
) -> None:
    from crossmargin.cli.serve_edge import EdgeOptions, serve_with_edge_workers  # noqa: PLC0415 -- only with workers

    edge = EdgeOptions(
        host=options.host,
        port=options.port,
        workers=options.edge_workers,
        admin_token=admin_token,
        allowed_hosts=options.allowed_hosts,
        graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS,
        fault_exit_delay_seconds=FAULT_EXIT_DELAY_SECONDS,
        rate_limits=options.rate_limits,
        access_log=options.access_log,
    )
    serve_with_edge_workers(app, service, edge, fatal, metrics)


def exit_status(service: Service, fatal: list[Fault], console: Console) -> int:
    """Print how the server stopped and return its exit status (0, or the status of the fatal fault)."""
    fault = fatal[0] if fatal else service.wait_for_fatal_fault(0)
    if fault is None:
        console.print("Stopped; every acknowledged command is in the journal.", soft_wrap=True)
        return 0
    console.print(f"Stopped after a journal fault: {fault.message}", soft_wrap=True)
    return EXIT_STATUS_OF_FAULT[fault.kind]


def _print_banner(
    console: Console,
    options: ServeOptions,
    admin_token: AdminToken,
    *,
    seeded: bool,
    maker: MarketMaker | None,
    feed: PriceFeed | None,
    taker: DemoTaker | None = None,
) -> None:
    where = options.database_url or f"SQLite in {options.data_dir}"
    url = f"http://{options.host}:{options.port}"
    console.print(
        f"[bold]crossmargin[/] listening on {url}  (journal: {where}, clock: {options.clock}, "
        f"core: {'compiled with mypyc' if core_is_compiled() else 'pure Python'}, HTTP: {http_stack()})",
        soft_wrap=True,
    )
    if options.edge_workers > 0:
        console.print(
            f"Edge: {options.edge_workers} worker processes parse and verify requests and forward commands "
            "to this process, the one sequencer.",
            soft_wrap=True,
        )
    if options.clock.startswith("accelerated:"):
        console.print(
            f"Clock: engine time runs {options.clock.partition(':')[2]}x as fast as the wall clock; "
            "every hour's interest and funding and every 10-s settlement still runs, in order.",
            soft_wrap=True,
        )
    if seeded:
        console.print("Demo: prices set and every pool supplied by a demo lender.", soft_wrap=True)
    if feed is not None:
        console.print(
            f"Prices: {feed.source.name}, submitted every {feed.engine_interval_ms / 1000:g} s of engine time "
            "through the oracle guards (--prices none to keep them still).",
            soft_wrap=True,
        )
    else:
        console.print("Prices: still; set them with `crossmargin prices set` (or serve --prices demo).", soft_wrap=True)
    if maker is not None:
        console.print(
            f"Demo: a market maker (subaccount {maker.subaccount_id}) quotes every book around the index "
            "(--no-market-maker to turn it off).",
            soft_wrap=True,
        )
    if taker is not None:
        console.print(
            f"Demo: a taker (subaccount {taker.subaccount_id}) places small random market orders "
            "(--no-taker-flow to turn it off).",
            soft_wrap=True,
        )
    _print_edge_settings(console, options)
    console.print(admin_token.describe(), soft_wrap=True)
    console.print(
        f"Web page: {url}/lend  (sign in with an API key and secret, or as operator with the admin token)",
        soft_wrap=True,
    )
    console.print(
        "First command:\n"
        f"  curl -s -X POST {url}/admin/v1/accounts {admin_token.curl_header()} "
        "-H 'Content-Type: application/json' -d '{}'",
        soft_wrap=True,
    )


def _print_edge_settings(console: Console, options: ServeOptions) -> None:
    limits = options.rate_limits
    if limits is None:
        console.print("Rate limits: off (--no-rate-limit).", soft_wrap=True)
    else:
        per = " per edge worker" if options.edge_workers > 0 else ""
        console.print(
            f"Rate limits{per} (LIMIT/SECONDS/BURST): public {limits.public.describe()} per IP, "
            f"signed {limits.signed.describe()} per API key and {limits.signed_ip.describe()} per IP; "
            "429 TOO_MANY_REQUESTS beyond (--no-rate-limit to turn them off).",
            soft_wrap=True,
        )
    if options.access_log is not None:
        where = "standard output" if options.access_log == "-" else options.access_log
        console.print(f"Access log: one JSON line per request to {where}.", soft_wrap=True)
    if options.metrics_port is not None:
        console.print(
            f"Metrics: http://127.0.0.1:{options.metrics_port}/metrics without a token (loopback only); "
            "/metrics on the main port needs the admin token.",
            soft_wrap=True,
        )
