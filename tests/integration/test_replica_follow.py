"""A read replica follows the journal into the same state, refuses writes, reports lag, and takes over; fencing.

Goal: the replica's side of replication, on one PostgreSQL server (schemas of the shared test
database stand in for the standby: a `StandbyJournal` reads any server). Method: a primary service
applies the seeded workload stream; a replica service built the way `serve --replica` builds it
polls after every few groups and must hold exactly the primary's state, market history and
sequence at the same journal position (INV-REPLAY-1), its listeners hearing the same events. A
replica refuses every command; its lag counts the records it has not applied. A takeover on the
writer journal continues the sequence; a journal whose writer term was replaced, or that a failover
fenced, commits nothing (INV-FENCE-1). The HTTP side: 403 FORBIDDEN naming the primary, reads and
the status with the lag, the same state digest as the primary's. Real clusters, streaming
replication and kill -9 are in `test_replication_clusters.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql
from starlette.testclient import TestClient
from stream_harness import next_message, receive
from tests.integration.conftest import Database, postgres_locations
from tests.integration.workload import START_MS, apply_stream, build_stream

from crossmargin.adapters.postgres_journal import PostgresJournal
from crossmargin.adapters.postgres_replica import StandbyJournal, fence_journal
from crossmargin.api.admin_inputs import FENCE_URL_MAX_CHARS
from crossmargin.api.app import create_app
from crossmargin.api.metrics import Metrics
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_state
from crossmargin.app.ports import JournalFencedError, JournalRecord, JournalUnavailableError, ReplicaReadOnlyError
from crossmargin.app.replay_guard import DuplicateRequestError, SignedRequest
from crossmargin.app.replica import Promotion, PromotionRefusedError, ReplicaFollower, ReplicaRole
from crossmargin.app.service import BatchCommitted, Service
from crossmargin.cli.serve_replica import open_replica
from crossmargin.core.commands import CreateAccount, SetMarkPrices, Tick
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import WAD

pytestmark = pytest.mark.postgres

STREAM_COMMANDS = 600
GROUPS_PER_POLL = 40
PRIMARY = "http://primary.example:8080"
TOKEN = "replica-test-token"


@pytest.fixture
def location(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """Return an empty PostgreSQL journal location (fresh schemas, dropped afterwards)."""
    yield from postgres_locations(tmp_path_factory.mktemp("replica"))


def _standby(location: Database) -> StandbyJournal:
    assert location.url is not None
    return StandbyJournal(location.url, schema=location.schema)


def _events_heard(service: Service) -> list[object]:
    heard: list[object] = []

    def listen(batch: BatchCommitted) -> None:
        heard.extend(batch.events)

    service.add_listener(listen)
    return heard


def _same_position(primary: Service, replica: Service) -> None:
    assert replica.sequence == primary.sequence
    assert replica.read(encode_state) == primary.read(encode_state), (
        "INV-REPLAY-1: the replica's state is the primary's"
    )
    assert replica.read(lambda _: replica.market_history.encode()) == primary.read(
        lambda _: primary.market_history.encode()
    )


def test_a_replica_holds_the_primarys_state_at_every_journal_position(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    primary_events = _events_heard(primary)
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    replica_events = _events_heard(replica)
    follower = ReplicaFollower(replica, standby)
    try:
        groups = build_stream(7, STREAM_COMMANDS)
        for start in range(0, len(groups), GROUPS_PER_POLL):
            apply_stream(primary, clock, groups[start : start + GROUPS_PER_POLL])
            follower.poll()
            _same_position(primary, replica)
        assert replica_events == primary_events, "the replica's listeners (streams) hear what the primary's heard"
        assert follower.lag().commands == 0
        assert all(check.ok for check in replica.audit())
    finally:
        replica.close()
        primary.close()


def test_a_replica_refuses_every_command_and_never_writes(location: Database) -> None:
    primary = location.open_service(ManualClock(START_MS))
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    try:
        before = replica.sequence
        with pytest.raises(ReplicaReadOnlyError, match=PRIMARY):
            replica.submit(CreateAccount(("replica-key",)))
        with pytest.raises(ReplicaReadOnlyError):
            replica.execute(Tick())
        with pytest.raises(ReplicaReadOnlyError):
            replica.snapshot()
        with pytest.raises(ReplicaReadOnlyError):
            standby.append([JournalRecord(before + 1, START_MS, "{}")])
        assert replica.sequence == before
        assert primary.sequence == before
    finally:
        replica.close()
        primary.close()
    journal = location.open_journal()
    try:
        assert journal.last_sequence() == before, "closing a replica journals nothing, not even a snapshot"
    finally:
        journal.close()


class _Partial:
    """A standby that shows the follower only its first `shown` records: a replica that fell behind."""

    def __init__(self, standby: StandbyJournal, shown: int) -> None:
        self.standby = standby
        self.shown = shown

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        return (record for record in self.standby.read(after_sequence) if record.sequence <= self.shown)

    def last_sequence(self) -> int:
        return self.standby.last_sequence()

    def in_recovery(self) -> bool:
        return True

    def standby_delay_seconds(self) -> float:
        return self.standby.standby_delay_seconds()

    def reconnect(self) -> None:
        self.standby.reconnect()


def test_a_replica_reports_its_lag_in_commands(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    heard: list[tuple[int, float]] = []
    try:
        apply_stream(primary, clock, build_stream(3, 120))
        shown = primary.sequence - 25
        follower = ReplicaFollower(replica, _Partial(standby, shown), on_lag=lambda *lag: heard.append(lag))
        before = replica.sequence
        assert follower.poll() == shown - before
        assert replica.sequence == shown
        assert follower.lag().commands == 25
        assert heard[-1][0] == 25, "the metrics hook hears the lag"
        assert follower.lag().seconds == 0.0, "a server that is no standby trails nothing"
        ReplicaFollower(replica, standby).poll()
        assert replica.sequence == primary.sequence
    finally:
        replica.close()
        primary.close()


def test_a_replica_reconnects_when_the_standby_connection_is_lost(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    follower = ReplicaFollower(replica, standby)
    groups = build_stream(13, 120)
    try:
        apply_stream(primary, clock, groups[: len(groups) // 2])
        assert follower.step()
        _on_the_side(location, f"SELECT pg_terminate_backend({standby.backend_pid})")
        apply_stream(primary, clock, groups[len(groups) // 2 :])
        assert not follower.step(), "the lost connection is reported, and replaced"
        assert follower.lag().seconds >= 0.0
        assert follower.step()
        _same_position(primary, replica)
    finally:
        replica.close()
        primary.close()


def test_a_replica_takes_over_and_continues_the_sequence(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    groups = build_stream(11, 300)
    apply_stream(primary, clock, groups[: len(groups) // 3])
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    apply_stream(primary, clock, groups[len(groups) // 3 :])
    last = primary.sequence
    expected = primary.read(encode_state)
    primary.close()  # the old sequencer is gone; the replica never saw the last records
    assert replica.sequence < last
    writer = location.open_journal()
    assert isinstance(writer, PostgresJournal)
    try:
        assert replica.take_over(writer) == last, "the takeover applies what the follower had not"
        assert replica.read(encode_state) == expected
        assert replica.read_only is None
        assert isinstance(replica.execute(Tick()), Accepted)
        assert replica.sequence == last + 1
    finally:
        replica.close()
    journal = location.open_journal()
    try:
        assert journal.last_sequence() == last + 1
    finally:
        journal.close()


def _on_the_side(location: Database, statement: str) -> None:
    assert location.url is not None
    with psycopg.connect(location.url, autocommit=True) as other:
        other.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(location.schema or "public")))
        other.execute(statement)


def test_a_signed_write_the_old_primary_answered_is_refused_after_a_takeover(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    signed = SignedRequest(b"s" * 64, int(time.time() * 1000) + 60_000)
    assert isinstance(primary.submit(CreateAccount(), signed=signed).result(), Accepted)
    answered_at = primary.sequence
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    primary.close()
    writer = location.open_journal()
    try:
        replica.take_over(writer)
        with pytest.raises(DuplicateRequestError, match=f"journal sequence {answered_at}"):
            replica.submit(CreateAccount(), signed=signed).result()
        assert replica.sequence == answered_at, "INV-REPLAY-2 across a failover: it ran once"
    finally:
        replica.close()


def test_a_replaced_or_fenced_writer_commits_nothing(location: Database) -> None:
    assert location.url is not None
    journal = location.open_journal()
    assert isinstance(journal, PostgresJournal)
    journal.append([JournalRecord(1, START_MS, '{"t":"Tick"}')])
    _on_the_side(location, "UPDATE journal_writer SET term = term + 1")
    with pytest.raises(JournalFencedError, match="INV-FENCE-1: writer term"):
        journal.append([JournalRecord(2, START_MS, '{"t":"Tick"}')])
    with pytest.raises(JournalFencedError):
        journal.save_snapshot(1, "{}")
    journal.close()
    reopened = location.open_journal()
    assert isinstance(reopened, PostgresJournal)
    assert reopened.term == journal.term + 2, "each writer claims the next term"
    _on_the_side(location, "UPDATE journal_writer SET fenced_by = 'a test'")
    with pytest.raises(JournalFencedError, match=r"fenced by a failover \(a test\)"):
        reopened.append([JournalRecord(2, START_MS, '{"t":"Tick"}')])
    _on_the_side(location, "UPDATE journal_writer SET fenced_by = NULL")
    fence_journal(location.url, "failover to term 9 on elsewhere", schema=location.schema)
    with pytest.raises(JournalUnavailableError):
        reopened.append([JournalRecord(2, START_MS, '{"t":"Tick"}')])  # fencing ended the old writer's session
    reopened.close()
    with pytest.raises(JournalFencedError, match="failover to term 9 on elsewhere"):
        location.open_journal()
    reader = _standby(location)
    try:
        assert reader.last_sequence() == 1, "nothing the fenced writers tried was committed"
    finally:
        reader.close()


def _role(follower: ReplicaFollower) -> ReplicaRole:
    def refuse(_: str | None) -> Promotion:
        raise PromotionRefusedError("PostgreSQL has not promoted this replica's standby yet")

    return ReplicaRole(PRIMARY, follower, refuse)


def test_over_http_a_replica_serves_reads_refuses_writes_and_reports_lag(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    apply_stream(primary, clock, build_stream(5, 200))
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    metrics = Metrics(replica)
    metrics.set_replica_lag(99, 9.5)  # what a replica shows until its first poll, made visible
    follower = ReplicaFollower(replica, standby, on_lag=metrics.set_replica_lag)
    follower.poll()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with (
            TestClient(create_app(replica, TOKEN, metrics=metrics, replica=_role(follower))) as on_replica,
            TestClient(create_app(primary, TOKEN)) as on_primary,
        ):
            for method, path in (
                ("POST", "/admin/v1/accounts"),
                ("POST", "/api/v1/order"),
                ("DELETE", "/api/v1/orders"),
            ):
                refused = on_replica.request(method, path, json={}, headers=bearer)
                assert refused.status_code == 403
                assert refused.json()["code"] == "FORBIDDEN"
                assert PRIMARY in refused.json()["message"]
            assert (
                on_replica.get("/api/v1/borrowLend/markets").json()
                == on_primary.get("/api/v1/borrowLend/markets").json()
            )
            status = on_replica.get("/api/v1/status").json()
            assert status["status"] == "Ok"
            assert status["replication"]["role"] == "replica"
            assert status["replication"]["lagCommands"] == 0
            assert status["replication"]["primary"] == PRIMARY
            scraped = {
                sample.name: sample.value
                for family in text_string_to_metric_families(on_replica.get("/metrics", headers=bearer).text)
                for sample in family.samples
            }
            assert scraped["crossmargin_replica_lag_commands"] == 0, "the follower's poll reached the metrics"
            assert scraped["crossmargin_replica_lag_seconds"] < 9.5
            digest = on_replica.get("/admin/v1/state/digest", headers=bearer).json()
            assert digest == on_primary.get("/admin/v1/state/digest", headers=bearer).json()
            assert digest["sequence"] == primary.sequence
            promote = on_replica.post("/admin/v1/replica/promote", json={}, headers=bearer)
            assert promote.status_code == 409
            assert promote.json()["code"] == "PRECONDITION_FAILED"
            too_long = {"fenceDatabaseUrl": "postgresql://old/" + "x" * FENCE_URL_MAX_CHARS}
            refused = on_replica.post("/admin/v1/replica/promote", json=too_long, headers=bearer)
            assert refused.status_code == 400
            assert f"longer than {FENCE_URL_MAX_CHARS} characters" in refused.json()["message"]
            described = json.loads(on_replica.get("/openapi.json").content)["paths"]
            for route in on_replica.app.routes:  # type: ignore[attr-defined]
                for method in getattr(route, "methods", None) or ():
                    if method != "HEAD":
                        assert method.lower() in described[route.path], f"{method} {route.path} is not described"
            assert on_replica.get("/admin/v1/audit", headers=bearer).json()["ok"] is True
    finally:
        replica.close()
        primary.close()


def test_a_replicas_streams_carry_what_the_followed_journal_did(location: Database) -> None:
    clock = ManualClock(START_MS)
    primary = location.open_service(clock)
    apply_stream(primary, clock, build_stream(5, 60))
    standby = _standby(location)
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    follower = ReplicaFollower(replica, standby)
    try:
        with (
            TestClient(create_app(replica, TOKEN, replica=_role(follower))) as on_replica,
            on_replica.websocket_connect("/ws") as socket,
        ):
            socket.send_json({"method": "SUBSCRIBE", "params": ["markPrice.BTC_USDC"], "id": 7})
            assert next_message(socket) == {"id": 7, "result": None}
            moved = SetMarkPrices((("BTC", 61_234 * WAD),))
            assert isinstance(primary.execute(moved), Accepted)
            follower.poll()
            mark = receive(socket, "markPrice.BTC_USDC")
        assert (mark["s"], mark["p"]) == ("BTC_USDC", "61234")
    finally:
        replica.close()
        primary.close()


def test_a_replica_started_before_the_primary_follows_once_the_journal_exists(location: Database) -> None:
    standby = _standby(location)  # the schema does not exist yet: nothing was ever journaled
    replica = open_replica(standby, ManualClock(START_MS), PRIMARY)
    follower = ReplicaFollower(replica, standby)
    clock = ManualClock(START_MS)
    primary = None
    try:
        assert follower.poll() == 0
        assert replica.sequence == 0
        primary = location.open_service(clock)
        apply_stream(primary, clock, build_stream(9, 40))
        assert follower.poll() == primary.sequence
        _same_position(primary, replica)
    finally:
        replica.close()
        if primary is not None:
            primary.close()
