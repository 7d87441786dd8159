"""A live server whose journal fails: it pauses with 503 MAINTENANCE, says so, and recovers or stops.

Goal: a journal fault never loses an acknowledged write, never leaves the server answering 500
forever, and never floods the log. Method: a real `crossmargin serve` (demo, market maker, risk
monitor, wall clock and its scheduler) under a few writer threads (operator deposits and signed
withdrawals, every answer recorded) while the journal is taken away:

- PostgreSQL restarted, or stopped for a few seconds and started again: `/api/v1/status` must say
  Maintenance during the outage and Ok after it; writes must be refused with 503 MAINTENANCE (never
  500) and resume without restarting the server; every write acknowledged with 200 must be in the
  histories afterwards and the audit must pass.
- An SQLite journal on a 2 MB tmpfs filled until a commit fails: Maintenance, then the process
  exits with the journal-fault status; a server on a copy of the data directory with room to spare
  holds every acknowledged deposit.

In each case the log holds one line when the fault starts (and one when it is over), and at most a
couple of tracebacks, however many requests were refused meanwhile.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from server_process import NO_RATE_LIMIT, ServerProcess
from tests.environment import missing
from tests.integration.journal_load import (
    StatusWatcher,
    Writers,
    missing_acknowledged,
    traceback_count,
    wait_for_status,
)
from tests.integration.postgres_control import postgres_outage, require_postgres_control, server_schema

from crossmargin.cli.serve import EXIT_JOURNAL_FAILED

LOAD_SECONDS = 1.0
REFUSED_WHILE_DOWN = 60
RECOVERY_SECONDS = 90.0
TRACEBACKS_MAX = 2
FULL_DISK_WRITES_MAX = 20_000
REFUSED_AFTER_FULL = 60
FAULT_LINE = "crossmargin.service: journal fault:"
RECOVERED_LINE = "crossmargin.service: journal recovered"


def _wait_for_writes_after(writers: Writers, moment: float, server: ServerProcess) -> None:
    """Wait (bounded) until a write is acknowledged after `moment` and the status is Ok again."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while writers.last_ack() <= moment:
        assert time.monotonic() < deadline, f"writes resume within {RECOVERY_SECONDS} s: {server.log()[-3000:]}"
        time.sleep(0.1)
    assert wait_for_status(server, "Ok")["status"] == "Ok"


def _check_episode(server: ServerProcess, writers: Writers, watcher: StatusWatcher) -> None:
    """Stop the load and check the episode, on the server still running."""
    writers.stop()
    watcher.stop()
    assert server.process is not None
    assert server.process.poll() is None, "the server recovered without a restart"
    statuses = watcher.statuses()
    assert "Maintenance" in statuses, f"the status said Maintenance during the outage: {watcher.seen}"
    maintenance = next(answer for answer in watcher.seen if answer["status"] == "Maintenance")
    assert "journal" in maintenance["message"], "the status says what is wrong"
    assert statuses[-1] == "Ok"
    answers = writers.answers()
    assert answers["503 MAINTENANCE"] > 0, f"writes during the outage are refused as maintenance: {answers}"
    assert not [answer for answer in answers if answer.startswith("500")], f"no write failed with 500: {answers}"
    assert missing_acknowledged(server, writers) == [], "every acknowledged write survived the outage"
    audit = server.admin("GET", "/admin/v1/audit").json()
    assert audit["ok"], audit
    log = server.log()
    assert traceback_count(log) <= TRACEBACKS_MAX, log[-5000:]
    assert log.count(FAULT_LINE) == 1, log[-5000:]
    assert log.count(RECOVERED_LINE) == 1, log[-5000:]


@contextmanager
def _loaded_server_on_postgres(tmp_path: Path) -> Iterator[tuple[ServerProcess, Writers, StatusWatcher]]:
    require_postgres_control()
    with server_schema() as url:
        server = ServerProcess(
            tmp_path / "data", tmp_path / "server.log", ("--database-url", url, "--clock", "wall", *NO_RATE_LIMIT)
        )
        server.start()
        try:
            writers, watcher = Writers(server), StatusWatcher(server)
            watcher.start()
            writers.start()
            try:
                time.sleep(LOAD_SECONDS)
                yield server, writers, watcher
            finally:
                writers.stop()
                watcher.stop()
        finally:
            server.terminate()
            server.stop_quietly()


