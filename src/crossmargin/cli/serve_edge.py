"""`crossmargin serve --edge-workers N`: N edge worker processes in front of the one sequencer process.

The shape Backpack describes (N API pods, one linear command stream), on one machine. This process
keeps the service (the sequencer thread, the journal, the scheduler, the market maker and the risk
monitor) and serves, on its event loop, the command channel (`app/command_channel.py`) and the full
application on a Unix socket for the requests workers forward (reads, the operator API, the web
page, WebSocket streams). The workers (`api/edge.py`) share the listening TCP socket: the kernel
spreads connections among them; they parse, verify signatures and send commands on.

Both Unix sockets live in a fresh directory only this user can enter (`tempfile.mkdtemp`, 0700),
removed at exit. On SIGTERM or Ctrl-C the workers stop first (each finishes its requests in flight,
which still reach the sequencer), then the forwarded-request server, then the service closes with
a snapshot, as in one process. A worker that dies is started again.

Each worker counts its own rate-limit budgets and appends its own access-log lines (whole lines per
write, so several workers can share one file or standard output).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Final, NamedTuple

import uvicorn
from starlette.types import ASGIApp

from crossmargin.api.access_log import AccessLogWriter
from crossmargin.api.edge import EdgeApp
from crossmargin.api.edge_reads import answer_read
from crossmargin.api.http_metrics import HttpObserver
from crossmargin.api.rate_budgets import RateLimitSettings
from crossmargin.api.rate_limit import RateLimiter
from crossmargin.app.command_channel import SequencerChannel
from crossmargin.app.faults import Fault
from crossmargin.app.gc_tuning import freeze_startup_objects
from crossmargin.app.service import Service
from crossmargin.cli.http_stack import EVENT_LOOP, HTTP_PARSER

LOG = logging.getLogger("crossmargin.serve")
WORKER_STOP_SECONDS: Final = 15.0
WORKER_CHECK_SECONDS: Final = 0.5
WORKER_RESTART_SECONDS: Final = 2.0
"""A worker that stopped is started again, at most once in this many seconds (one that cannot start would spin)."""


@dataclass(frozen=True, slots=True)
class EdgeOptions:
    """How the workers serve: where, with which token and host names, how gracefully."""

    host: str
    port: int
    workers: int
    admin_token: str
    allowed_hosts: tuple[str, ...]
    graceful_shutdown_seconds: int
    fault_exit_delay_seconds: float
    rate_limits: RateLimitSettings | None = None
    access_log: str | None = None


class _SequencerServer(uvicorn.Server):
    """The forwarded-request server: signals are the orchestrator's, which stops the workers first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def run_worker(
    listener: socket.socket, channel_path: str, app_path: str, options: EdgeOptions
) -> None:  # pragma: no cover -- runs in a worker process; the e2e tests drive it
    """Serve the edge application on the shared socket until SIGTERM (or until the sequencer process is gone)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Ctrl-C reaches every process of the group; the sequencer process stops the workers in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limiter = None if options.rate_limits is None else RateLimiter(options.rate_limits, options.admin_token)
    access_log = None if options.access_log is None else AccessLogWriter(options.access_log)
    app = EdgeApp(
        channel_path,
        app_path,
        options.admin_token,
        allowed_hosts=(options.host, *options.allowed_hosts),
        rate_limiter=limiter,
        access_log=access_log,
    )
    config = uvicorn.Config(
        app,
        http=HTTP_PARSER,
        loop=EVENT_LOOP,
        lifespan="on",
        log_level="warning",
        proxy_headers=False,  # the rate limits count the connection's address, not one a client names
        timeout_graceful_shutdown=options.graceful_shutdown_seconds,
        ws_per_message_deflate=True,  # as `serve`: accept a client's permessage-deflate offer
    )
    server = _WorkerServer(config)
    app.client.on_lost = lambda: setattr(server, "should_exit", True)
    freeze_startup_objects()  # ready: what exists now lives as long as the worker (app/gc_tuning.py)
    try:
        with contextlib.suppress(SystemExit):
            server.run(sockets=[listener])
    finally:
        if access_log is not None:
            access_log.close()


class _WorkerServer(uvicorn.Server):  # pragma: no cover -- runs in a worker process
    """A worker's server: SIGTERM stops it gracefully and the process then exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        original = signal.signal(signal.SIGTERM, lambda _signum, _frame: setattr(self, "should_exit", True))
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, original)


