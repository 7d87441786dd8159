"""Regressions found by the trading state machine (tests/stateful/test_trading_machine.py)."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.core.audit import audit
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource, Event, ShortfallCovered
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import ExpiryReason, OrderStatus, SelfTradePrevention, TimeInForce

PERP = "BTC_USDC_PERP"
START_MS = HOUR_MS + 60_000


def _shortfall(events: tuple[Event, ...], sub: SubaccountId) -> ShortfallCovered:
    (found,) = [event for event in events if isinstance(event, ShortfallCovered) and event.subaccount_id == sub]
    return found


def test_an_auto_lent_collateral_is_redeemed_and_sold_to_cover_a_settlement(driver: Driver) -> None:
    # Found by the machine: a BTC-only trader with autoLend on (all its BTC lent) and
    # autoBorrowSettlements off lost on a perp; the conversion looked at spot balances only, sold
    # nothing and left the USDC balance negative while 0.5 BTC sat in the lend pool.
    driver.at(START_MS)
    driver.lender(USDC="100000")
    driver.maker(PERP, "60000", "5", "2")
    driver.maker("BTC_USDC", "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "BTC", "0.5")
    driver.settings(trader, auto_lend=True, auto_borrow_settlements=False)
    assert driver.holding(trader, "BTC").spot_atoms == 0
    driver.place(trader, PERP, "buy", "0.1")
    events = driver.tick(START_MS + 10_000)
    shortfall = _shortfall(events, trader)
    assert shortfall.borrowed_atoms == 0
    assert [conversion.symbol for conversion in shortfall.conversions] == ["BTC"]
    assert shortfall.uncovered_atoms == 0
    assert driver.holding(trader, "USDC").spot_atoms >= 0
    redeemed = [
        event
        for event in events
        if isinstance(event, BorrowLendMoved)
        and event.subaccount_id == trader
        and event.event_type is BorrowLendEventType.LEND_REDEEM
    ]
    assert [event.symbol for event in redeemed] == ["BTC"]
    # Redeemed to cover a settlement shortfall: recorded as Reconciliation, like the USDC side's moves.
    assert [event.source for event in redeemed] == [BorrowLendSource.RECONCILIATION]


def _throttled_loser(spot_btc: str) -> tuple[Driver, SubaccountId, ShortfallCovered]:
    """A trader lending 0.5 BTC to a throttled pool (utilization past 85%) loses about 2,070 USDC on a perp."""
    driver = Driver().at(START_MS)
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="100000", BTC="1")
    driver.maker(PERP, "60000", "5", "2")
    trader = driver.account()
    driver.deposit(trader, "BTC", "0.5")
    driver.lend(trader, "BTC", "0.5")
    if spot_btc != "0":
        driver.deposit(trader, "BTC", spot_btc)
    driver.settings(trader, auto_borrow_settlements=False)
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "1000000")
    driver.borrow(borrower, "BTC", "1.28")
    driver.place(trader, PERP, "buy", "2")  # takes the whole ask side: the mark follows the index
    driver.at(START_MS + 1_000).prices(BTC="59000")
    driver.maker("BTC_USDC", "59000", "5", "2")
    events = driver.tick(START_MS + 10_000)
    assert driver.holding(trader, "BTC").lend_atoms >= driver.atoms("BTC", "0.5")  # never redeemed
    assert [check for check in audit(driver.state) if not check.ok] == []
    return driver, trader, _shortfall(events, trader)


def test_a_conversion_the_pool_cannot_redeem_for_sells_the_spot_balance_only() -> None:
    driver, trader, shortfall = _throttled_loser("0.01")
    assert [(conversion.symbol, conversion.quantity_atoms) for conversion in shortfall.conversions] == [
        ("BTC", 1_000_000)
    ]
    assert shortfall.uncovered_atoms > 0
    assert driver.holding(trader, "USDC").spot_atoms == -shortfall.uncovered_atoms


def test_a_conversion_with_nothing_redeemable_and_no_spot_sells_nothing() -> None:
    driver, trader, shortfall = _throttled_loser("0")
    assert shortfall.conversions == ()
    assert shortfall.uncovered_atoms == shortfall.short_atoms
    assert driver.holding(trader, "USDC").spot_atoms == -shortfall.short_atoms


def test_a_fill_or_kill_order_never_ends_partly_filled(driver: Driver) -> None:
    maker = driver.account()
    driver.deposit(maker, "BTC", "10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000000")
    driver.deposit(trader, "BTC", "1")
    driver.place(maker, "BTC_USDC", "sell", "1", "60000")
    driver.place(trader, "BTC_USDC", "sell", "1", "60001")  # the trader's own ask, between the maker's
    driver.place(maker, "BTC_USDC", "sell", "1", "60002")
    order = driver.place(trader, "BTC_USDC", "buy", "2", "60010", tif=TimeInForce.FOK)
    assert order.executed_atoms in {0, order.quantity_atoms}, f"FOK ended {order.status} with {order.executed_atoms}"
    # Matching would stop at the trader's own ask after 1 BTC, so the FOK cannot fill whole: it expires untouched.
    assert order.status is OrderStatus.EXPIRED
    assert order.expiry_reason is ExpiryReason.FILL_OR_KILL
    assert order.executed_atoms == 0


def test_a_fill_or_kill_order_rejecting_makers_walks_past_its_own_orders(driver: Driver) -> None:
    maker = driver.account()
    driver.deposit(maker, "BTC", "10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000000")
    driver.deposit(trader, "BTC", "1")
    driver.place(maker, "BTC_USDC", "sell", "1", "60000")
    own = driver.place(trader, "BTC_USDC", "sell", "1", "60001")
    driver.place(maker, "BTC_USDC", "sell", "1", "60002")
    order = driver.place(
        trader, "BTC_USDC", "buy", "2", "60010", tif=TimeInForce.FOK, stp=SelfTradePrevention.REJECT_MAKER
    )
    assert order.status is OrderStatus.FILLED
    assert order.executed_quote_atoms == driver.atoms("USDC", "120002")
    assert own.order_id not in driver.state.orders
    (expired,) = [o for kept in driver.state.closed_orders.values() for o in kept if o.order_id == own.order_id]
    assert expired.expiry_reason is ExpiryReason.SELF_TRADE_PREVENTION
