"""Soak: minutes of mixed signed load through kill -9, SIGTERM and PostgreSQL restarts, with replays.

Goal: nothing acknowledged is ever lost, no signed write ever executes twice, and every invariant
(INV-STATEMENT-1 included) holds after every recovery, however the server or its database goes
down. Method: a real `crossmargin serve` on PostgreSQL (wall clock, demo, market maker, risk
monitor) under writer threads (operator deposits and signed withdrawals, each answer recorded) and
a replayer that sends again, within their window, the exact bytes of signed withdrawals that were
acknowledged. For `CROSSMARGIN_SOAK_SECONDS` (600 by default), every few seconds one fault at
random: `kill -9` of the server and a restart, a SIGTERM restart, a PostgreSQL restart, or
PostgreSQL stopped for two seconds. After each recovery: every acknowledged write is in the
histories, every acknowledged withdrawal appears exactly once, no replay was accepted, and
`GET /admin/v1/audit` passes. Progress goes to `test-artifacts/soak.log`, one line per fault.

Slow (`make test-slow`); needs root and PostgreSQL under `pg_ctlcluster` (skipped with a note
otherwise, a failure under CI=true).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from plain_http import HTTP
from server_process import NO_RATE_LIMIT, ServerProcess, SignedRequest, sign_request
from tests.integration.journal_load import Writers, missing_acknowledged, wait_for_status
from tests.integration.postgres_control import postgres_outage, require_postgres_control, server_schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SOAK_SECONDS = float(os.environ.get("CROSSMARGIN_SOAK_SECONDS", "600"))
SEED = int(os.environ.get("CROSSMARGIN_SOAK_SEED", "11"))
BETWEEN_FAULTS_SECONDS = (4.0, 12.0)
REPLAY_WINDOW_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Replayer:
    """Signs withdrawals, and sends the acknowledged ones again (same bytes) while their window is open."""

    def __init__(self, server: ServerProcess, account: dict[str, str]) -> None:
        self.server = server
        self.account = account
        self.acknowledged: dict[str, SignedRequest] = {}
        self.signed_at: dict[str, float] = {}
        self.replays_accepted: list[str] = []
        self.replays_refused = 0
        self.sends: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._random = random.Random(SEED)

    def start(self) -> None:
        """Start signing and replaying."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            client_id = f"r{number}"
            body = {
                "symbol": "USDC",
                "quantity": "0.25",
                "address": "0x00000000000000000000000000000000000000cc",
                "blockchain": "Ethereum",
                "clientId": client_id,
            }
            request = sign_request(
                self.account["apiKey"],
                self.account["apiSecret"],
                "POST",
                "/wapi/v1/capital/withdrawals",
                "withdraw",
                body,
                window_ms=REPLAY_WINDOW_MS,
            )
            status = self._send(request)
            self.sends[client_id].append((time.time(), status))
            if status == 200:
                with self.lock:
                    self.acknowledged[client_id] = request
                self.signed_at[client_id] = time.monotonic()
            self._replay_one()
            time.sleep(0.02)

    def _replay_one(self) -> None:
        fresh = [
            client_id for client_id, at in self.signed_at.items() if time.monotonic() - at < REPLAY_WINDOW_MS / 1000 - 5
        ]
        if not fresh:
            return
        client_id = self._random.choice(fresh)
        status = self._send(self.acknowledged[client_id])
        self.sends[client_id].append((time.time(), status))
        if status == 200:
            self.replays_accepted.append(client_id)
        elif status == 401:
            self.replays_refused += 1

    def _send(self, request: SignedRequest) -> int:
        try:
            return self.server.send(request, timeout=10).status_code
        except httpx.TransportError:
            return 0


def _withdrawal_ids(server: ServerProcess, account: dict[str, str]) -> collections.Counter[str]:
    """Return how many withdrawals each client id has in the account's history.

    Pages come newest first while the load goes on, so a row can show on two pages (a new one
    pushes it down): rows are told apart by their id, never counted twice.
    """
    rows: list[dict[str, str]] = []
    while True:
        query = {"limit": "1000", "offset": str(len(rows))}
        request = sign_request(
            account["apiKey"], account["apiSecret"], "GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll", query
        )
        page = HTTP.get(f"{server.url}/wapi/v1/capital/withdrawals", params=query, headers=request.headers, timeout=60)
        assert page.status_code == 200, page.text
        found = page.json()
        rows += found
        if len(found) < 1000:
            distinct = {row["id"]: row["clientId"] for row in rows}
            return collections.Counter(distinct.values())


