"""Issue 15's venue behaviours: price bands, auto-lend turned off, an autoBorrow order's loan on close."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from engine_driver import Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.commands import BorrowLendSide, CancelAllOrders, ConfigureMarkets, UpdateSettings
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource, Event
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import NO_BANDS, PriceBands
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import ExpiryReason, OrderFlags, OrderStatus, TimeInForce
from crossmargin.core.price_bands import band_limits
from crossmargin.core.rejections import RejectReason

BTC = "BTC_USDC"
PERP = "BTC_USDC_PERP"


def _priced(driver: Driver) -> SubaccountId:
    driver.prices(BTC="60000", USDC="1")
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    driver.deposit(trader, "BTC", "1")
    return trader


# Price bands --------------------------------------------------------------------------------


def test_a_bid_at_1_for_btc_is_refused_as_too_far_from_the_last_active_price(driver: Driver) -> None:
    trader = _priced(driver)
    rejection = driver.refuse(driver.order(trader, BTC, "buy", "0.001", "1"), RejectReason.PRICE_OUTSIDE_BAND)
    assert rejection.message == (
        "Price is too far from the last active price: BTC_USDC takes limit prices from 45000 to 75000 now "
        "(0.75 to 1.25 times the last active price 60000)"
    )
    assert driver.holding(trader, "USDC").locked_atoms == 0


@pytest.mark.parametrize(
    ("side", "price", "accepted"),
    [
        ("buy", "45000", True),
        ("buy", "44999.9", False),
        ("sell", "75000", True),
        ("sell", "75000.1", False),
        ("buy", "75000.1", False),
        ("sell", "44999.9", False),
    ],
)
def test_the_band_bounds_both_sides_both_ways_with_its_edges_inside(
    driver: Driver, side: str, price: str, accepted: bool
) -> None:
    trader = _priced(driver)
    command = driver.order(trader, BTC, side, "0.001", price)
    if accepted:
        driver.accept(command)
    else:
        driver.refuse(command, RejectReason.PRICE_OUTSIDE_BAND)


def test_a_perp_limit_is_bounded_by_its_mark_band(driver: Driver) -> None:
    driver.prices(BTC="60000", USDC="1")
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    rejection = driver.refuse(
        driver.order(trader, PERP, "sell", "0.001", "70000"), RejectReason.PRICE_OUTSIDE_MARK_BAND
    )
    assert rejection.message == (
        "Price is too far from the mark price: BTC_USDC_PERP takes limit prices from 54000 to 66000 now "
        "(0.9 to 1.1 times the mark price 60000)"
    )
    driver.accept(driver.order(trader, PERP, "sell", "0.001", "66000"))


def test_a_market_without_prices_or_bands_bounds_nothing(driver: Driver) -> None:
    unpriced = Driver()
    early = unpriced.account()
    unpriced.deposit(early, "USDC", "100")
    unpriced.accept(unpriced.order(early, BTC, "buy", "0.001", "1"))  # no index yet: nothing to bound by
    trader = driver.account()
    driver.deposit(trader, "USDC", "100")
    spec = driver.state.markets[BTC]
    driver.accept(ConfigureMarkets((replace(spec, bands=NO_BANDS),)))
    driver.prices(BTC="60000", USDC="1")
    driver.accept(driver.order(trader, BTC, "buy", "0.001", "1"))
    driver.accept(driver.order(trader, BTC, "buy", "0.001"))  # a market order carries no price to band


def test_an_upper_band_alone_leaves_low_prices_free() -> None:
    assert band_limits(60_000, Ratio(0), Ratio(0)) == (0, None)
    assert band_limits(60_000, Ratio(0), PriceBands().max_multiplier) == (0, None)


# Auto-lend turned off -----------------------------------------------------------------------


def _redeems(events: tuple[Event, ...], sub: SubaccountId) -> list[tuple[str, str, int]]:
    return [
        (event.symbol, event.source, event.quantity_atoms)
        for event in events
        if isinstance(event, BorrowLendMoved)
        and event.subaccount_id == sub
        and event.event_type is BorrowLendEventType.LEND_REDEEM
    ]


def test_turning_auto_lend_off_redeems_every_lend_with_its_interest(driver: Driver) -> None:
    driver.lender(USDC="100000")
    saver = driver.account()
    driver.deposit(saver, "USDC", "1000")
    driver.deposit(saver, "BTC", "1")
    driver.settings(saver, auto_lend=True)
    assert driver.holding(saver, "USDC").spot_atoms == 0
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "500")
    driver.tick(3 * 3_600_000)
    claim = driver.holding(saver, "USDC").lend_atoms
    assert claim > driver.atoms("USDC", "1000")  # interest earned
    events = driver.settings(saver, auto_lend=False)
    assert _redeems(events, saver) == [
        ("BTC", BorrowLendSource.AUTO_LEND, driver.atoms("BTC", "1")),
        ("USDC", BorrowLendSource.AUTO_LEND, claim),
    ]
    usdc = driver.holding(saver, "USDC")
    assert (usdc.spot_atoms, usdc.lend_atoms) == (claim, 0)
    assert driver.state.positions.get((saver, "USDC")) is None or driver.state.positions[(saver, "USDC")].is_empty
    driver.accept(driver.withdraw(saver, "USDC", "1000"))


def test_auto_lend_off_is_refused_when_the_pool_cannot_pay(driver: Driver) -> None:
    driver.prices(BTC="60000", USDC="1")
    saver = driver.account()
    driver.deposit(saver, "USDC", "1000")
    driver.settings(saver, auto_lend=True)
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "10")
    driver.borrow(borrower, "USDC", "600")
    rejection = driver.refuse(UpdateSettings(saver, auto_lend=False), RejectReason.AUTO_LEND_OFF_NEEDS_REDEEM)
    assert rejection.message.startswith("Turning auto-lend off redeems what you lend, but ")
    assert "POST /api/v1/borrowLend, side Redeem" in rejection.message
    assert driver.state.subaccounts[saver].auto_lend
    assert driver.holding(saver, "USDC").spot_atoms == 0


def test_turning_auto_lend_off_when_it_was_off_redeems_nothing(driver: Driver) -> None:
    saver = driver.account()
    driver.deposit(saver, "USDC", "1000")
    driver.lend(saver, "USDC", "1000")
    events = driver.settings(saver, auto_lend=False)
    assert _redeems(events, saver) == []
    assert driver.holding(saver, "USDC").lend_atoms == driver.atoms("USDC", "1000")


# An autoBorrow order's loan when it closes --------------------------------------------------


def _borrowing_buyer(driver: Driver) -> SubaccountId:
    driver.lender(USDC="1000000", BTC="100")
    buyer = driver.account()
    driver.deposit(buyer, "BTC", "1")
    driver.deposit(buyer, "USDC", "1000")
    return buyer


def test_cancelling_an_auto_borrow_order_with_auto_borrow_repay_repays_its_loan(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    flags = OrderFlags(auto_borrow=True, auto_borrow_repay=True)
    order = driver.place(buyer, BTC, "buy", "0.1", "60000", flags=flags)
    assert order.borrowed_atoms == driver.holding(buyer, "USDC").debt_atoms > driver.atoms("USDC", "5000")
    events = driver.cancel(buyer, BTC, order.order_id)
    repaid = [
        (event.source, event.quantity_atoms)
        for event in events
        if isinstance(event, BorrowLendMoved) and event.event_type is BorrowLendEventType.BORROW_REPAY
    ]
    assert repaid == [(BorrowLendSource.SPOT_MARGIN, order.borrowed_atoms)]
    usdc = driver.holding(buyer, "USDC")
    # The whole loan is repaid, its entry fee with it: 6000 given back, 5000 and the fee repaid.
    entry_fee = order.borrowed_atoms - driver.atoms("USDC", "5000")
    assert (usdc.debt_atoms, usdc.spot_atoms, usdc.locked_atoms) == (0, driver.atoms("USDC", "1000") - entry_fee, 0)


def test_without_auto_borrow_repay_the_loan_stays_as_asked(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    order = driver.place(buyer, BTC, "buy", "0.1", "60000", flags=OrderFlags(auto_borrow=True))
    driver.cancel(buyer, BTC, order.order_id)
    assert driver.holding(buyer, "USDC").debt_atoms == order.borrowed_atoms


def test_cancel_all_and_an_ioc_remainder_repay_what_went_unused(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    flags = OrderFlags(auto_borrow=True, auto_borrow_repay=True)
    driver.place(buyer, BTC, "buy", "0.1", "60000", flags=flags)
    driver.accept(CancelAllOrders(buyer, BTC))
    assert driver.holding(buyer, "USDC").debt_atoms == 0
    maker = driver.account()
    driver.deposit(maker, "BTC", "1")
    driver.place(maker, BTC, "sell", "0.05", "60000")
    before = driver.holding(buyer, "USDC")
    order = driver.place(buyer, BTC, "buy", "0.1", "60000", flags=flags, tif=TimeInForce.IOC)
    assert (order.status, order.executed_atoms) == (OrderStatus.EXPIRED, driver.atoms("BTC", "0.05"))
    # 6000 locked: what was there, the rest borrowed; 3000 spent, 3000 given back and repaid.
    usdc = driver.holding(buyer, "USDC")
    assert before.spot_atoms + order.borrowed_atoms > driver.atoms("USDC", "6000")
    assert (usdc.debt_atoms, usdc.spot_atoms) == (order.borrowed_atoms - driver.atoms("USDC", "3000"), 0)


def test_an_order_funded_without_borrowing_repays_nothing_on_cancel(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    driver.borrow(buyer, "USDC", "100")
    flags = OrderFlags(auto_borrow=True, auto_borrow_repay=True)
    order = driver.place(buyer, BTC, "buy", "0.01", "60000", flags=flags)
    assert order.borrowed_atoms == 0
    driver.cancel(buyer, BTC, order.order_id)
    assert driver.holding(buyer, "USDC").debt_atoms >= driver.atoms("USDC", "100")


def test_a_loan_already_repaid_is_not_repaid_again_on_cancel(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    flags = OrderFlags(auto_borrow=True, auto_borrow_repay=True)
    order = driver.place(buyer, BTC, "buy", "0.1", "60000", flags=flags)
    driver.deposit(buyer, "USDC", "6000")
    driver.accept(replace(driver.borrow_lend(buyer, "USDC", BorrowLendSide.LEND, "5001"), whole_position=True))
    assert driver.holding(buyer, "USDC").debt_atoms == 0
    driver.cancel(buyer, BTC, order.order_id)
    usdc = driver.holding(buyer, "USDC")
    assert (usdc.debt_atoms, usdc.spot_atoms) == (0, driver.atoms("USDC", "12000") - order.borrowed_atoms)


def test_a_lower_band_alone_names_no_upper_limit(driver: Driver) -> None:
    trader = _priced(driver)
    spec = driver.state.markets[BTC]
    driver.accept(ConfigureMarkets((replace(spec, bands=PriceBands(min_multiplier=Ratio.parse("0.5"))),)))
    rejection = driver.refuse(driver.order(trader, BTC, "buy", "0.001", "29999.9"), RejectReason.PRICE_OUTSIDE_BAND)
    assert rejection.message == (
        "Price is too far from the last active price: BTC_USDC takes limit prices from 30000 to no limit now "
        "(0.5 to any times the last active price 60000)"
    )
    driver.accept(driver.order(trader, BTC, "sell", "0.001", "1000000"))


def test_auto_lend_off_leaves_a_locked_asset_as_it_is(driver: Driver) -> None:
    saver = driver.account()
    driver.deposit(saver, "BTC", "1")
    driver.deposit(saver, "USDC", "100")
    driver.settings(saver, auto_lend=True)
    driver.place(saver, BTC, "sell", "1", "70000")  # redeems and locks all the BTC
    events = driver.settings(saver, auto_lend=False)
    assert [symbol for symbol, _, _ in _redeems(events, saver)] == ["USDC"]
    assert driver.holding(saver, "BTC").locked_atoms == driver.atoms("BTC", "1")


def test_old_snapshots_without_bands_or_borrowed_read_the_defaults(driver: Driver) -> None:
    buyer = _borrowing_buyer(driver)
    driver.place(buyer, BTC, "buy", "0.001", "59000")
    text = encode_state(driver.state)
    assert decode_state(text) == driver.state
    data = json.loads(text)
    for market in data["state"]["markets"].values():
        del market["bands"]
    for _, order in data["state"]["orders"]:
        del order["borrowed_atoms"]
    decoded = decode_state(json.dumps(data))
    assert decoded.markets[BTC].bands == NO_BANDS
    assert all(order.borrowed_atoms == 0 for order in decoded.orders.values())


# Impact bands: how far a market order walks ---------------------------------------------------


def _ladder(driver: Driver, side: str, prices: tuple[str, str]) -> SubaccountId:
    maker = driver.account()
    driver.deposit(maker, "BTC", "10")
    driver.deposit(maker, "USDC", "1000000")
    for price in prices:
        driver.place(maker, BTC, side, "0.1", price)
    return maker


def test_a_market_buy_stops_at_the_impact_band_and_the_rest_expires_price_impact(driver: Driver) -> None:
    trader = _priced(driver)
    _ladder(driver, "sell", ("60000", "61900"))  # 61900 > 60000 x 1.03 = 61800
    order = driver.place(trader, BTC, "buy", "0.2")
    assert (order.quantity_atoms, order.executed_atoms) == (driver.atoms("BTC", "0.2"), driver.atoms("BTC", "0.1"))
    assert (order.status, order.expiry_reason) == (OrderStatus.EXPIRED, ExpiryReason.PRICE_IMPACT)
    assert driver.holding(trader, "USDC").locked_atoms == 0


def test_a_market_sell_stops_at_the_impact_band(driver: Driver) -> None:
    trader = _priced(driver)
    _ladder(driver, "buy", ("60000", "58100"))  # 58100 < 60000 x 0.97 = 58200
    order = driver.place(trader, BTC, "sell", "0.2")
    assert (order.executed_atoms, order.expiry_reason) == (driver.atoms("BTC", "0.1"), ExpiryReason.PRICE_IMPACT)


def test_a_fill_or_kill_market_order_the_band_would_cut_expires_whole(driver: Driver) -> None:
    trader = _priced(driver)
    _ladder(driver, "sell", ("60000", "61900"))
    order = driver.place(trader, BTC, "buy", "0.2", tif=TimeInForce.FOK)
    assert (order.executed_atoms, order.status, order.expiry_reason) == (
        0,
        OrderStatus.EXPIRED,
        ExpiryReason.FILL_OR_KILL,
    )


def test_within_the_band_a_thin_book_expires_as_before(driver: Driver) -> None:
    trader = _priced(driver)
    _ladder(driver, "sell", ("60000", "61800"))  # the band's edge: inside
    order = driver.place(trader, BTC, "buy", "0.5")
    assert (order.executed_atoms, order.expiry_reason) == (driver.atoms("BTC", "0.2"), ExpiryReason.IMMEDIATE_OR_CANCEL)


def test_without_an_impact_band_a_market_order_walks_the_whole_book(driver: Driver) -> None:
    trader = _priced(driver)
    spec = driver.state.markets[BTC]
    driver.accept(ConfigureMarkets((replace(spec, bands=replace(spec.bands, max_impact_multiplier=Ratio(0))),)))
    _ladder(driver, "sell", ("60000", "70000"))
    order = driver.place(trader, BTC, "buy", "0.2")
    assert (order.executed_atoms, order.status) == (driver.atoms("BTC", "0.2"), OrderStatus.FILLED)
