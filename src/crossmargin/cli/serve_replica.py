"""`crossmargin serve --replica`: a read replica on a PostgreSQL hot standby, which can take over as the sequencer.

It rebuilds the state from the standby's snapshot and journal (as a start does), audits it, and
follows the journal (`app/replica.py`), serving every read and stream; writes get 403 `FORBIDDEN`
naming `--primary-url`. Nothing that writes runs on a replica: no demo seed, scheduler, price feed,
demo traders or risk monitor, and no asset configuration (the primary journals those).

Failover (`POST /admin/v1/replica/promote`, sent by `crossmargin promote` once PostgreSQL promoted
the standby): the follower stops, the journal is opened as its writer on the promoted database
(advisory lock, migration, a new writer term: INV-FENCE-1), the old primary's database is fenced
when `fenceDatabaseUrl` names it, the records the follower had not applied yet are applied, and
the service becomes the sequencer; then the options' workers start as on a primary (scheduler,
price feed, demo traders, risk monitor, oracle guards). The process keeps its port: clients of
the replica find the new primary where they were.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console

from crossmargin.adapters.postgres_journal import PostgresJournal
from crossmargin.adapters.postgres_replica import StandbyJournal, fence_journal
from crossmargin.api.access_log import AccessLogWriter
from crossmargin.api.app import create_app
from crossmargin.api.metrics import Metrics
from crossmargin.api.metrics_port import MetricsPort
from crossmargin.api.rate_limit import RateLimiter
from crossmargin.app.clock import AcceleratedClock, ManualClock, open_clock
from crossmargin.app.faults import Fault
from crossmargin.app.oracle_config import configure_oracle_guards
from crossmargin.app.ports import Clock
from crossmargin.app.rebuild import check_audit, rebuild_with_history
from crossmargin.app.replica import Promotion, PromotionRefusedError, ReplicaFollower, ReplicaRole
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Recovery, Service, ServiceUnavailableError
from crossmargin.bootstrap import POSTGRES_SCHEMES
from crossmargin.cli.admin_token import choose_admin_token
from crossmargin.cli.serve import (
    EXIT_USAGE,
    ServeOptions,
    Worker,
    exit_status,
    open_prices,
    serve_in_one_process,
    stale_price_limit_ms,
    start_workers,
)

LOG = logging.getLogger("crossmargin.replica")


def redacted(url: str) -> str:
    """Return a database URL without its password, to name it in a fence or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, parts.fragment))


def open_replica(standby: StandbyJournal, clock: Clock, primary_url: str) -> Service:
    """Rebuild and audit the state from the standby; return a read-only service over it on `clock`."""
    state, history, sequence, snapshot_sequence = rebuild_with_history(standby)
    check_audit(state, sequence)
    if isinstance(clock, ManualClock | AcceleratedClock) and clock.now_ms() < state.now_ms:
        clock.advance_to(state.now_ms)
    message = f"This server is a read replica; send writes to the primary at {primary_url}"
    return Service(
        standby, clock, state, sequence, snapshot_sequence=snapshot_sequence, history=history, read_only=message
    )


class _Takeover:
    """The failover steps, run once by `POST /admin/v1/replica/promote`."""

    def __init__(
        self, service: Service, standby: StandbyJournal, options: ServeOptions, monitor: RiskMonitor | None
    ) -> None:
        self.service = service
        self.standby = standby
        self.options = options
        self.monitor = monitor
        self.follower: ReplicaFollower | None = None
        self.workers: list[Worker] = []

    def __call__(self, fence_url: str | None) -> Promotion:
        started = time.monotonic()
        url = self.options.database_url
        assert url is not None, "a replica has a database URL"
        if self.standby.in_recovery():
            raise PromotionRefusedError(
                "PostgreSQL has not promoted this replica's standby yet: promote it first "
                "(`pg_ctlcluster VERSION NAME promote`, or `SELECT pg_promote()`), then run `crossmargin promote`"
            )
        if self.follower is not None:
            self.follower.stop()
        try:
            journal, sequence, fenced = self._take_over(url, fence_url)
        except BaseException:
            if self.follower is not None:
                self.follower.start()  # still a replica: go on following
            raise
        try:
            self._start_sequencer_workers()
        except Exception:  # the sequencer runs and takes writes; what failed is logged for the operator
            LOG.exception("took over as the sequencer, but starting its background workers failed")
        took_ms = round((time.monotonic() - started) * 1000)
        LOG.warning(
            "took over as the sequencer at sequence %d (writer term %d) in %d ms", sequence, journal.term, took_ms
        )
        return Promotion(sequence, journal.term, fenced, took_ms)

    def _take_over(self, url: str, fence_url: str | None) -> tuple[PostgresJournal, int, str]:
        journal = PostgresJournal(url)
        fenced = "nothing (no fenceDatabaseUrl given)"
        try:
            if fence_url is not None:
                fenced = _fence(fence_url, f"term {journal.term} on {redacted(url)}")
            recovery = Recovery(functools.partial(PostgresJournal, url))
            return journal, self.service.take_over(journal, recovery), fenced
        except BaseException:
            journal.close()
            raise

    def _start_sequencer_workers(self) -> None:
        options = self.options
        configure_oracle_guards(
            self.service, price_max_age_ms=stale_price_limit_ms(options), price_jump_band=options.price_jump_band
        )
        start_workers(self.service, options, open_prices(self.service, options), self.workers)
        if self.monitor is not None:
            self.monitor.start()
            self.workers.append(self.monitor)


