"""Perp orders: positions from fills, fees in USDC, margin, reduce-only and open interest."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.commands import CancelAllOrders, ConfigureMarkets
from crossmargin.core.events import Event, PerpPositionChanged, Traded
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import locked
from crossmargin.core.orders import OrderFlags, OrderStatus, TimeInForce
from crossmargin.core.perps import PerpPosition
from crossmargin.core.rejections import RejectReason

PERP = "BTC_USDC_PERP"


def _fills(events: tuple[Event, ...]) -> list[Fill]:
    return [event.fill for event in events if isinstance(event, Traded)]


def _position(driver: Driver, sub: SubaccountId) -> PerpPosition:
    position = driver.perp(sub, PERP)
    assert position is not None
    return position


def _trader(driver: Driver, usdc: str = "1000") -> SubaccountId:
    sub = driver.account()
    driver.deposit(sub, "USDC", usdc)
    return sub


def test_a_perp_fill_opens_both_positions_and_books_fees_in_usdc(driver: Driver) -> None:
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    events = driver.accept(driver.order(trader, PERP, "buy", "0.1"))
    (fill,) = _fills(events)
    # 0.1 at the maker's ask 60005: 6000.5 USDC; taker 0.05% = 3.00025, maker 0.02% = 1.2001.
    assert (fill.quote_atoms, fill.taker_fee_atoms, fill.maker_fee_atoms) == (6_000_500_000, 3_000_250, 1_200_100)
    assert (fill.taker_fee_symbol, fill.maker_fee_symbol) == ("USDC", "USDC")
    long = _position(driver, trader)
    assert (long.quantity_atoms, long.basis_atoms, long.entry_cost_atoms, long.pending_fee_atoms) == (
        10_000_000,
        6_000_500_000,
        6_000_500_000,
        3_000_250,
    )
    short = _position(driver, maker)
    assert (short.quantity_atoms, short.basis_atoms, short.pending_fee_atoms) == (
        -10_000_000,
        -6_000_500_000,
        1_200_100,
    )
    changed = [event.position for event in events if isinstance(event, PerpPositionChanged)]
    assert changed == [long, short]
    # Nothing moves in USDC until the settlement; perp orders lock nothing.
    assert driver.usdc(trader) == "1000"
    assert driver.state.ledger.get((locked(trader), "USDC"), 0) == 0
    assert driver.state.open_interest_atoms[PERP] == 10_000_000
    assert driver.state.settlement_due_ms == 10_000


def test_a_resting_perp_order_locks_nothing_but_reserves_margin(driver: Driver) -> None:
    trader = _trader(driver)
    order = driver.place(trader, PERP, "buy", "0.1", "59000")
    assert (order.status, order.locked_atoms) == (OrderStatus.NEW, 0)
    margin = driver.margin(trader)
    (line,) = margin.perps
    # 0.1 BTC at the mark (the index, 60000: the book is one-sided) reserves 10% of 6000.
    assert (line.quantity_atoms, line.notional_wad, line.reserve_notional_wad) == (0, 0, 6000 * 10**18)
    assert margin.locked_wad == 600 * 10**18
    assert margin.available_wad == 400 * 10**18


def test_a_perp_order_too_big_for_the_account_is_refused(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    rejection = driver.refuse(driver.order(trader, PERP, "buy", "0.2"), RejectReason.MARGIN_INSUFFICIENT)
    assert rejection.message == "Order would take your available margin below zero: you have 1000 USD available"
    driver.refuse(driver.order(trader, PERP, "buy", "0.2", "59000"), RejectReason.MARGIN_INSUFFICIENT)


def test_a_higher_leverage_limit_lets_the_same_order_through(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.settings(trader, leverage_limit="20")
    order = driver.place(trader, PERP, "buy", "0.2")
    assert order.status is OrderStatus.FILLED


def test_reduce_only_larger_than_the_position_is_refused_not_cut(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.place(trader, PERP, "buy", "0.1")
    command = driver.order(trader, PERP, "sell", "0.5", flags=OrderFlags(reduce_only=True))
    rejection = driver.refuse(command, RejectReason.REDUCE_ONLY_ABOVE_POSITION)
    assert rejection.message == (
        "A reduce-only order of 0.5 is larger than your BTC_USDC_PERP position of 0.1: send at most 0.1 BTC"
    )
    assert _position(driver, trader).quantity_atoms == 10_000_000
    order = driver.place(trader, PERP, "sell", "0.1", flags=OrderFlags(reduce_only=True))
    assert (order.quantity_atoms, order.executed_atoms, order.status) == (10_000_000, 10_000_000, OrderStatus.FILLED)
    assert _position(driver, trader).quantity_atoms == 0


def test_reduce_only_that_would_not_reduce_is_refused(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    message = "A reduce-only order must reduce your BTC_USDC_PERP position"
    flags = OrderFlags(reduce_only=True)
    rejection = driver.refuse(
        driver.order(trader, PERP, "sell", "0.1", flags=flags), RejectReason.REDUCE_ONLY_NOT_REDUCED
    )
    assert rejection.message == message
    driver.place(trader, PERP, "buy", "0.1")
    driver.refuse(driver.order(trader, PERP, "buy", "0.1", flags=flags), RejectReason.REDUCE_ONLY_NOT_REDUCED)
    driver.place(trader, PERP, "sell", "0.2")
    assert _position(driver, trader).quantity_atoms == -10_000_000
    driver.refuse(driver.order(trader, PERP, "sell", "0.1", flags=flags), RejectReason.REDUCE_ONLY_NOT_REDUCED)
    covered = driver.place(trader, PERP, "buy", "0.1", flags=flags)
    assert covered.executed_atoms == 10_000_000


def _underwater(driver: Driver) -> SubaccountId:
    """A long of 0.15 BTC on 1000 USDC after BTC falls to 55000: available margin below zero."""
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    driver.place(trader, PERP, "buy", "0.15")
    driver.accept(CancelAllOrders(maker, PERP))
    driver.prices(BTC="55000")
    driver.place(maker, PERP, "buy", "1", "54995")
    driver.place(maker, PERP, "sell", "1", "55005")
    assert driver.margin(trader).available_wad < 0
    assert not driver.margin(trader).is_liquidatable
    return trader


def test_an_order_that_only_reduces_goes_through_when_margin_is_short(driver: Driver) -> None:
    trader = _underwater(driver)
    before = driver.margin(trader).available_wad
    order = driver.place(trader, PERP, "sell", "0.05")
    assert order.status is OrderStatus.FILLED
    assert _position(driver, trader).quantity_atoms == 10_000_000
    assert before < driver.margin(trader).available_wad < 0


def test_an_order_that_flips_or_rests_is_not_let_through_when_margin_is_short(driver: Driver) -> None:
    trader = _underwater(driver)
    driver.refuse(driver.order(trader, PERP, "sell", "0.3"), RejectReason.MARGIN_INSUFFICIENT)
    driver.refuse(driver.order(trader, PERP, "sell", "0.05", "56000"), RejectReason.MARGIN_INSUFFICIENT)
    driver.refuse(driver.order(trader, PERP, "buy", "0.01"), RejectReason.MARGIN_INSUFFICIENT)


def test_an_order_that_would_pass_the_open_interest_limit_is_refused(driver: Driver) -> None:
    spec = driver.state.markets[PERP]
    driver.accept(ConfigureMarkets((replace(spec, open_interest_limit_atoms=15_000_000),)))
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver, "100000")
    driver.place(trader, PERP, "buy", "0.1")
    rejection = driver.refuse(driver.order(trader, PERP, "buy", "0.1"), RejectReason.OPEN_INTEREST_LIMIT_EXCEEDED)
    assert rejection.message == "BTC_USDC_PERP open interest would exceed its limit of 0.15"
    driver.place(trader, PERP, "buy", "0.05")
    assert driver.state.open_interest_atoms[PERP] == 15_000_000


def test_above_a_lowered_limit_an_order_that_cuts_open_interest_is_accepted(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver, "100000")
    driver.place(trader, PERP, "buy", "0.2")
    spec = driver.state.markets[PERP]
    driver.accept(ConfigureMarkets((replace(spec, open_interest_limit_atoms=10_000_000),)))
    driver.place(trader, PERP, "sell", "0.05")
    assert driver.state.open_interest_atoms[PERP] == 15_000_000
    driver.refuse(driver.order(trader, PERP, "buy", "0.01"), RejectReason.OPEN_INTEREST_LIMIT_EXCEEDED)


def test_a_short_against_a_resting_bid_fills_at_the_bid(driver: Driver) -> None:
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = _trader(driver)
    order = driver.place(trader, PERP, "sell", "0.1", "59990", tif=TimeInForce.IOC)
    assert order.executed_quote_atoms == 5_999_500_000
    assert _position(driver, trader).basis_atoms == -5_999_500_000
    assert _position(driver, maker).quantity_atoms == 10_000_000
    assert driver.state.open_interest_atoms[PERP] == 10_000_000


def test_a_perp_without_a_mark_price_cannot_be_traded() -> None:
    # Regression: with no BTC index the perp mark was 0, so a short of 10 BTC on 10 USDC showed its
    # whole 600,000 USDC value as unsettled profit, passed the margin check and settled it into USDC.
    driver = Driver()
    driver.prices(USDC="1")
    trader = driver.account()
    driver.deposit(trader, "USDC", "10")
    rejection = driver.refuse(driver.order(trader, PERP, "sell", "10", "60000"), RejectReason.MARK_PRICE_MISSING)
    assert rejection.message == "BTC_USDC_PERP has no mark price yet: it trades once BTC has an index price"
    driver.prices(BTC="60000")
    assert driver.place(trader, PERP, "sell", "0.001", "60000").status is OrderStatus.NEW
