"""The journal keeps the answer to every signed request, so a signed write executes at most once across restarts.

INV-REPLAY-2 on the real adapters (SQLite and PostgreSQL): the sequencer journals each signed
request's signature with its batch, executed (with its sequence) or refused; a service reopened on
the journal refuses the same signature, saying which. The hard case is a process killed by SIGKILL
right after the append and before any reply (`crash_after_append_worker.py`): the retry must be
refused as executed, never run a second time. Several commands under one signature (a batch of
orders) are journaled in one transaction and refused whole.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.integration.conftest import POSTGRES_URL, Database, postgres_locations
from tests.integration.crash_after_append_worker import DEPOSIT_ATOMS, SIGNATURE, WITHDRAWAL
from tests.integration.workload import START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.adapters.postgres_journal import PostgresJournal
from crossmargin.app import service as service_module
from crossmargin.app.clock import ManualClock
from crossmargin.app.ports import JournalRecord, JournalUnavailableError, RequestSignature
from crossmargin.app.replay_guard import DuplicateRequestError, ReplayGuard, SignedRequest
from crossmargin.app.service import Service
from crossmargin.core.commands import CreateAccount, Deposit, SetMarkPrices, Withdraw
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import spot
from crossmargin.core.numbers import WAD

WORKER = Path(__file__).with_name("crash_after_append_worker.py")
WORKER_SECONDS = 60
SUBACCOUNT = SubaccountId(1)
FAR_FUTURE_MS = 2**62


def _funded(database: Database) -> Service:
    service = database.open_service(ManualClock(START_MS))
    assert isinstance(service.execute(SetMarkPrices((("USDC", WAD),))), Accepted)
    assert isinstance(service.execute(CreateAccount()), Accepted)
    assert isinstance(service.execute(Deposit(SUBACCOUNT, "USDC", DEPOSIT_ATOMS)), Accepted)
    return service


def _usdc(service: Service) -> int:
    return service.read(lambda state: state.ledger.get((spot(SUBACCOUNT), "USDC"), 0))


def _duplicate(service: Service, command: Withdraw, signed: SignedRequest) -> DuplicateRequestError:
    with pytest.raises(DuplicateRequestError) as caught:
        service.submit(command, signed=signed).result(30)
    return caught.value


def test_a_signed_write_executed_before_a_restart_is_refused_after_it_naming_its_sequence(database: Database) -> None:
    service = _funded(database)
    assert isinstance(service.submit(WITHDRAWAL, signed=SIGNATURE).result(30), Accepted)
    executed_at = service.sequence
    service.close()
    reopened = database.open_service(ManualClock(START_MS))
    try:
        refused = _duplicate(reopened, WITHDRAWAL, SIGNATURE)
        assert refused.answered is not None
        assert refused.answered.sequence == executed_at
        assert f"journal sequence {executed_at}" in str(refused)
        assert _usdc(reopened) == DEPOSIT_ATOMS - WITHDRAWAL.quantity_atoms, "INV-REPLAY-2: executed once"
    finally:
        reopened.close()


def test_a_signed_write_refused_before_a_restart_stays_refused_even_once_it_could_run(database: Database) -> None:
    service = _funded(database)
    too_much = Withdraw(SUBACCOUNT, "USDC", 2 * DEPOSIT_ATOMS, address="0xaa", blockchain="Ethereum")
    signed = SignedRequest(b"\x09" * 64, FAR_FUTURE_MS)
    assert isinstance(service.submit(too_much, signed=signed).result(30), Rejected)
    service.close()
    reopened = database.open_service(ManualClock(START_MS))
    try:
        assert isinstance(reopened.execute(Deposit(SUBACCOUNT, "USDC", DEPOSIT_ATOMS)), Accepted)
        refused = _duplicate(reopened, too_much, signed)
        assert refused.answered is not None
        assert refused.answered.sequence is None
        assert "refused and nothing was executed" in str(refused)
        assert _usdc(reopened) == 2 * DEPOSIT_ATOMS
    finally:
        reopened.close()


def test_a_signed_batch_is_durable_in_one_transaction_and_refused_whole_after_a_restart(database: Database) -> None:
    service = _funded(database)
    deposits = [Deposit(SUBACCOUNT, "USDC", 1), Deposit(SubaccountId(99), "USDC", 2), Deposit(SUBACCOUNT, "USDC", 3)]
    signed = SignedRequest(b"\x0b" * 64, FAR_FUTURE_MS)
    before = service.sequence
    results = service.submit_all(deposits, signed=signed).result(30)
    assert [type(result) for result in results] == [Accepted, Rejected, Accepted]
    assert service.sequence == before + 2
    service.close()
    reopened = database.open_service(ManualClock(START_MS))
    try:
        with pytest.raises(DuplicateRequestError, match=f"journal sequence {before + 2}"):
            reopened.submit_all(deposits, signed=signed).result(30)
        assert _usdc(reopened) == DEPOSIT_ATOMS + 4
    finally:
        reopened.close()


def test_a_retry_after_a_kill_between_the_append_and_the_reply_is_refused_as_executed(database: Database) -> None:
    command = [sys.executable, str(WORKER), *database.worker_arguments()]
    worker = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_SECONDS, check=False)
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    assert worker.stdout.split() == ["funded"], "the worker died before any reply"
    journal = database.open_journal()
    try:
        journaled = journal.last_sequence()
    finally:
        journal.close()
    service = database.open_service(ManualClock(START_MS))
    try:
        refused = _duplicate(service, WITHDRAWAL, SIGNATURE)
        assert refused.answered is not None
        assert refused.answered.sequence == journaled, "the original is the last journaled command"
        assert _usdc(service) == DEPOSIT_ATOMS - WITHDRAWAL.quantity_atoms, "INV-REPLAY-2: executed exactly once"
    finally:
        service.close()


def test_request_signatures_are_read_back_until_they_expire_and_can_be_forgotten_after(database: Database) -> None:
    journal = database.open_journal()
    try:
        rows = [RequestSignature(b"a" * 64, 1_000, 1), RequestSignature(b"b" * 64, 2_000, None)]
        journal.append([JournalRecord(1, 7, '{"type":"Tick"}')], rows)
        journal.append([], [RequestSignature(b"c" * 64, 3_000, None)])
        assert journal.last_sequence() == 1, "a batch of refusals only adds signatures"
        assert sorted(journal.request_signatures(1_500), key=lambda row: row.signature) == [
            RequestSignature(b"b" * 64, 2_000, None),
            RequestSignature(b"c" * 64, 3_000, None),
        ]
        journal.forget_request_signatures(2_500)
        assert journal.request_signatures(0) == [RequestSignature(b"c" * 64, 3_000, None)]
    finally:
        journal.close()


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[Database]:
    yield from postgres_locations(tmp_path)


@pytest.mark.postgres
def test_a_lost_postgres_connection_is_reported_as_unavailable_and_a_new_one_works(
    postgres_database: Database,
) -> None:
    database = postgres_database
    journal = database.open_journal()
    assert isinstance(journal, PostgresJournal)
    try:
        journal.append([JournalRecord(1, 7, '{"type":"Tick"}')])
        row = journal._connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        with pytest.raises(JournalUnavailableError, match="PostgreSQL is unreachable"):
            journal.append([JournalRecord(2, 8, '{"type":"Tick"}')])
    finally:
        journal.close()
    reopened = database.open_journal()
    try:
        assert [record.sequence for record in reopened.read()] == [1], "the failed append left nothing behind"
    finally:
        reopened.close()


def test_the_sequencer_forgets_expired_signatures_in_the_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "SIGNATURES_FORGOTTEN_EVERY_SECONDS", 0.0)
    wall = [START_MS]
    journal = MemoryJournal()
    service = Service.open(journal, ManualClock(START_MS), (), guard=ReplayGuard(lambda: wall[0]))
    try:
        signed = SignedRequest(b"\x0c" * 64, START_MS + 60_000)
        assert isinstance(service.submit(CreateAccount(), signed=signed).result(30), Accepted)
        assert list(journal.signatures) == [signed.signature]
        wall[0] = START_MS + 60_001
        assert isinstance(service.execute(CreateAccount()), Accepted)
        assert journal.signatures == {}, "an expired signature is deleted from the journal"
        assert service.replay_guard.answered(signed.signature) is None
    finally:
        service.close()
