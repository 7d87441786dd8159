"""The accelerated clock: engine time runs N times as fast as the wall clock, and every hour still ticks in order.

Method: the clock's own rules (parsing, flowing forward, resuming a journal that ran ahead), the
scheduler's wait scaled by the factor, and a real service with a borrow on a clock that runs an
engine hour every 0.1 s of wall time: the scheduler thread must charge each hour's interest once,
on consecutive hours, with no hour skipped. Only lower bounds on time are checked, never speed.
"""

from __future__ import annotations

import threading
import time

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import AcceleratedClock, ManualClock, WallClock, clock_rate, open_clock, parse_clock
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.app.service import BatchCommitted, Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
)
from crossmargin.core.engine import Accepted
from crossmargin.core.events import InterestCharged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD

HOUR_MS = 3_600_000
START_MS = 1_767_225_600_000 + HOUR_MS // 2


def test_clock_choices_are_wall_manual_or_accelerated_by_a_positive_factor() -> None:
    assert parse_clock("accelerated:60") == "accelerated:60"
    assert parse_clock("accelerated:0.5") == "accelerated:0.5"
    for wrong in ("fast", "accelerated", "accelerated:0", "accelerated:-2", "accelerated:x", "accelerated:1e9"):
        with pytest.raises(ValueError, match="write wall, manual or accelerated:N"):
            parse_clock(wrong)
    assert isinstance(open_clock("wall"), WallClock)
    assert open_clock("manual", START_MS).now_ms() == START_MS
    accelerated = open_clock("accelerated:60", START_MS)
    assert isinstance(accelerated, AcceleratedClock)
    assert clock_rate(accelerated) == 60
    assert clock_rate(ManualClock()) == 1


def test_engine_time_runs_factor_times_the_wall_time_and_resumes_ahead() -> None:
    clock = AcceleratedClock(3_600, START_MS)
    wall_before = time.monotonic()
    time.sleep(0.05)
    elapsed_wall_ms = (time.monotonic() - wall_before) * 1000
    assert clock.now_ms() - START_MS >= int(elapsed_wall_ms * 3_600) - 3_600, "at least an engine hour per wall second"
    later = START_MS + 100 * HOUR_MS
    assert clock.advance_to(later) >= later, "a journal that ran ahead: run on from its time"
    assert clock.advance_to(START_MS) >= later, "never back"
    with pytest.raises(ValueError, match="at most"):
        AcceleratedClock(0)


def test_the_scheduler_sleeps_the_engine_wait_divided_by_the_factor() -> None:
    clock = AcceleratedClock(1_000, 10 * HOUR_MS - 1_000_000)
    scheduler = HourlyScheduler(lambda _: pytest.fail("nothing is due"), clock, poll_seconds_max=60)
    wait = scheduler.poll()
    assert 0.9 < wait <= 1.0, "1,000 engine seconds to the hour are one wall second at 1,000x"


def test_a_service_opened_on_an_accelerated_clock_behind_its_journal_runs_on_from_the_journal() -> None:
    journal = MemoryJournal()
    with Service.open(journal, ManualClock(START_MS + 50 * HOUR_MS), load_asset_specs()) as service:
        assert isinstance(service.execute(Tick()), Accepted)
    clock = AcceleratedClock(60, START_MS)
    with Service.open(journal, clock, load_asset_specs()) as service:
        assert clock.now_ms() >= START_MS + 50 * HOUR_MS
        assert service.now_ms() >= START_MS + 50 * HOUR_MS


def test_every_hour_is_charged_once_and_in_order_on_a_fast_accelerated_clock() -> None:
    clock = AcceleratedClock(36_000, START_MS)  # an engine hour every 0.1 s of wall time
    hours: list[int] = []
    four_hours = threading.Event()

    def listen(batch: BatchCommitted) -> None:
        hours.extend(event.hour_ms for event in batch.events if isinstance(event, InterestCharged))
        if len(hours) >= 4:
            four_hours.set()

    with Service.open(MemoryJournal(), clock, load_asset_specs()) as service:
        lender, borrower = SubaccountId(1), SubaccountId(2)
        setup: list[Command] = [
            SetMarkPrices((("USDC", WAD), ("BTC", 60_000 * WAD))),
            CreateAccount(),
            CreateAccount(),
            Deposit(lender, "USDC", 1_000_000 * 10**6),
            ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, 500_000 * 10**6),
            Deposit(borrower, "BTC", 20 * 10**8),
            ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, 300_000 * 10**6),
        ]
        for command in setup:
            assert isinstance(service.execute(command), Accepted), command
        service.add_listener(listen)
        scheduler = HourlyScheduler(service.submit, clock)
        scheduler.start()
        try:
            assert four_hours.wait(timeout=30), "four engine hours pass within 30 s of wall time at 36,000x"
        finally:
            scheduler.stop()
    first = hours[0]
    assert first % HOUR_MS == 0
    assert hours == [first + index * HOUR_MS for index in range(len(hours))], "consecutive hours, none twice"
