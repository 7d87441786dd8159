"""The threads that submit commands of their own survive a journal fault and resume after it.

The market maker, the demo taker, the risk monitor and the wall-clock scheduler each call the service from their
own thread; during a fault the service refuses them with `ServiceUnavailableError`. Before, each
thread died on the first refusal (a traceback, then no quotes, no liquidations, no interest ticks
for good). Method: the service over a `FlakyJournal`, a fault episode (an append fails, the
database stays away, then comes back), and then what each thread must still do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
from tests.integration.flaky_journal import FlakyJournal, Reopener

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.demo_taker import DemoTaker, TakerFlow, ensure_demo_taker
from crossmargin.app.market_maker import MarketMaker, ensure_market_maker
from crossmargin.app.ports import JournalUnavailableError
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.app.service import Recovery, Service, ServiceUnavailableError
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    PlaceOrder,
    SetMarkPrices,
    Tick,
    Withdraw,
)
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
WAIT_SECONDS = 30.0
LOST = JournalUnavailableError("PostgreSQL is unreachable: server closed the connection unexpectedly")


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT_SECONDS} s"
        time.sleep(0.01)


class Flaky:
    """A service with markets over a flaky memory journal."""

    def __init__(self) -> None:
        memory = MemoryJournal()
        self.journal = FlakyJournal(memory)
        self.reopener = Reopener(memory.reopen)
        document = load_document()
        specs = parse_asset_specs(document)
        recovery = Recovery(self.reopener, backoff_first_seconds=0.01, backoff_max_seconds=0.05)
        self.clock = ManualClock(START_MS)
        self.service = Service.open(
            self.journal, self.clock, specs, parse_market_specs(document, specs), recovery=recovery
        )
        self.prices(**PRICES)

    def accept(self, command: Command) -> Accepted:
        result = self.service.execute(command)
        assert isinstance(result, Accepted), result
        return result

    def prices(self, **prices: str) -> None:
        self.accept(SetMarkPrices(tuple((symbol, parse_decimal(price, 18)) for symbol, price in prices.items())))

    def atoms(self, symbol: str, quantity: str) -> int:
        return parse_decimal(quantity, self.service.read(lambda state: state.specs[symbol].decimals))

    def account(self, **deposits: str) -> SubaccountId:
        created = self.accept(CreateAccount()).events
        sub = next(event.subaccount_id for event in created if isinstance(event, AccountCreated))
        for symbol, quantity in deposits.items():
            self.accept(Deposit(sub, symbol, self.atoms(symbol, quantity)))
        return sub

    def fault_episode(self, during: Callable[[], None] = lambda: None) -> None:
        """Fail an append, keep the database away while `during` runs, then bring it back and wait for recovery."""
        self.journal.fail_with, self.reopener.down = LOST, True
        with pytest.raises(ServiceUnavailableError):
            self.service.submit(SetMarkPrices((("BTC", 59_000 * WAD),))).result(WAIT_SECONDS)
        wait_until(lambda: self.reopener.attempts >= 2, "the service tries to reconnect")
        during()
        self.reopener.down = False
        wait_until(lambda: self.service.fault is None, "the service recovers")


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    opened = Flaky()
    try:
        yield opened
        assert all(check.ok for check in opened.service.audit())
    finally:
        opened.service.close()


def _quoted_around(flaky: Flaky, market: str, index: int) -> bool:
    """Return whether the book has bids below `index` and asks above it, and nothing crossing it."""

    def read(state: EngineState) -> bool:
        book = state.books[market]
        bids = [price for price, _ in book.bids.iter_levels()]
        asks = [price for price, _ in book.asks.iter_levels()]
        return bool(bids) and bool(asks) and max(bids) < index < min(asks)

    return flaky.service.read(read)


def _one_sided_books(flaky: Flaky) -> list[str]:
    def read(state: EngineState) -> list[str]:
        return [
            market
            for market, book in sorted(state.books.items())
            if not list(book.bids.iter_levels()) or not list(book.asks.iter_levels())
        ]

    return flaky.service.read(read)


def test_the_market_maker_quotes_every_book_again_after_a_fault_episode(flaky: Flaky) -> None:
    maker = MarketMaker(flaky.service, ensure_market_maker(flaky.service)[0], poll_seconds=0.02)
    maker.start()
    try:
        wait_until(lambda: _quoted_around(flaky, "BTC_USDC", 60_000 * WAD), "the maker quotes BTC_USDC")
        flaky.fault_episode(during=lambda: time.sleep(0.2))
        flaky.prices(BTC="62000")
        wait_until(lambda: _quoted_around(flaky, "BTC_USDC", 62_000 * WAD), "the maker follows the index again")
        wait_until(lambda: not _one_sided_books(flaky), "every book is quoted on both sides")
        assert maker._thread.is_alive(), "the market maker survived the fault"
    finally:
        maker.stop()


def test_the_demo_taker_trades_again_after_a_fault_episode(flaky: Flaky) -> None:
    maker = MarketMaker(flaky.service, ensure_market_maker(flaky.service)[0], poll_seconds=0.02)
    flows = {"BTC_USDC_PERP": TakerFlow(mean_interval_ms=1_000, max_notional=20_000)}
    taker = DemoTaker(flaky.service, ensure_demo_taker(flaky.service)[0], flaky.clock, flows, poll_seconds=0.02)
    maker.start()
    taker.start()
    try:
        wait_until(lambda: _quoted_around(flaky, "BTC_USDC_PERP", 60_000 * WAD), "the maker quotes BTC_USDC_PERP")

        def move_the_clock() -> None:
            flaky.clock.advance(10)
            time.sleep(0.2)

        flaky.fault_episode(during=move_the_clock)
        placed = taker.placed
        flaky.clock.advance(10)
        wait_until(lambda: taker.placed > placed, "the taker trades again once the journal is back")
        assert taker._thread.is_alive(), "the demo taker survived the fault"
    finally:
        taker.stop()
        maker.stop()


def test_the_risk_monitor_liquidates_after_a_fault_episode(flaky: Flaky) -> None:
    monitor = RiskMonitor(flaky.service)
    monitor.start()
    try:
        lender = flaky.account(USDC="1000000")
        flaky.accept(ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, flaky.atoms("USDC", "1000000")))
        borrower = flaky.account(BTC="1")
        flaky.accept(Withdraw(borrower, "USDC", flaky.atoms("USDC", "45000"), auto_borrow=True))
        bidder = flaky.account(USDC="1000000")
        flaky.accept(
            PlaceOrder(bidder, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, flaky.atoms("BTC", "5"), 55_900 * WAD)
        )
        assert monitor.settle()

        def wake_the_monitor() -> None:
            monitor._wake.set()
            time.sleep(0.2)

        flaky.fault_episode(during=wake_the_monitor)
        assert monitor._thread.is_alive(), "the risk monitor survived the fault"
        accepted_before = monitor.stats.accepted
        flaky.prices(BTC="50000")
        assert monitor.settle()
        assert monitor.stats.accepted > accepted_before, "the monitor liquidated after the fault"
        debt = flaky.service.read(lambda state: Transaction(state, state.now_ms).holding(borrower, "USDC").debt_atoms)
        assert debt == 0, "the borrower's debt was taken over or repaid"
    finally:
        monitor.stop()


class Refusing:
    """A submit that refuses the first `refusals` commands as a service in maintenance would."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.accepted: list[Command] = []
        self.done = threading.Event()

    def __call__(self, command: Command) -> Future[Accepted | Rejected]:
        if self.refusals > 0:
            self.refusals -= 1
            raise ServiceUnavailableError("The journal cannot be written (test). This request was not executed.")
        self.accepted.append(command)
        self.done.set()
        future: Future[Accepted | Rejected] = Future()
        future.set_result(Accepted(()))
        return future


class PastTheHour:
    """A wall clock just past a full hour."""

    def now_ms(self) -> int:
        return 3_600_000 * 10 + 1


def test_the_scheduler_submits_the_tick_it_could_not_during_a_fault() -> None:
    submit = Refusing(refusals=2)
    scheduler = HourlyScheduler(submit, PastTheHour())
    scheduler._hour_due_ms = 3_600_000 * 10
    scheduler.start()
    try:
        assert submit.done.wait(WAIT_SECONDS), "the refused tick is submitted once the service takes commands"
    finally:
        scheduler.stop()
    assert submit.accepted == [Tick()]
    assert scheduler.ticks_submitted == 1
