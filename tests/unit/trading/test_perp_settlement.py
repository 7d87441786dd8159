"""Perp marks, 10-second settlement of PnL and fees, and hourly funding, with exact numbers."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.core.commands import CancelAllOrders, SetMarkPrices
from crossmargin.core.events import Event, FundingPaid, PerpMarksSet, PositionsSettled, SettlementSource, settled_rows
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import PERP_CLEARING, TRADING_FEES
from crossmargin.core.numbers import WAD
from crossmargin.core.perp_funding import compute_funding_rate
from crossmargin.core.perps import PerpPosition
from crossmargin.core.transaction import Transaction

PERP = "BTC_USDC_PERP"
START_MS = HOUR_MS - 30_000  # 00:59:30


def _settled(events: tuple[Event, ...], sub: SubaccountId) -> list[tuple[SettlementSource, int, int]]:
    return [(row.source, row.quantity_atoms, row.at_ms) for row in settled_rows(events) if row.subaccount_id == sub]


def _funding(events: tuple[Event, ...]) -> list[tuple[int, int, int]]:
    return [
        (event.subaccount_id, event.rate_wad, event.quantity_atoms)
        for event in events
        if isinstance(event, FundingPaid)
    ]


def _position(driver: Driver, sub: SubaccountId, market: str = PERP) -> PerpPosition:
    position = driver.perp(sub, market)
    assert position is not None
    return position


def _long(driver: Driver) -> tuple[SubaccountId, SubaccountId]:
    """A maker quoting 59995/60005 and a trader long 0.1 BTC bought at 60005, at 00:59:30."""
    driver.at(START_MS)
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.place(trader, PERP, "buy", "0.1")
    return maker, trader


def _quote(driver: Driver, maker: SubaccountId, bid: str, ask: str, market: str = PERP) -> None:
    driver.accept(CancelAllOrders(maker, market))
    driver.place(maker, market, "buy", "1", bid)
    driver.place(maker, market, "sell", "1", ask)


def test_pnl_and_fees_settle_at_the_next_ten_second_boundary(driver: Driver) -> None:
    maker, trader = _long(driver)
    assert driver.state.settlement_due_ms == START_MS + 10_000
    assert not _settled(driver.tick(START_MS + 9_999), trader)
    events = driver.tick(START_MS + 10_000)
    # Marked at 60000 (the median of index 60000, bid 59995, ask 60005): 6000 - 6000.5 = -0.5 PnL.
    assert _settled(events, trader) == [
        (SettlementSource.REALIZE_PNL, -500_000, START_MS + 10_000),
        (SettlementSource.TRADING_FEES, -3_000_250, START_MS + 10_000),
    ]
    assert _settled(events, maker) == [
        (SettlementSource.REALIZE_PNL, 500_000, START_MS + 10_000),
        (SettlementSource.TRADING_FEES, -1_200_100, START_MS + 10_000),
    ]
    assert driver.usdc(trader) == "996.49975"
    position = _position(driver, trader)
    assert (position.quantity_atoms, position.basis_atoms, position.pending_fee_atoms) == (10_000_000, 6_000_000_000, 0)
    assert (position.entry_cost_atoms, position.realized_pnl_atoms) == (6_000_500_000, -500_000)
    assert driver.state.ledger[(TRADING_FEES, "USDC")] == 4_200_350
    assert driver.state.ledger.get((PERP_CLEARING, "USDC"), 0) == 0
    assert driver.state.settlement_due_ms is None


def test_no_settlement_runs_while_nothing_changes(driver: Driver) -> None:
    _, trader = _long(driver)
    driver.tick(START_MS + 10_000)
    settled = len(driver.state.settlements)
    events = driver.tick(START_MS + 24 * HOUR_MS)
    assert not [event for event in events if isinstance(event, (PositionsSettled, PerpMarksSet, FundingPaid))]
    assert len(driver.state.settlements) == settled
    assert driver.state.settlement_due_ms is None
    assert driver.usdc(trader) == "996.49975"


def test_a_price_change_schedules_a_settlement_of_the_new_pnl(driver: Driver) -> None:
    maker, trader = _long(driver)
    driver.tick(START_MS + 10_000)
    _quote(driver, maker, "60995", "61005")
    # Quotes move the mark at once, but no further than the premium band: 60000 x 1.005.
    assert driver.state.perp_marks_wad[PERP] == 60_300 * WAD
    assert driver.state.settlement_due_ms == START_MS + 20_000
    driver.at(START_MS + 12_000).prices(BTC="61000")
    assert driver.state.settlement_due_ms == START_MS + 20_000
    events = driver.tick(START_MS + 20_000)
    assert [event.marks_wad for event in events if isinstance(event, PerpMarksSet)] == []  # set with the price
    assert driver.state.perp_marks_wad[PERP] == 61_000 * WAD
    assert _settled(events, trader) == [(SettlementSource.REALIZE_PNL, 100_000_000, START_MS + 20_000)]
    assert driver.usdc(trader) == "1096.49975"


def test_the_perp_mark_is_the_median_of_index_bid_and_ask_within_the_band(driver: Driver) -> None:
    maker = driver.maker(PERP, "60000", "5", "2")
    driver.prices(BTC="70000")
    assert driver.state.perp_marks_wad[PERP] == 69_650 * WAD  # the book's 60005, held to 70000 x 0.995
    driver.prices(BTC="50000")
    assert driver.state.perp_marks_wad[PERP] == 50_250 * WAD  # the book's 59995, held to 50000 x 1.005
    driver.prices(BTC="60001")
    assert driver.state.perp_marks_wad[PERP] == 60_001 * WAD
    driver.accept(CancelAllOrders(maker, PERP))
    driver.place(maker, PERP, "buy", "1", "59000")
    driver.prices(BTC="70000")
    assert driver.state.perp_marks_wad[PERP] == 70_000 * WAD  # one-sided book: the index


def test_an_unchanged_mark_emits_no_event(driver: Driver) -> None:
    events = driver.accept(SetMarkPrices((("BTC", 60_000 * WAD),)))
    assert not [event for event in events if isinstance(event, PerpMarksSet)]
    events = driver.accept(SetMarkPrices((("BTC", 61_000 * WAD),)))
    (marks,) = [event for event in events if isinstance(event, PerpMarksSet)]
    assert marks.marks_wad == ((PERP, 61_000 * WAD),)


def test_longs_pay_shorts_when_the_book_is_above_the_index(driver: Driver) -> None:
    maker, trader = _long(driver)
    _quote(driver, maker, "60295.1", "60305")
    events = driver.tick(HOUR_MS + 20_000)
    # mid 60300.05 over index 60000: rate 0.005000833333333333; mark 60295.1.
    # 0.1 x 60295.1 x rate = 30.15257459...: the long pays 30.152575, the short gets 30.152574.
    assert _funding(events) == [
        (trader, 5_000_833_333_333_333, -30_152_575),
        (maker, 5_000_833_333_333_333, 30_152_574),
    ]
    funding_paid = [event for event in events if isinstance(event, FundingPaid)]
    assert {event.interval_end_ms for event in funding_paid} == {HOUR_MS}
    assert (SettlementSource.FUNDING_PAYMENT, -30_152_575, HOUR_MS + 10_000) in _settled(events, trader)
    assert (SettlementSource.FUNDING_PAYMENT, 30_152_574, HOUR_MS + 10_000) in _settled(events, maker)
    position = _position(driver, trader)
    assert (position.pending_funding_atoms, position.cumulative_funding_atoms) == (0, -30_152_575)
    # The clearing account keeps the rounding atom.
    assert driver.state.ledger[(PERP_CLEARING, "USDC")] == 1


def test_shorts_pay_longs_when_the_book_is_below_the_index(driver: Driver) -> None:
    maker, trader = _long(driver)
    _quote(driver, maker, "59695", "59705")
    events = driver.tick(HOUR_MS)
    # mid 59700, index 60000: rate -0.005; mark 59705; 0.1 x 59705 x 0.005 = 29.8525 exactly.
    assert _funding(events) == [(trader, -5 * WAD // 1000, 29_852_500), (maker, -5 * WAD // 1000, -29_852_500)]


def test_the_funding_rate_is_clamped_to_the_funding_bound(driver: Driver) -> None:
    maker = driver.maker(PERP, "60000", "5", "2")
    spec = driver.state.markets[PERP]
    _quote(driver, maker, "61000", "61010")
    assert compute_funding_rate(Transaction(driver.state, 0), spec) == WAD // 100
    _quote(driver, maker, "58000", "58010")
    assert compute_funding_rate(Transaction(driver.state, 0), spec) == -WAD // 100
    _quote(driver, maker, "60295", "60305")
    assert compute_funding_rate(Transaction(driver.state, 0), spec) == 5 * WAD // 1000


def test_no_funding_without_a_two_sided_book(driver: Driver) -> None:
    maker, trader = _long(driver)
    _quote(driver, maker, "60500", "60510")
    driver.accept(CancelAllOrders(maker, PERP))
    driver.place(maker, PERP, "buy", "1", "60500")
    assert compute_funding_rate(Transaction(driver.state, 0), driver.state.markets[PERP]) == 0
    events = driver.tick(HOUR_MS + 20_000)
    assert not _funding(events)
    assert _position(driver, trader).cumulative_funding_atoms == 0


def test_no_funding_without_an_index_price() -> None:
    driver = Driver()
    assert compute_funding_rate(Transaction(driver.state, 0), driver.state.markets[PERP]) == 0


def test_a_receivers_share_below_one_atom_is_not_recorded(driver: Driver) -> None:
    driver.at(START_MS)
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.place(trader, PERP, "sell", "0.00001")  # short 0.00001 at 59995
    _quote(driver, maker, "60000", "60000.1")
    # mid 60000.05: rate 0.000000833333333333; 0.00001 x 60000 x rate = 0.0000005 USDC.
    events = driver.tick(HOUR_MS)
    assert _funding(events) == [(maker, 833_333_333_333, -1)]


def test_a_position_closed_just_before_the_hour_pays_no_funding(driver: Driver) -> None:
    driver.at(HOUR_MS - 5_000)
    maker = driver.maker(PERP, "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.place(trader, PERP, "buy", "0.1")
    driver.place(trader, PERP, "sell", "0.1")
    _quote(driver, maker, "60295", "60305")
    events = driver.tick(HOUR_MS)
    assert [sub for sub, _, _ in _funding(events)] == []  # the maker is flat too
    assert _settled(events, trader) == [
        (SettlementSource.REALIZE_PNL, -1_000_000, HOUR_MS),
        (SettlementSource.TRADING_FEES, -6_000_000, HOUR_MS),
    ]
    assert driver.perp(trader, PERP) is None


def test_funding_is_paid_only_in_markets_with_a_rate(driver: Driver) -> None:
    maker, trader = _long(driver)
    eth_maker = driver.maker("ETH_USDC_PERP", "3000", "0.5", "10")
    driver.place(trader, "ETH_USDC_PERP", "buy", "0.1")
    _quote(driver, maker, "60295", "60305")
    events = driver.tick(HOUR_MS)
    assert {(sub, rate) for sub, rate, _ in _funding(events)} == {(trader, 5 * WAD // 1000), (maker, 5 * WAD // 1000)}
    assert _position(driver, trader, "ETH_USDC_PERP").cumulative_funding_atoms == 0
    assert _position(driver, eth_maker, "ETH_USDC_PERP").quantity_atoms == -10_000_000


def test_a_mark_held_by_stale_quotes_follows_the_index_in_the_command_that_requotes() -> None:
    # The index jumped past the book's spread: the stale bid may hold the mark only within the band,
    # and the commands that move the quotes re-mark the perp at once, not at the next settlement.
    driver = Driver().at(HOUR_MS)
    driver.prices(BTC="60000", USDC="1", USDT="1", ETH="3000", SOL="150")
    maker = driver.maker("BTC_USDC_PERP", "60000", "5", "1")
    driver.at(HOUR_MS + 1_000).prices(BTC="58000")
    assert driver.state.perp_marks_wad["BTC_USDC_PERP"] == 58_290 * 10**18
    assert driver.state.settlement_due_ms is None  # no position: nothing to settle
    driver.accept(CancelAllOrders(maker, "BTC_USDC_PERP"))
    assert driver.state.perp_marks_wad["BTC_USDC_PERP"] == 58_000 * 10**18  # an empty book: the index
    driver.place(maker, "BTC_USDC_PERP", "buy", "1", "57995")
    driver.place(maker, "BTC_USDC_PERP", "sell", "1", "58005")
    assert driver.state.perp_marks_wad["BTC_USDC_PERP"] == 58_000 * 10**18