@pytest.mark.postgres
def test_postgres_restarted_under_load_pauses_writes_then_resumes_without_losing_an_acknowledged_one(
    tmp_path: Path,
) -> None:
    with _loaded_server_on_postgres(tmp_path) as (server, writers, watcher):
        with postgres_outage("restart"):
            pass
        _wait_for_writes_after(writers, time.monotonic(), server)
        time.sleep(LOAD_SECONDS)
        _check_episode(server, writers, watcher)


@pytest.mark.postgres
def test_postgres_stopped_for_seconds_pauses_writes_then_resumes_without_losing_an_acknowledged_one(
    tmp_path: Path,
) -> None:
    with _loaded_server_on_postgres(tmp_path) as (server, writers, watcher):
        with postgres_outage("stop"):
            assert wait_for_status(server, "Maintenance")["status"] == "Maintenance"
            refused = _refused_while_down(server, writers)
        _wait_for_writes_after(writers, time.monotonic(), server)
        time.sleep(LOAD_SECONDS)
        _check_episode(server, writers, watcher)
    assert refused == [503] * REFUSED_WHILE_DOWN, "every write while the database was down was refused with 503"


def _refused_while_down(server: ServerProcess, writers: Writers) -> list[int]:
    """Send a few hundred writes while the database is down, besides the writers' own; return their statuses."""
    account = writers.logs[0].account
    body = {"subaccountId": account["subaccountId"], "symbol": "USDC", "quantity": "1"}
    return [server.admin("POST", "/admin/v1/deposits", body).status_code for _ in range(REFUSED_WHILE_DOWN)]


@contextmanager
def _small_disk(directory: Path) -> Iterator[Path]:
    directory.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(directory)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        missing("root (CAP_SYS_ADMIN)", f"mounting a 2 MB tmpfs needs root (CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True)


def _fill_until_refused(server: ServerProcess, subaccount_id: int) -> int:
    """Deposit 1 USDC at a time until the journal cannot take more; return how many were acknowledged."""
    for acked in range(FULL_DISK_WRITES_MAX):
        answer = server.admin(
            "POST", "/admin/v1/deposits", {"subaccountId": subaccount_id, "symbol": "USDC", "quantity": "1"}
        )
        if answer.status_code != 200:
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "MAINTENANCE"
            return acked
    raise AssertionError(f"a 2 MB disk took {FULL_DISK_WRITES_MAX} deposits")


def _usdc(server: ServerProcess, account: dict[str, str]) -> Decimal:
    capital = server.signed_get(account["apiKey"], account["apiSecret"], "/api/v1/capital", "balanceQuery")
    return Decimal(capital.json()["USDC"]["available"])


def test_a_full_disk_under_an_sqlite_journal_reports_maintenance_then_exits_and_loses_nothing(tmp_path: Path) -> None:
    options = ("--clock", "manual", "--no-demo", *NO_RATE_LIMIT)
    with _small_disk(tmp_path / "disk") as disk:
        server = ServerProcess(disk / "data", tmp_path / "server.log", options)
        server.start()
        try:
            account = server.admin("POST", "/admin/v1/accounts", {}).json()
            acked = _fill_until_refused(server, account["subaccountId"])
            status = server.get("/api/v1/status").json()
            assert status["status"] == "Maintenance", status
            assert "restart" in status["message"], "the status says the server must be restarted"
            refused = 0
            for _ in range(REFUSED_AFTER_FULL):
                try:
                    answer = server.admin(
                        "POST", "/admin/v1/deposits", {"subaccountId": 1, "symbol": "USDC", "quantity": "1"}
                    )
                except Exception:  # noqa: BLE001 -- the server is on its way out
                    break
                assert answer.status_code == 503, answer.text
                refused += 1
            assert server.wait_exit() == EXIT_JOURNAL_FAILED, server.log()[-3000:]
        finally:
            server.stop_quietly()
        shutil.copytree(disk / "data", tmp_path / "bigger")
    log = server.log()
    assert traceback_count(log) <= TRACEBACKS_MAX, log[-5000:]
    assert log.count(FAULT_LINE) == 1, log[-5000:]
    restarted = ServerProcess(tmp_path / "bigger", tmp_path / "restarted.log", options)
    restarted.start()
    try:
        assert _usdc(restarted, account) == acked, "INV-REPLAY-1: every acknowledged deposit is in the journal"
        assert restarted.admin("GET", "/admin/v1/audit").json()["ok"]
    finally:
        assert restarted.terminate() == 0
    assert acked > 0
    assert refused > 0