def _fence(fence_url: str, by: str) -> str:
    """Fence the old primary's journal; return what the promotion reports about it."""
    try:
        fence_journal(fence_url, f"failover to {by}")
    except Exception as error:  # noqa: BLE001 -- the takeover goes on: the old database may be gone for good
        LOG.warning("could not fence the old primary's journal at %s: %s", redacted(fence_url), error)
        return (
            f"NOT fenced: {redacted(fence_url)} could not be reached ({error}); never start it as a primary "
            "again: rebuild it as a standby of the new primary (docs/REPLICATION.md)"
        )
    return redacted(fence_url)


def run_replica(options: ServeOptions, console: Console) -> int:
    """Serve a read replica until interrupted (taking over as sequencer when promoted); return the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not options.database_url or not options.database_url.startswith(POSTGRES_SCHEMES) or options.edge_workers:
        console.print(
            "error: --replica follows a PostgreSQL hot standby: give --database-url postgresql://... "
            "(and no --edge-workers)",
            soft_wrap=True,
        )
        return EXIT_USAGE
    primary_url = options.primary_url or "the primary"
    standby = StandbyJournal(options.database_url)
    service = open_replica(standby, open_clock(options.clock), primary_url)
    monitor = RiskMonitor(service) if options.risk_monitor else None
    takeover = _Takeover(service, standby, options, monitor)
    metrics = Metrics(service)
    follower = ReplicaFollower(
        service, standby, poll_seconds=options.replica_poll_seconds, on_lag=metrics.set_replica_lag
    )
    takeover.follower = follower
    role = ReplicaRole(primary_url, follower, takeover)
    admin_token = choose_admin_token(options.admin_token, os.environ)
    access_log = AccessLogWriter(options.access_log) if options.access_log is not None else None
    fatal: list[Fault] = []
    metrics_port = None
    try:
        follower.start()
        app = create_app(
            service,
            admin_token.value,
            risk_monitor=monitor,
            allowed_hosts=(options.host, *options.allowed_hosts),
            rate_limiter=None if options.rate_limits is None else RateLimiter(options.rate_limits, admin_token.value),
            access_log=access_log,
            metrics=metrics,
            replica=role,
        )
        metrics_port = MetricsPort.start(metrics, options.metrics_port) if options.metrics_port else None
        _print_banner(console, options, primary_url, admin_token.describe(), service.sequence)
        serve_in_one_process(options, app, service, fatal)
    except (KeyboardInterrupt, SystemExit, ServiceUnavailableError):
        pass
    finally:
        follower.stop()
        for worker in reversed(takeover.workers):
            worker.stop()
        service.close()
        with contextlib.suppress(Exception):
            standby.close()
        if access_log is not None:
            access_log.close()
        if metrics_port is not None:
            metrics_port.stop()
    return exit_status(service, fatal, console)


def _print_banner(console: Console, options: ServeOptions, primary_url: str, token: str, sequence: int) -> None:
    url = f"http://{options.host}:{options.port}"
    console.print(
        f"[bold]crossmargin[/] read replica listening on {url}  (standby: {redacted(options.database_url or '')}, "
        f"at sequence {sequence}, polling every {options.replica_poll_seconds * 1000:g} ms)",
        soft_wrap=True,
    )
    console.print(f"Writes are refused with 403 FORBIDDEN naming the primary, {primary_url}.", soft_wrap=True)
    console.print(
        "Failover: promote the standby in PostgreSQL, then `crossmargin promote --url "
        f"{url} --fence-database-url OLD_PRIMARY_URL` (docs/REPLICATION.md).",
        soft_wrap=True,
    )
    console.print(token, soft_wrap=True)
