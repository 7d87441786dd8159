"""Streaming replication for real: a replica on a hot standby, and a failover after kill -9 of the primary.

Goal: the promises of docs/REPLICATION.md on two PostgreSQL clusters of this machine (created for
the module with `pg_createcluster` and `pg_basebackup -R`, synchronous with `remote_apply`, dropped
afterwards; `pg_clusters.py`). Method: a primary `crossmargin serve` on one cluster, loaded by
writer threads (operator deposits and signed withdrawals, every acknowledgment recorded), and a
`crossmargin serve --replica` on the standby.

- The replica reaches the primary's journal position with the same state digest (INV-REPLAY-1),
  shows every acknowledged write, reports its lag in `/api/v1/status`, and refuses writes with 403
  FORBIDDEN naming the primary.
- Failover: the primary is killed with SIGKILL under load, PostgreSQL promotes the standby,
  `crossmargin promote` makes the replica the sequencer and fences the old primary's database.
  Every acknowledged write is on the new primary, its audit passes, it takes writes, and the old
  primary restarted against its old cluster exits without writing anything (INV-FENCE-1). The
  takeover time (kill to the first write acknowledged by the new primary) is printed.

The failover leaves the pair promoted, so it runs after the replica test (file order).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import TOKEN
from server_process import NO_RATE_LIMIT, ServerProcess, sign_request
from tests.integration.journal_load import Writers, missing_acknowledged
from tests.integration.pg_clusters import ReplicationPair, replication_pair

from crossmargin.cli.serve import EXIT_JOURNAL_FAILED

pytestmark = pytest.mark.postgres

LOAD_SECONDS = 1.5
FAILOVER_LOAD_SECONDS = 2.5
CATCH_UP_SECONDS = 30.0
COMMAND_SECONDS = 60


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicationPair]:
    """Return a primary cluster streaming synchronously to a standby, for this module."""
    with replication_pair() as created:
        yield created


@pytest.fixture(scope="module")
def servers(
    pair: ReplicationPair, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Return a primary server on the primary cluster and a replica server on the standby."""
    root = tmp_path_factory.mktemp("replication")
    primary = ServerProcess(
        root / "primary",
        root / "primary.log",
        ("--clock", "manual", "--database-url", pair.primary.url, *NO_RATE_LIMIT),
    )
    standby = ("--replica", "--database-url", pair.standby.url, "--primary-url", primary.url)
    replica = ServerProcess(root / "replica", root / "replica.log", ("--clock", "manual", *standby, *NO_RATE_LIMIT))
    try:
        primary.start()
        replica.start()
        yield primary, replica
    finally:
        replica.stop_quietly()
        primary.stop_quietly()


def _digest(server: ServerProcess) -> dict[str, Any]:
    answer = server.admin("GET", "/admin/v1/state/digest")
    assert answer.status_code == 200, answer.text
    digest: dict[str, Any] = answer.json()
    return digest


def _same_position(primary: ServerProcess, replica: ServerProcess) -> dict[str, Any]:
    """Wait (bounded) until the replica is at the primary's sequence; return both digests there, equal."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:
        wanted = _digest(primary)
        found = _digest(replica)
        while found["sequence"] < wanted["sequence"] and time.monotonic() < deadline:
            time.sleep(0.02)
            found = _digest(replica)
        if found["sequence"] == wanted["sequence"]:
            assert found == wanted, "INV-REPLAY-1: the replica's state is the primary's at the same sequence"
            return found
        assert time.monotonic() < deadline, f"the replica reaches the primary within {CATCH_UP_SECONDS} s"


def test_a_replica_on_a_hot_standby_serves_the_primarys_state_and_refuses_writes(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    primary, replica = servers
    writers = Writers(primary, threads=2)
    writers.start()
    time.sleep(LOAD_SECONDS)
    writers.stop()
    digest = _same_position(primary, replica)
    assert digest["sequence"] > 0
    acknowledged = sum(len(log.acked_deposits) + len(log.acked_withdrawals) for log in writers.logs)
    assert acknowledged > 0, writers.answers()
    assert missing_acknowledged(replica, writers) == [], "every acknowledged write can be read on the replica"
    status = replica.get("/api/v1/status").json()
    assert status["status"] == "Ok"
    assert status["replication"]["role"] == "replica"
    assert status["replication"]["lagCommands"] == 0
    assert float(status["replication"]["lagSeconds"]) < CATCH_UP_SECONDS
    account = writers.logs[0].account
    refused = [
        replica.admin("POST", "/admin/v1/deposits", {"subaccountId": account["subaccountId"], "symbol": "USDC", "quantity": "1"}),
        replica.send(
            sign_request(account["apiKey"], account["apiSecret"], "POST", "/api/v1/borrowLend", "borrowLendExecute",
                         {"symbol": "USDC", "side": "Lend", "quantity": "1"})
        ),
    ]  # fmt: skip
    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "FORBIDDEN"
        assert primary.url in answer.json()["message"]
    assert _digest(replica) == digest, "a refused write changes nothing"


def _promote(replica: ServerProcess, fence_url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "crossmargin.cli.main", "promote", "--url", replica.url, "--admin-token", TOKEN]
    return subprocess.run(
        [*command, "--fence-database-url", fence_url],
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def _first_write(server: ServerProcess, subaccount_id: int) -> float:
    """Send deposits until one is acknowledged (bounded); return when."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    body = {"subaccountId": subaccount_id, "symbol": "USDC", "quantity": "7.77"}
    while True:
        try:
            if server.admin("POST", "/admin/v1/deposits", body).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the new primary takes writes within {CATCH_UP_SECONDS} s"
        time.sleep(0.01)


def test_failover_after_kill_9_loses_no_acknowledged_write_and_fences_the_old_primary(
    pair: ReplicationPair, servers: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    primary, replica = servers
    writers = Writers(primary, threads=4)
    writers.start()
    time.sleep(FAILOVER_LOAD_SECONDS)
    primary.kill()  # SIGKILL under load: whatever was in flight is unacknowledged
    killed_at = time.monotonic()
    writers.stop()
    pair.standby.control("promote")
    promoted = _promote(replica, pair.primary.url)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert "Took over as the sequencer" in promoted.stdout
    took = _first_write(replica, writers.logs[0].account["subaccountId"]) - killed_at
    checked = sum(len(log.acked_deposits) + len(log.acked_withdrawals) for log in writers.logs)
    missing = missing_acknowledged(replica, writers)
    print(f"failover: {checked} acknowledged writes checked, {len(missing)} lost, takeover {took:.2f} s")  # noqa: T201
    assert checked > 0, writers.answers()
    assert missing == [], "every acknowledged write is on the new primary"
    assert replica.admin("GET", "/admin/v1/audit").json()["ok"] is True
    assert replica.get("/api/v1/status").json()["replication"]["role"] == "primary"
    old_last = pair.primary.scalar("SELECT max(sequence) FROM journal_entry")
    assert "failover to term" in str(pair.primary.scalar("SELECT fenced_by FROM journal_writer"))
    old = ServerProcess(tmp_path / "old", tmp_path / "old.log", primary.options)
    old.start(wait=False)
    assert old.wait_exit() == EXIT_JOURNAL_FAILED, old.log()
    assert "INV-FENCE-1" in old.log()
    assert pair.primary.scalar("SELECT max(sequence) FROM journal_entry") == old_last, "the old primary wrote nothing"