def _acknowledged_so_far(writers: Writers) -> Writers:
    """Return a copy of the writers' logs as they are now: writes acknowledged later are not checked yet."""
    frozen = copy.copy(writers)
    frozen.logs = [
        dataclasses.replace(log, acked_deposits=list(log.acked_deposits), acked_withdrawals=list(log.acked_withdrawals))
        for log in writers.logs
    ]
    return frozen


def _check_recovered(server: ServerProcess, writers: Writers, replayer: Replayer, note: str) -> None:
    assert wait_for_status(server, "Ok", 120)["status"] == "Ok", f"{note}: the server came back: {server.log()[-3000:]}"
    # Copy what was acknowledged before reading the histories: the load goes on meanwhile.
    acknowledged = _acknowledged_so_far(writers)
    with replayer.lock:
        replayed = dict(replayer.acknowledged)
    assert missing_acknowledged(server, acknowledged) == [], f"{note}: every acknowledged write survived"
    counts = _withdrawal_ids(server, replayer.account)
    twice = [client_id for client_id, count in counts.items() if count > 1]
    assert not twice, (
        f"{note}: INV-REPLAY-2, withdrawals executed twice: {twice[:10]}; sends (time, status): "
        f"{[replayer.sends.get(client_id) for client_id in twice[:3]]}; log: {server.log()[-4000:]}"
    )
    lost = [client_id for client_id in replayed if counts[client_id] != 1]
    assert not lost, f"{note}: acknowledged withdrawals missing: {lost[:10]}"
    assert not replayer.replays_accepted, f"{note}: replays accepted: {replayer.replays_accepted[:10]}"
    audit = server.admin("GET", "/admin/v1/audit")
    assert audit.status_code == 200, audit.text
    assert audit.json()["ok"], f"{note}: {[check for check in audit.json()['checks'] if not check['ok']]}"


def _kill_and_restart(server: ServerProcess) -> None:
    server.kill()
    server.start()


def _terminate_and_restart(server: ServerProcess) -> None:
    assert server.terminate() == 0, server.log()[-3000:]
    server.start()


def _restart_postgres(_: ServerProcess) -> None:
    with postgres_outage("restart"):
        pass


def _stop_postgres_briefly(_: ServerProcess) -> None:
    with postgres_outage("stop"):
        time.sleep(2)


FAULTS: dict[str, Callable[[ServerProcess], None]] = {
    "kill -9": _kill_and_restart,
    "SIGTERM": _terminate_and_restart,
    "PostgreSQL restart": _restart_postgres,
    "PostgreSQL stop": _stop_postgres_briefly,
}


def test_minutes_of_faults_lose_nothing_acknowledged_and_execute_nothing_twice(tmp_path: Path) -> None:
    require_postgres_control()
    ARTIFACTS.mkdir(exist_ok=True)
    progress = (ARTIFACTS / "soak.log").open("w")
    chooser = random.Random(SEED)
    with server_schema() as url:
        server = ServerProcess(
            tmp_path / "data",
            tmp_path / "serve.log",
            options=("--clock", "wall", "--database-url", url, *NO_RATE_LIMIT),
        )
        server.start()
        writers = Writers(server, threads=2)
        account = server.admin("POST", "/admin/v1/accounts", {}).json()
        deposit = {"subaccountId": account["subaccountId"], "symbol": "USDC", "quantity": "1000000"}
        assert server.admin("POST", "/admin/v1/deposits", deposit).status_code == 200
        replayer = Replayer(server, account)
        faults: collections.Counter[str] = collections.Counter()
        try:
            writers.start()
            replayer.start()
            deadline = time.monotonic() + SOAK_SECONDS
            while time.monotonic() < deadline:
                time.sleep(chooser.uniform(*BETWEEN_FAULTS_SECONDS))
                name = chooser.choice(sorted(FAULTS))
                FAULTS[name](server)
                faults[name] += 1
                _check_recovered(server, writers, replayer, f"after {name} #{faults[name]}")
                print(
                    f"{time.strftime('%H:%M:%S')} {name} #{faults[name]}: recovered; "
                    f"{sum(len(log.acked_deposits) for log in writers.logs)} deposits, "
                    f"{len(replayer.acknowledged)} replayable withdrawals acknowledged, "
                    f"{replayer.replays_refused} replays refused",
                    file=progress,
                    flush=True,
                )
        finally:
            writers.stop()
            replayer.stop()
            progress.close()
            try:
                if server.process is not None and server.process.poll() is None:
                    _check_recovered(server, writers, replayer, "at the end")
            finally:
                server.stop_quietly()
    assert sum(faults.values()) >= 1
    assert replayer.replays_refused > 0, "replays were tried and refused"
