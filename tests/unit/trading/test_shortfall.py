"""A settlement that leaves USDC short: redeem the lend, auto-borrow, or convert collateral, in that order.

Every scenario here has the same loss: 0.1 BTC perp bought at the maker's ask 60005 and marked at
60000, so the settlement moves -0.5 PnL and -3.00025 taker fee: 3.50025 USDC short.
"""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.core.audit import audit
from crossmargin.core.commands import CancelAllOrders
from crossmargin.core.events import (
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    Conversion,
    EntryFeeCharged,
    Event,
    OrderChanged,
    ShortfallCovered,
    Traded,
    settled_rows,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import OrderStatus, SystemOrderType

PERP = "BTC_USDC_PERP"
SHORT = 3_500_250
START_MS = HOUR_MS + 60_000  # 01:01:00


def _maker(driver: Driver) -> SubaccountId:
    driver.at(START_MS)
    return driver.maker(PERP, "60000", "5", "2")


def _loser(
    driver: Driver, deposits: dict[str, str], *, lend_usdc: str | None = None, **settings: object
) -> SubaccountId:
    trader = driver.account()
    for symbol, quantity in deposits.items():
        driver.deposit(trader, symbol, quantity)
    if lend_usdc is not None:
        driver.lend(trader, "USDC", lend_usdc)
    if settings:
        driver.settings(trader, **settings)
    driver.place(trader, PERP, "buy", "0.1")
    return trader


def _settle(driver: Driver) -> tuple[Event, ...]:
    return driver.tick(START_MS + 10_000)


def _shortfall(events: tuple[Event, ...], sub: SubaccountId) -> ShortfallCovered:
    (found,) = [event for event in events if isinstance(event, ShortfallCovered) and event.subaccount_id == sub]
    return found


def _moves(events: tuple[Event, ...], sub: SubaccountId) -> list[tuple[BorrowLendEventType, BorrowLendSource, int]]:
    return [
        (event.event_type, event.source, event.quantity_atoms)
        for event in events
        if isinstance(event, BorrowLendMoved) and event.subaccount_id == sub
    ]


def test_the_usdc_lend_is_redeemed_first(driver: Driver) -> None:
    _maker(driver)
    trader = _loser(driver, {"USDC": "10", "USDT": "10000"}, lend_usdc="10")
    events = _settle(driver)
    shortfall = _shortfall(events, trader)
    assert (shortfall.short_atoms, shortfall.redeemed_atoms, shortfall.borrowed_atoms) == (SHORT, SHORT, 0)
    assert (shortfall.conversions, shortfall.uncovered_atoms) == ((), 0)
    assert _moves(events, trader) == [(BorrowLendEventType.LEND_REDEEM, BorrowLendSource.RECONCILIATION, SHORT)]
    holding = driver.holding(trader, "USDC")
    assert (holding.spot_atoms, holding.debt_atoms) == (0, 0)
    assert holding.lend_atoms == 10_000_000 - SHORT
    assert driver.state.shortfalls == [shortfall]


def test_what_the_lend_cannot_cover_is_auto_borrowed(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    _maker(driver)
    trader = _loser(driver, {"USDC": "1", "USDT": "10000"}, lend_usdc="1")
    events = _settle(driver)
    shortfall = _shortfall(events, trader)
    assert (shortfall.redeemed_atoms, shortfall.borrowed_atoms, shortfall.uncovered_atoms) == (
        1_000_000,
        SHORT - 1_000_000,
        0,
    )
    assert shortfall.auto_borrow_settlements
    assert _moves(events, trader) == [
        (BorrowLendEventType.LEND_REDEEM, BorrowLendSource.RECONCILIATION, 1_000_000),
        (BorrowLendEventType.BORROW, BorrowLendSource.RECONCILIATION, SHORT - 1_000_000),
    ]
    assert driver.holding(trader, "USDC").spot_atoms == 0
    assert driver.holding(trader, "USDT").spot_atoms == 10_000_000_000  # never sold while a borrow serves


def test_a_settlement_borrow_at_59_50_pays_an_entry_fee_for_10_seconds(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    driver.at(2 * HOUR_MS - 15_000)  # 01:59:45
    driver.maker(PERP, "60000", "5", "2")
    trader = _loser(driver, {"USDT": "10000"})
    events = driver.tick(2 * HOUR_MS + 1)
    (fee,) = [event for event in events if isinstance(event, EntryFeeCharged) and event.subaccount_id == trader]
    assert (fee.at_ms, fee.interval_ms, fee.quantity_atoms) == (2 * HOUR_MS - 10_000, 10_000, 1)
    assert _shortfall(events, trader).borrowed_atoms == SHORT
    # The debt is the borrow, its 1-atom entry fee and then the 02:00 hour's interest.
    assert driver.holding(trader, "USDC").debt_atoms > SHORT + 1


def test_with_auto_borrow_off_stablecoins_are_sold_first(driver: Driver) -> None:
    _maker(driver)
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    driver.maker("BTC_USDC", "60000", "5", "1")
    trader = _loser(driver, {"USDT": "10000", "BTC": "1"}, auto_borrow_settlements=False)
    events = _settle(driver)
    shortfall = _shortfall(events, trader)
    # The least whole steps of USDT at 0.9999 whose proceeds after the 0.04% fee cover 3.50025:
    # 3.51 USDT -> 3.509649 - 0.001404 = 3.508245 (3.50 would net 3.498201).
    assert shortfall.conversions == (Conversion("USDT", 3_510_000, 3_508_245),)
    assert (shortfall.borrowed_atoms, shortfall.uncovered_atoms, shortfall.auto_borrow_settlements) == (0, 0, False)
    assert driver.holding(trader, "USDC").spot_atoms == 3_508_245 - SHORT
    assert driver.holding(trader, "BTC").spot_atoms == 100_000_000
    (conversion,) = [
        event.fill for event in events if isinstance(event, Traded) and event.fill.taker_subaccount_id == trader
    ]
    assert conversion.system_order_type is SystemOrderType.COLLATERAL_CONVERSION
    closed = [
        event.order for event in events if isinstance(event, OrderChanged) and event.order.subaccount_id == trader
    ]
    assert [(order.status, order.system_order_type) for order in closed] == [
        (OrderStatus.FILLED, SystemOrderType.COLLATERAL_CONVERSION)
    ]


def test_when_the_stablecoin_runs_out_the_next_collateral_is_sold(driver: Driver) -> None:
    _maker(driver)
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    driver.maker("BTC_USDC", "60000", "5", "1")
    trader = _loser(driver, {"USDT": "1", "BTC": "1"}, auto_borrow_settlements=False)
    shortfall = _shortfall(_settle(driver), trader)
    # 1 USDT nets 0.9995; the remaining 2.50075 takes 5 steps of BTC at 59995: 2.99975 - 0.003 fee.
    assert shortfall.conversions == (Conversion("USDT", 1_000_000, 999_500), Conversion("BTC", 5_000, 2_996_750))
    assert shortfall.uncovered_atoms == 0
    assert driver.holding(trader, "USDC").spot_atoms == 999_500 + 2_996_750 - SHORT


def test_a_lend_the_pool_cannot_pay_out_leaves_collateral_to_be_sold(driver: Driver) -> None:
    _maker(driver)
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    trader = _loser(driver, {"USDC": "10", "USDT": "10000"}, lend_usdc="10")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "8")
    events = _settle(driver)
    shortfall = _shortfall(events, trader)
    assert (shortfall.redeemed_atoms, shortfall.borrowed_atoms) == (0, 0)
    assert shortfall.conversions == (Conversion("USDT", 3_510_000, 3_508_245),)
    assert driver.holding(trader, "USDC").lend_atoms >= 10_000_000


def _uncovered() -> tuple[Driver, SubaccountId, ShortfallCovered]:
    """A loser holding only ETH, with no ETH_USDC liquidity and auto-borrow of settlements off."""
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    _maker(driver)
    trader = _loser(driver, {"ETH": "10"}, auto_borrow_settlements=False)
    return driver, trader, _shortfall(_settle(driver), trader)


def test_what_nothing_can_cover_stays_a_negative_balance() -> None:
    driver, trader, shortfall = _uncovered()
    # No ETH_USDC liquidity: the conversion is tried and sells nothing.
    assert shortfall.conversions == (Conversion("ETH", 0, 0),)
    assert shortfall.uncovered_atoms == SHORT
    assert driver.holding(trader, "USDC").spot_atoms == -SHORT
    assert driver.holding(trader, "ETH").spot_atoms == 1_000_000_000
    # The negative balance counts as owed in margin.
    (usdc,) = [line for line in driver.margin(trader).assets if line.symbol == "USDC"]
    assert usdc.debt_atoms == SHORT


def test_the_audit_holds_after_an_uncovered_shortfall() -> None:
    driver, _, _ = _uncovered()
    assert [check for check in audit(driver.state) if not check.ok] == []


def test_a_loss_covered_by_the_usdc_balance_needs_no_cover(driver: Driver) -> None:
    _maker(driver)
    trader = _loser(driver, {"USDC": "1000"}, auto_lend=False)
    events = _settle(driver)
    assert not [event for event in events if isinstance(event, ShortfallCovered)]
    assert driver.holding(trader, "USDC").spot_atoms == 1_000_000_000 - SHORT


def test_a_profit_with_auto_lend_on_is_lent(driver: Driver) -> None:
    maker = _maker(driver)
    trader = _loser(driver, {"USDC": "1000"}, auto_lend=True)
    driver.accept(CancelAllOrders(maker, PERP))
    driver.place(maker, PERP, "buy", "1", "60995")
    driver.place(maker, PERP, "sell", "1", "61005")
    driver.prices(BTC="61000")
    events = _settle(driver)
    # 6100 - 6000.5 PnL - 3.00025 fee = 96.49975 USDC, lent at once.
    assert _moves(events, trader) == [(BorrowLendEventType.LEND, BorrowLendSource.AUTO_LEND, 96_499_750)]
    holding = driver.holding(trader, "USDC")
    assert (holding.spot_atoms, holding.lend_atoms) == (0, 1_096_499_750)


def test_a_position_with_nothing_to_settle_is_skipped(driver: Driver) -> None:
    _maker(driver)
    first = _loser(driver, {"USDC": "1000"})
    _settle(driver)
    driver.at(START_MS + 12_000)
    second = _loser(driver, {"USDC": "1000"})
    events = driver.tick(START_MS + 20_000)
    settled = {row.subaccount_id for row in settled_rows(events)}
    assert second in settled
    assert first not in settled


def test_lent_collateral_is_redeemed_and_sold_when_auto_borrow_is_off() -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    _maker(driver)
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    trader = _loser(driver, {"USDT": "10000"}, auto_lend=True, auto_borrow_settlements=False)
    assert driver.holding(trader, "USDT").lend_atoms == 10_000_000_000
    shortfall = _shortfall(_settle(driver), trader)
    assert shortfall.uncovered_atoms == 0


def test_two_shortfalls_in_one_settlement_convert_against_the_book_in_turn(driver: Driver) -> None:
    _maker(driver)
    first = _loser(driver, {"USDT": "10000"}, auto_borrow_settlements=False)
    second = _loser(driver, {"USDT": "10000"}, auto_borrow_settlements=False)
    small, large = driver.account(), driver.account()
    driver.deposit(small, "USDC", "10")
    driver.deposit(large, "USDC", "100000")
    exact = driver.place(small, "USDT_USDC", "buy", "3.51", "0.9999")
    driver.place(large, "USDT_USDC", "buy", "100", "0.9999")
    events = _settle(driver)
    fills = [event.fill for event in events if isinstance(event, Traded)]
    # The first conversion fills the small bid in full; the second skips it and trades with the large one.
    assert [(fill.taker_subaccount_id, fill.maker_subaccount_id) for fill in fills] == [(first, small), (second, large)]
    assert exact.order_id not in driver.state.orders
    for sub in (first, second):
        assert _shortfall(events, sub).conversions == (Conversion("USDT", 3_510_000, 3_508_245),)
