"""Clocks: advancing the manual clock runs every hour's interest in order, each at its own rate.

Two pools carry debt (USDC and BTC). Advancing the manual clock by three days at once must charge
exactly 72 hourly interests per pool with debt and none elsewhere, on consecutive hours, and give
exactly the events of 72 separate one-hour steps on a copy of the state, whose rates are computed
from each hour's own utilization. The manual clock never goes back; a restarted service resumes
its manual clock at the engine's time. Between advances each command but a Tick runs 1 ms after
the engine's time at least, the clock moving along, while a flowing clock's commands run at its
time; commands stepping over the hour still charge its interest once, on the hour.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from tests.integration.conftest import Database
from tests.integration.workload import HOUR_MS, MINUTE_MS, START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock, WallClock
from crossmargin.app.codec import decode_state, encode_state
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
)
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.events import Event, InterestCharged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import compute_borrow_rate, compute_utilization
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

DAYS_3_SECONDS = 3 * 24 * 3600
LENDER, BORROWER = SubaccountId(1), SubaccountId(2)


def borrowing_service(journal: MemoryJournal | None = None) -> tuple[Service, ManualClock]:
    """Return a service where subaccount 2 borrows USDC and BTC that subaccount 1 lends."""
    clock = ManualClock(START_MS)
    service = Service.open(journal or MemoryJournal(), clock, load_asset_specs())
    setup: list[Command] = [
        SetMarkPrices((("USDC", WAD), ("BTC", 60_000 * WAD))),
        CreateAccount(),
        CreateAccount(),
        Deposit(LENDER, "USDC", 1_000_000 * 10**6),
        Deposit(LENDER, "BTC", 10 * 10**8),
        ExecuteBorrowLend(LENDER, "USDC", BorrowLendSide.LEND, 500_000 * 10**6),
        ExecuteBorrowLend(LENDER, "BTC", BorrowLendSide.LEND, 5 * 10**8),
        Deposit(BORROWER, "BTC", 20 * 10**8),
        ExecuteBorrowLend(BORROWER, "USDC", BorrowLendSide.BORROW, 300_000 * 10**6),
        ExecuteBorrowLend(BORROWER, "BTC", BorrowLendSide.BORROW, 2 * 10**8),
    ]
    for command in setup:
        assert isinstance(service.execute(command), Accepted), command
    return service, clock


def interest_by_symbol(events: tuple[Event, ...] | list[Event]) -> dict[str, list[InterestCharged]]:
    charged: dict[str, list[InterestCharged]] = defaultdict(list)
    for event in events:
        if isinstance(event, InterestCharged):
            charged[event.symbol].append(event)
    return charged


def expected_borrow_rate(state: EngineState, symbol: str) -> int:
    """Return the borrow rate the pool's utilization gives right now."""
    tx = Transaction(state, state.now_ms)
    pool = tx.pool(symbol)
    return compute_borrow_rate(
        state.specs[symbol].rate_curve, compute_utilization(pool.borrowed_atoms, pool_supplied(tx, symbol))
    )


