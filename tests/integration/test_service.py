"""The sequencer: group commit, durable-before-reply, fail-stop, and a graceful close.

Many threads submit at once; the journal must hold every acknowledged command at the moment the
acknowledgement arrives, and commands must share transactions (batches larger than one). A wrapper
journal observes what is durable and can hold a flush open or make it fail, to show that no reply,
not even a refusal, comes before its batch is durable, and that a failed write stops the service
without acknowledging anything it could not make durable.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

import pytest
from tests.integration.conftest import Database
from tests.integration.workload import START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_command
from crossmargin.app.forwarding_journal import ForwardingJournal
from crossmargin.app.ports import Journal, JournalRecord, RequestSignature
from crossmargin.app.service import (
    GC_YOUNG_OBJECTS_MIN,
    Result,
    Service,
    ServiceClosedError,
    ServiceFailedError,
)
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import CreateAccount, Deposit
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import RejectReason

THREADS = 16
COMMANDS_PER_THREAD = 150


class ObservedJournal(ForwardingJournal):
    """A journal wrapper that records what is durable, and can hold or fail a flush."""

    def __init__(self, inner: Journal) -> None:
        super().__init__(inner)
        self.durable: set[str] = set()
        self.batch_sizes: list[int] = []
        self.holding = False
        self.entered: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.permits = threading.Semaphore(0)
        self.fail_with: BaseException | None = None

    def hold(self) -> None:
        """Make every flush wait for a permit (`permits.release()`), announcing itself on `entered`."""
        self.holding = True

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        if self.holding:
            self.entered.put(len(records))
            assert self.permits.acquire(timeout=5), "the test grants the flush"
        if self.fail_with is not None:
            raise self.fail_with
        self.inner.append(records, signatures)
        self.batch_sizes.append(len(records))
        self.durable.update(record.command for record in records)


def open_observed(journal: Journal) -> tuple[Service, ObservedJournal]:
    observed = ObservedJournal(journal)
    service = Service.open(observed, ManualClock(START_MS), load_asset_specs())
    assert isinstance(service.execute(CreateAccount()), Accepted)
    return service, observed


def test_many_threads_every_acknowledged_command_is_already_durable(database: Database) -> None:
    service, observed = open_observed(database.open_journal())
    late: list[str] = []

    def submitter(thread: int) -> None:
        futures = []
        for number in range(COMMANDS_PER_THREAD):
            command = Deposit(SubaccountId(1), "USDC", thread * 1_000_000 + number + 1)
            futures.append((encode_command(command), service.submit(command)))
        for text, future in futures:
            assert isinstance(future.result(), Accepted)
            if text not in observed.durable:
                late.append(text)

    threads = [threading.Thread(target=submitter, args=(thread,)) for thread in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    service.close()
    assert not late, f"{len(late)} commands were acknowledged before they were durable"
    journal = database.open_journal()
    try:
        journaled = {record.command for record in journal.read()}
    finally:
        journal.close()
    assert len(journaled) == 2 + THREADS * COMMANDS_PER_THREAD
    assert max(observed.batch_sizes) > 1, "commands waiting together are committed together"
    assert len(observed.batch_sizes) < THREADS * COMMANDS_PER_THREAD


def test_no_reply_not_even_a_refusal_comes_before_its_batch_is_durable() -> None:
    service, observed = open_observed(MemoryJournal())
    observed.hold()
    blocker = service.submit(Deposit(SubaccountId(1), "USDC", 1))
    assert observed.entered.get(timeout=5) == 1
    futures: list[Future[Result]] = [
        service.submit(Deposit(SubaccountId(1), "USDC", 2)),
        service.submit(Deposit(SubaccountId(99), "USDC", 3)),
        service.submit(Deposit(SubaccountId(1), "USDC", 4)),
    ]
    observed.permits.release()
    assert isinstance(blocker.result(5), Accepted)
    assert observed.entered.get(timeout=5) == 2, "the three waiting commands form the next batch"
    assert not any(future.done() for future in futures), "the refusal waits for the batch's flush too"
    observed.permits.release()
    results = [future.result(5) for future in futures]
    service.close()
    assert isinstance(results[1], Rejected)
    assert results[1].rejection.reason is RejectReason.SUBACCOUNT_NOT_FOUND
    assert observed.batch_sizes[-1] == 2, "the refused command is not journaled"


def test_close_finishes_every_queued_command_and_snapshots(database: Database) -> None:
    service, _ = open_observed(database.open_journal())
    futures = [service.submit(Deposit(SubaccountId(1), "USDC", number + 1)) for number in range(2_000)]
    service.close()
    assert all(isinstance(future.result(0), Accepted) for future in futures)
    journal = database.open_journal()
    try:
        assert journal.last_sequence() == 2 + 2_000
        latest = journal.load_latest_snapshot()
        assert latest is not None
        assert latest[0] == 2 + 2_000
    finally:
        journal.close()


def test_commands_after_close_are_refused() -> None:
    service, _ = open_observed(MemoryJournal())
    service.close()
    service.close()
    with pytest.raises(ServiceClosedError):
        service.submit(CreateAccount())


def test_failed_journal_write_stops_the_service_and_acknowledges_nothing() -> None:
    service, observed = open_observed(MemoryJournal())
    observed.fail_with = OSError("disk full")
    future = service.submit(Deposit(SubaccountId(1), "USDC", 1))
    with pytest.raises(ServiceFailedError, match="disk full"):
        future.result(5)
    with pytest.raises(ServiceFailedError):
        service.submit(Deposit(SubaccountId(1), "USDC", 2))
    with pytest.raises(ServiceFailedError):
        service.audit()
    service.close()
    journal = observed.inner
    assert isinstance(journal, MemoryJournal)
    assert len(journal.records) == 2
    assert journal.closed


def test_a_cancelled_command_is_never_executed() -> None:
    service, observed = open_observed(MemoryJournal())
    observed.hold()
    blocker = service.submit(Deposit(SubaccountId(1), "USDC", 1))
    assert observed.entered.get(timeout=5) == 1
    cancelled = service.submit(Deposit(SubaccountId(1), "USDC", 2))
    assert cancelled.cancel()
    observed.holding = False
    observed.permits.release()
    blocker.result(5)
    service.close()
    assert encode_command(Deposit(SubaccountId(1), "USDC", 2)) not in observed.durable


class SteppingBackClock:
    """A wall clock that steps backwards, as a real one may after a time correction."""

    def __init__(self) -> None:
        self.times = iter(range(START_MS + 10_000_000, 0, -1_000))

    def now_ms(self) -> int:
        return next(self.times)


def test_commands_run_at_the_engine_time_when_the_clock_steps_back() -> None:
    service = Service.open(MemoryJournal(), SteppingBackClock(), load_asset_specs())
    results = [service.execute(CreateAccount()) for _ in range(5)]
    times = service.read(lambda state: state.now_ms)
    service.close()
    assert all(isinstance(result, Accepted) for result in results), "time never goes back, so nothing is refused"
    assert times == START_MS + 10_000_000


def test_a_service_makes_young_garbage_collections_rarer_and_never_more_frequent() -> None:
    """In-flight futures promoted by frequent young collections made full collections walk the state."""
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with Service.open(MemoryJournal(), ManualClock(START_MS)):
            assert gc.get_threshold() == (GC_YOUNG_OBJECTS_MIN, 10, 10)
        gc.set_threshold(GC_YOUNG_OBJECTS_MIN * 2, 5, 5)
        with Service.open(MemoryJournal(), ManualClock(START_MS)):
            assert gc.get_threshold() == (GC_YOUNG_OBJECTS_MIN * 2, 5, 5), "a larger threshold is kept"
    finally:
        gc.set_threshold(*saved)


def test_a_submitted_command_builds_no_condition_and_its_caller_still_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A standard Future built a threading.Condition per command: as much CPU as executing a deposit."""
    service, observed = open_observed(MemoryJournal())
    built: list[int] = []
    real_condition = threading.Condition
    submitter = threading.get_ident()  # a future is made by the thread that submits (others may build their own)

    def counting_condition(*args: object) -> threading.Condition:
        if threading.get_ident() == submitter:
            built.append(submitter)
        return real_condition(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(threading, "Condition", counting_condition)
    observed.hold()
    first = service.submit(Deposit(SubaccountId(1), "USDC", 1))
    assert observed.entered.get(timeout=5) == 1
    futures = [service.submit(Deposit(SubaccountId(1), "USDC", 2 + n)) for n in range(100)]
    both = service.submit_all([Deposit(SubaccountId(1), "USDC", 200), Deposit(SubaccountId(1), "USDC", 201)])
    observed.holding = False
    observed.permits.release()
    results = [first.result(5), *(future.result(5) for future in futures), *both.result(5)]
    monkeypatch.undo()
    service.close()
    assert built == [], "no Condition per submitted command"
    assert all(isinstance(result, Accepted) for result in results)
    assert len(results) == 103
