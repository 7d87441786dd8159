"""The sequencer when its journal fails: maintenance, recovery from the journal, or a stop for good.

Goal: a journal fault never acknowledges what is not durable, never serves state the journal does
not hold, recovers by itself when the database comes back, and stops for good (saying why) when
it cannot. Method: the service over a `FlakyJournal` (appends fail on demand, optionally after
committing) and a `Reopener` (the database stays away while `down`), with a fast backoff. Each
test checks what callers get during the fault (`ServiceUnavailableError`, saying whether their
command ran), what the state is after recovery (rebuilt from the journal: a batch whose commit was
lost is absent, one whose reply was lost is present and heard by listeners), and the one log line
per episode.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
from tests.integration.flaky_journal import FlakyJournal, Reopener
from tests.integration.workload import START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.adapters.migrations import MigrationError
from crossmargin.app.clock import ManualClock
from crossmargin.app.faults import FaultKind, ServiceFailedError, ServiceUnavailableError
from crossmargin.app.ports import JournalUnavailableError
from crossmargin.app.replay_guard import DuplicateRequestError, SignedRequest
from crossmargin.app.service import BatchCommitted, Recovery, Result, Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import CreateAccount, Deposit
from crossmargin.core.engine import Accepted
from crossmargin.core.events import Deposited, Event
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import spot

WAIT_SECONDS = 30.0
SUBACCOUNT = SubaccountId(1)
LOST = JournalUnavailableError("PostgreSQL is unreachable: terminating connection due to administrator command")
REFUSED_DURING_FAULT = 300


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT_SECONDS} s"
        time.sleep(0.005)


class Opened:
    """A service over a flaky memory journal, with what its listener heard."""

    def __init__(self, *, down: bool = False) -> None:
        self.memory = MemoryJournal()
        self.journal = FlakyJournal(self.memory)
        self.reopener = Reopener(self.memory.reopen, down=down)
        recovery = Recovery(self.reopener, backoff_first_seconds=0.01, backoff_max_seconds=0.05)
        self.service = Service.open(self.journal, ManualClock(START_MS), load_asset_specs(), recovery=recovery)
        self.heard: list[Event] = []
        self.service.add_listener(self._hear)
        assert isinstance(self.service.execute(CreateAccount()), Accepted)
        assert isinstance(self.service.execute(Deposit(SUBACCOUNT, "USDC", 100)), Accepted)

    def _hear(self, batch: BatchCommitted) -> None:
        self.heard.extend(batch.events)

    def balance(self) -> int:
        return self.service.read(lambda state: state.ledger.get((spot(SUBACCOUNT), "USDC"), 0))

    def recovered(self) -> bool:
        return self.service.fault is None


@pytest.fixture
def opened() -> Iterator[Opened]:
    opened = Opened()
    try:
        yield opened
    finally:
        opened.service.close()


def refused_in_fault(future: Future[Result]) -> ServiceUnavailableError:
    with pytest.raises(ServiceUnavailableError) as caught:
        future.result(WAIT_SECONDS)
    return caught.value


def test_a_lost_database_pauses_commands_and_reads_until_the_state_is_rebuilt_from_the_journal(opened: Opened) -> None:
    service = opened.service
    opened.journal.fail_with, opened.reopener.down = LOST, True
    caught = refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 5)))
    assert caught.executed is None, "the command caught in the failed commit may or may not have run"
    assert "unknown" in caught.message
    fault = service.fault
    assert fault is not None
    assert fault.kind is FaultKind.JOURNAL_UNAVAILABLE
    assert not fault.fatal
    with pytest.raises(ServiceUnavailableError, match="not executed") as refused:
        service.submit(Deposit(SUBACCOUNT, "USDC", 7))
    assert refused.value.executed is False
    with pytest.raises(ServiceUnavailableError, match="reconnecting"):
        service.read(lambda state: state.now_ms)
    assert service.peek(lambda state: len(state.subaccounts)) == 1, "add-only lookups keep answering"
    opened.reopener.down = False
    wait_until(opened.recovered, "the service recovers once the database is back")
    assert opened.balance() == 100, "the deposit whose commit failed is not in the rebuilt state"
    assert service.sequence == opened.memory.last_sequence()
    assert isinstance(service.execute(Deposit(SUBACCOUNT, "USDC", 9)), Accepted)
    assert opened.balance() == 109
    assert all(check.ok for check in service.audit())
    assert opened.journal.closed, "the broken journal was closed and replaced"


def test_a_batch_whose_reply_was_lost_is_in_the_rebuilt_state_heard_once_and_refused_when_retried(
    opened: Opened,
) -> None:
    service = opened.service
    signed = SignedRequest(b"s" * 64, 2**62)
    opened.journal.fail_with, opened.journal.commit_first = LOST, True
    refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 5), signed=signed))
    wait_until(opened.recovered, "the service recovers")
    assert opened.balance() == 105, "the commit reached the journal, so the deposit is in the rebuilt state"
    deposits = [event for event in opened.heard if isinstance(event, Deposited)]
    assert [event.quantity_atoms for event in deposits] == [100, 5], "listeners heard the recovered batch, once"
    with pytest.raises(DuplicateRequestError) as duplicate:
        service.submit(Deposit(SUBACCOUNT, "USDC", 5), signed=signed).result(WAIT_SECONDS)
    assert duplicate.value.answered is not None
    assert duplicate.value.answered.sequence == service.sequence, "the refusal names the sequence that executed it"
    assert opened.balance() == 105, "INV-REPLAY-2: the retry did not execute again"


def test_a_signed_request_refused_during_a_fault_executes_once_when_retried_after_it(opened: Opened) -> None:
    service = opened.service
    signed = SignedRequest(b"r" * 64, 2**62)
    opened.journal.fail_with, opened.reopener.down = LOST, True
    refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
    service.replay_guard.claim(signed)
    with pytest.raises(ServiceUnavailableError):
        service.submit(Deposit(SUBACCOUNT, "USDC", 5), signed=signed)
    service.replay_guard.claim(signed)  # released: it was certainly not executed
    opened.reopener.down = False
    wait_until(opened.recovered, "the service recovers")
    assert isinstance(service.submit(Deposit(SUBACCOUNT, "USDC", 5), signed=signed).result(WAIT_SECONDS), Accepted)
    assert opened.balance() == 105


def test_a_fault_is_logged_once_when_it_starts_and_once_when_it_ends_however_many_requests_it_refuses(
    opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    service = opened.service
    opened.journal.fail_with, opened.reopener.down = LOST, True
    with caplog.at_level(logging.INFO, logger="crossmargin"):
        refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
        for _ in range(REFUSED_DURING_FAULT):
            with pytest.raises(ServiceUnavailableError):
                service.submit(Deposit(SUBACCOUNT, "USDC", 1))
            with pytest.raises(ServiceUnavailableError):
                service.read(lambda state: state.now_ms)
        wait_until(lambda: opened.reopener.attempts >= 3, "it keeps reconnecting while the database is away")
        opened.reopener.down = False
        wait_until(opened.recovered, "the service recovers")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("journal fault: The journal cannot be written"), messages
    assert messages[1].startswith("journal recovered"), messages
    assert not any(record.exc_info for record in caplog.records), "no traceback"


class _FaultAtRecoveryLine(logging.Handler):
    """Note, when the service logs its recovery, whether it still showed the fault at that moment."""

    def __init__(self, service: Service) -> None:
        super().__init__(logging.WARNING)
        self.service = service
        self.fault_shown: list[bool] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("journal recovered"):
            self.fault_shown.append(self.service.fault is not None)


def test_the_recovery_is_logged_before_the_service_shows_itself_recovered(opened: Opened) -> None:
    """Logged after the fault was cleared, a check that saw the service recovered could miss the line (seen once)."""
    handler = _FaultAtRecoveryLine(opened.service)
    logger = logging.getLogger("crossmargin")
    logger.addHandler(handler)
    try:
        opened.journal.fail_with, opened.reopener.down = LOST, True
        refused_in_fault(opened.service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
        opened.reopener.down = False
        wait_until(opened.recovered, "the service recovers")
    finally:
        logger.removeHandler(handler)
    assert handler.fault_shown == [True], "the line is written while the fault still shows, never after"


def test_a_journal_that_lost_acknowledged_commands_stops_the_service_for_good(opened: Opened) -> None:
    service = opened.service
    shorter = MemoryJournal()
    shorter.records = opened.memory.records[:1]
    opened.reopener.open_inner = lambda: shorter
    opened.journal.fail_with = LOST
    refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
    fault = service.wait_for_fatal_fault(WAIT_SECONDS)
    assert fault is not None
    assert fault.kind is FaultKind.JOURNAL_BEHIND
    assert "sequence 1" in fault.message
    assert "acknowledged" in fault.message
    with pytest.raises(ServiceFailedError):
        service.read(lambda state: state.now_ms)


@pytest.mark.parametrize(
    ("error", "reopen_error"),
    [
        (OSError("database or disk is full"), None),
        (LOST, MigrationError("the database has schema version 99, newer than this release's 2: upgrade crossmargin")),
    ],
    ids=["disk-full", "schema-from-a-newer-release"],
)
def test_a_journal_that_cannot_be_written_stops_the_service_for_good_and_says_to_restart_it(
    opened: Opened, error: BaseException, reopen_error: BaseException | None
) -> None:
    service = opened.service
    opened.journal.fail_with, opened.reopener.error = error, reopen_error
    caught = refused_in_fault(service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
    fault = service.wait_for_fatal_fault(WAIT_SECONDS)
    assert fault is not None
    assert fault.kind is FaultKind.JOURNAL_FAILED
    assert "restarted" in fault.message
    assert isinstance(caught, ServiceUnavailableError)
    with pytest.raises(ServiceFailedError):
        service.submit(Deposit(SUBACCOUNT, "USDC", 1))
    with pytest.raises(ServiceFailedError):
        service.peek(lambda state: state.now_ms)


def test_closing_during_a_fault_stops_reconnecting_and_closes_without_a_snapshot() -> None:
    opened = Opened(down=True)
    opened.journal.fail_with = LOST
    refused_in_fault(opened.service.submit(Deposit(SUBACCOUNT, "USDC", 1)))
    snapshots = dict(opened.memory.snapshots)
    opened.service.close()
    assert opened.memory.snapshots == snapshots, "a state ahead of the journal is never snapshotted"
    assert opened.memory.closed
    assert opened.service.wait_for_fatal_fault(0) is None, "closing is not a fatal fault"


def test_closing_while_a_failing_batch_is_taken_with_the_stop_still_closes() -> None:
    opened = Opened(down=True)
    service, journal = opened.service, opened.journal
    journal.hold()
    first = service.submit(Deposit(SUBACCOUNT, "USDC", 1))
    assert journal.entered.wait(WAIT_SECONDS)
    second = service.submit(Deposit(SUBACCOUNT, "USDC", 2))
    closer = threading.Thread(target=service.close)
    closer.start()
    wait_until(lambda: service._closed, "close() queues its stop behind the second deposit")
    journal.fail_with, journal.healthy_appends = LOST, 1
    journal.release.set()
    assert isinstance(first.result(WAIT_SECONDS), Accepted)
    refused_in_fault(second)
    closer.join(WAIT_SECONDS)
    assert not closer.is_alive(), "close() returns although the batch taken with its stop failed"
    assert opened.memory.closed
