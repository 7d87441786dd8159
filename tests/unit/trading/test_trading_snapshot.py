"""A state with open orders survives a snapshot (books rebuilt in the same priority) and equals a replay."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.book import Book
from crossmargin.core.commands import Command
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import Event, Traded
from crossmargin.core.orders import OrderId
from crossmargin.core.state import EngineState

BTC = "BTC_USDC"
PERP = "BTC_USDC_PERP"


class RecordingDriver(Driver):
    """A driver that keeps every accepted command with its time, to replay them."""

    def __init__(self) -> None:
        self.journal: list[tuple[Command, int]] = []
        super().__init__()

    def accept(self, command: Command) -> tuple[Event, ...]:
        events = super().accept(command)
        self.journal.append((command, self.now_ms))
        return events


def _levels(book: Book) -> tuple[list[tuple[int, list[OrderId]]], list[tuple[int, list[OrderId]]]]:
    return (
        [(price, list(ids)) for price, ids in book.bids.iter_levels()],
        [(price, list(ids)) for price, ids in book.asks.iter_levels()],
    )


def _trading_day() -> RecordingDriver:
    """Makers at two prices per side, a partial fill, a cancel, a perp position and a settlement."""
    driver = RecordingDriver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.at(HOUR_MS)
    makers = [driver.account() for _ in range(3)]
    for maker in makers:
        driver.deposit(maker, "USDC", "100000")
        driver.deposit(maker, "BTC", "10")
    driver.place(makers[0], BTC, "sell", "0.1", "60010")
    driver.place(makers[1], BTC, "sell", "0.2", "60010")
    driver.place(makers[2], BTC, "sell", "0.1", "60000")
    driver.place(makers[2], BTC, "buy", "0.1", "59990")
    driver.place(makers[0], BTC, "buy", "0.1", "59990")
    cancelled = driver.place(makers[1], BTC, "buy", "0.1", "59980")
    driver.cancel(makers[1], BTC, cancelled.order_id)
    driver.place(makers[1], BTC, "buy", "0.3", "59980")
    driver.place(makers[0], BTC, "buy", "0.05", "59990")
    buyer = driver.account()
    driver.deposit(buyer, "USDC", "10000")
    driver.place(buyer, BTC, "buy", "0.12")  # fills 0.1 at 60000 and 0.02 of the oldest at 60010
    driver.maker(PERP, "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.place(trader, PERP, "buy", "0.1")
    driver.tick(HOUR_MS + 20_000)
    return driver


def test_books_are_in_price_time_priority_before_the_snapshot() -> None:
    driver = _trading_day()
    bids, asks = _levels(driver.state.books[BTC])
    assert [(price // 10**18, len(ids)) for price, ids in bids] == [(59990, 3), (59980, 1)]
    assert [(price // 10**18, len(ids)) for price, ids in asks] == [(60010, 2)]
    assert bids[0][1] == sorted(bids[0][1])  # oldest first
    # The market bid of 0.12 took the best ask (60000) first, then the older order at 60010.
    first, second = driver.state.fills[:2]
    assert [first.price_wad // 10**18, second.price_wad // 10**18] == [60000, 60010]
    assert second.maker_order_id == asks[0][1][0]
    assert driver.state.orders[second.maker_order_id].remaining_atoms == 8_000_000


def test_a_snapshot_with_open_orders_restores_the_state_and_its_books() -> None:
    driver = _trading_day()
    assert driver.state.settlements, "the day settles a perp position: its settlement pass is in the snapshot"
    restored = decode_state(encode_state(driver.state))
    assert restored == driver.state
    assert restored.open_order_ids == driver.state.open_order_ids
    for symbol, book in driver.state.books.items():
        assert _levels(restored.books[symbol]) == _levels(book), symbol


def test_the_restored_state_matches_the_same_orders_in_the_same_priority() -> None:
    driver = _trading_day()
    restored = decode_state(encode_state(driver.state))
    oldest_two = list(next(iter(restored.books[BTC].bids.iter_levels()))[1])[:2]
    taker = driver.account()
    driver.deposit(taker, "BTC", "1")
    for command, at_ms in driver.journal[-2:]:  # the taker's account and deposit, after the snapshot
        assert isinstance(execute(restored, command, at_ms), Accepted)
    command = driver.order(taker, BTC, "sell", "0.2", "59990")
    live = execute(driver.state, command, driver.now_ms)
    again = execute(restored, command, driver.now_ms)
    assert isinstance(live, Accepted)
    assert live == again
    fills = [event.fill for event in live.events if isinstance(event, Traded)]
    assert [fill.maker_order_id for fill in fills] == oldest_two
    assert restored == driver.state


def test_a_replay_of_the_journal_equals_the_live_state() -> None:
    driver = _trading_day()
    replayed = EngineState()
    for command, at_ms in driver.journal:
        assert isinstance(execute(replayed, command, at_ms), Accepted)
    assert replayed == driver.state
    for symbol, book in driver.state.books.items():
        assert _levels(replayed.books[symbol]) == _levels(book), symbol