def serve_with_edge_workers(
    app: ASGIApp, service: Service, options: EdgeOptions, fatal: list[Fault], metrics: HttpObserver | None = None
) -> None:
    """Serve until SIGTERM, Ctrl-C or a fatal journal fault: workers in front, this process behind them.

    `metrics` counts the requests the workers answer themselves (they report them over the channel).
    """
    directory = tempfile.mkdtemp(prefix="crossmargin-edge-")
    try:
        channel_path = str(Path(directory) / "channel.sock")
        app_path = str(Path(directory) / "app.sock")
        listener = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning").bind_socket()
        app_socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        app_socket.bind(app_path)
        Path(app_path).chmod(0o600)
        app_socket.listen(2048)
        try:
            sockets = _Sockets(listener, app_socket, channel_path, app_path)
            freeze_startup_objects()  # ready: what exists now lives as long as the process (app/gc_tuning.py)
            asyncio.run(_sequencer_main(app, service, options, fatal, sockets, metrics))
        finally:
            listener.close()
            app_socket.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class _Sockets(NamedTuple):
    """The sequencer process's sockets: the public listener the workers share, the forwarded app's, and both paths."""

    listener: socket.socket
    app_socket: socket.socket
    channel_path: str
    app_path: str


async def _sequencer_main(
    app: ASGIApp,
    service: Service,
    options: EdgeOptions,
    fatal: list[Fault],
    sockets: _Sockets,
    metrics: HttpObserver | None,
) -> None:
    listener, app_socket, channel_path, app_path = sockets
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    observe_http = None if metrics is None else metrics.observe_http
    channel = SequencerChannel(service, loop, functools.partial(answer_read, service), observe_http)
    channel_server = await asyncio.start_unix_server(channel.serve, path=channel_path)
    config = uvicorn.Config(
        app, http=HTTP_PARSER, log_level="warning", timeout_graceful_shutdown=options.graceful_shutdown_seconds
    )
    server = _SequencerServer(config)
    serving = loop.create_task(server.serve(sockets=[app_socket]))

    def stop_soon() -> None:
        loop.call_soon_threadsafe(stop.set)

    _watch_fatal_fault(service, options.fault_exit_delay_seconds, fatal, stop_soon)

    context = multiprocessing.get_context("spawn")
    started_at: dict[int, float] = {}

    def start_worker(number: int) -> BaseProcess:
        worker = context.Process(
            target=run_worker,
            args=(listener, channel_path, app_path, options),
            name=f"crossmargin-edge-{number}",
        )
        worker.start()
        started_at[number] = time.monotonic()
        return worker

    workers = [start_worker(number) for number in range(options.workers)]
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WORKER_CHECK_SECONDS)
            for number, worker in enumerate(workers):
                if stop.is_set() or worker.is_alive() or time.monotonic() < started_at[number] + WORKER_RESTART_SECONDS:
                    continue
                LOG.error("edge worker %d stopped (exit status %s); starting it again", number, worker.exitcode)
                workers[number] = start_worker(number)
    finally:
        await loop.run_in_executor(None, _stop_workers, workers)
        server.should_exit = True
        await serving
        channel_server.close()
        await channel_server.wait_closed()


def _stop_workers(workers: list[BaseProcess]) -> None:
    """Stop every worker gracefully (each finishes its requests in flight); kill what does not stop in time."""
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            LOG.error("edge worker %s did not stop in time; killing it", worker.name)
            worker.kill()
            worker.join()


def _watch_fatal_fault(service: Service, delay_seconds: float, fatal: list[Fault], stop: Callable[[], None]) -> None:
    """After a fault the service cannot recover from, keep answering Maintenance a moment, then stop."""

    def watch() -> None:
        fault = service.wait_for_fatal_fault()
        if fault is None:
            return
        time.sleep(delay_seconds)
        fatal.append(fault)
        with contextlib.suppress(RuntimeError):  # the loop already ended: the server is stopping anyway
            stop()

    threading.Thread(target=watch, name="crossmargin-fault-watch", daemon=True).start()