def test_advancing_three_days_charges_72_hourly_interests_per_pool_with_debt() -> None:
    service, clock = borrowing_service()
    before = service.now_ms()
    assert before == START_MS + 10, "the setup's ten commands after the listing, one millisecond apart"
    result = service.advance_clock(DAYS_3_SECONDS)
    service.close()
    charged = interest_by_symbol(result.events)
    assert sorted(charged) == ["BTC", "USDC"], "only pools with debt charge interest"
    first_hour = (START_MS // HOUR_MS + 1) * HOUR_MS
    for events in charged.values():
        assert len(events) == 72
        assert [event.hour_ms for event in events] == [first_hour + hour * HOUR_MS for hour in range(72)]
        assert all(event.borrowers_atoms == event.lenders_atoms + event.fee_atoms for event in events)
    assert clock.now_ms() == before + DAYS_3_SECONDS * 1000


def test_three_days_at_once_equal_72_one_hour_steps_each_at_its_hours_rate() -> None:
    service, _ = borrowing_service()
    copy = decode_state(service.read(encode_state))
    at_once = interest_by_symbol(service.advance_clock(DAYS_3_SECONDS).events)
    service.close()
    stepped: list[Event] = []
    rates: dict[str, list[int]] = defaultdict(list)
    first_hour = (START_MS // HOUR_MS + 1) * HOUR_MS
    for hour in range(72):
        for symbol in ("BTC", "USDC"):
            rates[symbol].append(expected_borrow_rate(copy, symbol))
        result = execute(copy, Tick(), first_hour + hour * HOUR_MS)
        assert isinstance(result, Accepted)
        stepped += result.events
    assert at_once == interest_by_symbol(stepped)
    for symbol, events in at_once.items():
        assert [event.borrow_rate_wad for event in events] == rates[symbol], f"{symbol}: each hour at its own rate"
        assert len(set(rates[symbol])) > 1, f"{symbol}: the rate moves as debt compounds, so hours differ"


def test_restarted_service_resumes_the_manual_clock_at_the_engine_time(database: Database) -> None:
    clock = ManualClock(START_MS)
    service = database.open_service(clock)
    before = service.now_ms()
    assert before == START_MS + 1, "the assets listed at START_MS, the markets 1 ms after"
    service.advance_clock(30 * 60)
    service.close()
    resumed = ManualClock(0)
    service = database.open_service(resumed)
    try:
        assert resumed.now_ms() == before + 30 * MINUTE_MS
    finally:
        service.close()


def test_manual_clock_never_goes_back() -> None:
    clock = ManualClock(1_000)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance_to(999)
    assert clock.advance(1.5) == 2_500
    assert clock.advance_to(2_500) == 2_500


def test_wall_clock_service_cannot_be_advanced_by_hand() -> None:
    service = Service.open(MemoryJournal(), WallClock(), load_asset_specs())
    try:
        with pytest.raises(TypeError, match="manual clock"):
            service.advance_clock(60)
    finally:
        service.close()


def test_wall_clock_reads_the_system_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    now = WallClock().now_ms()
    assert before <= now <= time.time_ns() // 1_000_000


class FrozenClock:
    """A clock that flows, caught within one millisecond: what the wall clock is to fast commands."""

    def now_ms(self) -> int:
        return START_MS


def test_commands_between_advances_run_one_millisecond_apart_and_the_clock_moves_along() -> None:
    clock = ManualClock(START_MS)
    service = Service.open(MemoryJournal(), clock, load_asset_specs())  # the listing runs at START_MS
    try:
        times: list[int] = []
        for _ in range(3):
            assert isinstance(service.execute(CreateAccount()), Accepted)
            times.append(service.now_ms())
        assert times == [START_MS + 1, START_MS + 2, START_MS + 3]
        assert clock.now_ms() == START_MS + 3, "the manual clock reads the engine's time"
        assert service.next_command_ms() == START_MS + 4
        assert isinstance(service.execute(Deposit(SubaccountId(99), "USDC", 1)), Rejected)
        assert service.next_command_ms() == START_MS + 4, "a refused command took no time"
        assert isinstance(service.execute(Tick()), Accepted)
        assert service.now_ms() == START_MS + 3, "a Tick, the clock's own work, runs at the engine's time"
        service.advance_clock(90)
        assert service.now_ms() == clock.now_ms() == START_MS + 3 + 90_000, "90 s after the last command"
        assert isinstance(service.execute(CreateAccount()), Accepted)
        assert service.now_ms() == START_MS + 90_004
    finally:
        service.close()


def test_a_flowing_clocks_commands_run_at_its_time() -> None:
    service = Service.open(MemoryJournal(), FrozenClock(), load_asset_specs())
    try:
        for _ in range(2):
            assert isinstance(service.execute(CreateAccount()), Accepted)
            assert service.now_ms() == service.next_command_ms() == START_MS
    finally:
        service.close()


def test_commands_stepping_over_the_hour_charge_its_interest_once_on_the_hour() -> None:
    service, clock = borrowing_service()
    hour = (START_MS // HOUR_MS + 1) * HOUR_MS
    clock.advance_to(hour - 2)
    try:
        results = [service.execute(Deposit(LENDER, "USDC", 10**6)) for _ in range(4)]  # hour - 2 ... hour + 1
        assert service.now_ms() == hour + 1
        later = service.advance_clock(3600)
    finally:
        service.close()
    accepted = [result for result in results if isinstance(result, Accepted)]
    assert len(accepted) == len(results)
    charged = [interest_by_symbol(result.events) for result in accepted]
    assert [sorted(each) for each in charged] == [[], [], ["BTC", "USDC"], []], "due once, by the command at the hour"
    assert [event.hour_ms for events in charged[2].values() for event in events] == [hour, hour]
    next_hour = interest_by_symbol(later.events)
    assert [event.hour_ms for events in next_hour.values() for event in events] == [hour + HOUR_MS] * 2
