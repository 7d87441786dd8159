"""Matching on spot books: price-time priority, fills at the maker's price, fees, time in force."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.events import Event, OrderChanged, Traded
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import TRADING_FEES, locked, spot
from crossmargin.core.orders import (
    ExpiryReason,
    OrderFlags,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
)
from crossmargin.core.rejections import RejectReason

BTC = "BTC_USDC"


def _funded(driver: Driver, **quantities: str) -> SubaccountId:
    sub = driver.account()
    for symbol, quantity in quantities.items():
        driver.deposit(sub, symbol, quantity)
    return sub


def _fills(events: tuple[Event, ...]) -> list[Fill]:
    return [event.fill for event in events if isinstance(event, Traded)]


def _spot(driver: Driver, sub: SubaccountId, symbol: str) -> str:
    return driver.text(symbol, driver.state.ledger.get((spot(sub), symbol), 0))


def _locked(driver: Driver, sub: SubaccountId, symbol: str) -> str:
    return driver.text(symbol, driver.state.ledger.get((locked(sub), symbol), 0))


def assert_locks_match_orders(driver: Driver) -> None:
    """Each subaccount's locked ledger balance equals what its open orders lock."""
    expected: dict[tuple[int, str], int] = {}
    for order in driver.state.orders.values():
        spec = driver.state.markets[order.market]
        asset = spec.quote if order.side.value == "Bid" else spec.base
        key = (order.subaccount_id, asset)
        expected[key] = expected.get(key, 0) + order.locked_atoms
    actual = {
        (account.owner, symbol): balance
        for (account, symbol), balance in driver.state.ledger.items()
        if account.kind.value == "orders" and balance
    }
    assert actual == {key: value for key, value in expected.items() if value}


def test_two_makers_at_one_price_fill_oldest_first(driver: Driver) -> None:
    first = _funded(driver, BTC="1")
    second = _funded(driver, BTC="1")
    older = driver.place(first, BTC, "sell", "0.1", "60000")
    newer = driver.place(second, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="100000")
    events = driver.accept(driver.order(taker, BTC, "buy", "0.15", "60000"))
    assert [(fill.maker_order_id, driver.text("BTC", fill.quantity_atoms)) for fill in _fills(events)] == [
        (older.order_id, "0.1"),
        (newer.order_id, "0.05"),
    ]
    assert older.order_id not in driver.state.orders
    rest = driver.state.orders[newer.order_id]
    assert rest.status is OrderStatus.PARTIALLY_FILLED
    assert driver.text("BTC", rest.executed_atoms) == "0.05"
    assert driver.text("BTC", rest.locked_atoms) == "0.05"
    assert_locks_match_orders(driver)


def test_a_better_price_fills_first_and_each_fill_is_at_the_makers_price(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60010")
    cheap = driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="100000")
    events = driver.accept(driver.order(taker, BTC, "buy", "0.15", "60020"))
    fills = _fills(events)
    assert fills[0].maker_order_id == cheap.order_id
    assert [driver.text("USDC", fill.quote_atoms) for fill in fills] == ["6000", "3000.5"]
    assert [fill.trade_id for fill in fills] == [1, 2]


def test_spot_fees_are_paid_in_the_received_asset(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="10000")
    (fill,) = _fills(driver.accept(driver.order(taker, BTC, "buy", "0.1", "60000")))
    # The taker receives 0.1 BTC and pays 0.1% of it; the maker receives 6000 USDC and pays 0.08%.
    assert (fill.taker_fee_symbol, driver.text("BTC", fill.taker_fee_atoms)) == ("BTC", "0.0001")
    assert (fill.maker_fee_symbol, driver.text("USDC", fill.maker_fee_atoms)) == ("USDC", "4.8")
    assert _spot(driver, taker, "BTC") == "0.0999"
    assert _spot(driver, taker, "USDC") == "4000"
    assert _spot(driver, maker, "USDC") == "5995.2"
    assert _spot(driver, maker, "BTC") == "0.9"
    assert driver.state.ledger[(TRADING_FEES, "BTC")] == driver.atoms("BTC", "0.0001")
    assert driver.state.ledger[(TRADING_FEES, "USDC")] == driver.atoms("USDC", "4.8")


def test_spot_fees_round_up_to_the_next_atom(driver: Driver) -> None:
    maker = _funded(driver, USDC="10")
    driver.place(maker, BTC, "buy", "0.00001", "60000.1")
    taker = _funded(driver, BTC="1")
    (fill,) = _fills(driver.accept(driver.order(taker, BTC, "sell", "0.00001", "60000.1")))
    # 0.600001 USDC x 0.1% = 0.000600001: the taker pays 601 atoms, not 600.
    assert fill.quote_atoms == 600_001
    assert fill.taker_fee_atoms == 601
    assert fill.taker_fee_symbol == "USDC"
    assert _spot(driver, taker, "USDC") == "0.5994"
    assert (fill.maker_fee_symbol, fill.maker_fee_atoms) == ("BTC", 1)


def test_a_bid_filled_below_its_limit_gets_the_excess_lock_back(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "59000")
    taker = _funded(driver, USDC="7000")
    order = driver.place(taker, BTC, "buy", "0.1", "60000")
    assert order.status is OrderStatus.FILLED
    assert order.locked_atoms == 0
    assert _locked(driver, taker, "USDC") == "0"
    assert _spot(driver, taker, "USDC") == "1100"
    assert_locks_match_orders(driver)


def test_a_partly_filled_limit_bid_rests_with_only_what_the_rest_needs_locked(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "59000")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", "0.3", "60000")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    # Locked 18000 at the limit; the fill spent 5900 at the maker's price. The 100 saved goes back
    # to the balance at once: 0.2 left at 60000 needs 12000.
    assert driver.text("USDC", order.locked_atoms) == "12000"
    assert _locked(driver, taker, "USDC") == "12000"
    assert _spot(driver, taker, "USDC") == "2100"
    assert order.order_id in driver.state.orders
    assert driver.state.books[BTC].bids.best_price() == driver.state.orders[order.order_id].price_wad
    assert_locks_match_orders(driver)


def test_a_market_bid_by_quantity_walks_the_book(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    driver.place(maker, BTC, "sell", "0.1", "61000")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", "0.15")
    assert order.status is OrderStatus.FILLED
    assert driver.text("USDC", order.executed_quote_atoms) == "9050"
    assert _spot(driver, taker, "USDC") == "10950"
    assert _locked(driver, taker, "USDC") == "0"


def test_a_market_bid_by_quote_quantity_buys_whole_steps_within_it(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    driver.place(maker, BTC, "sell", "0.1", "61000")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", None, quote_quantity="9000.005")
    # 6000 buys 0.1 at 60000; 3000.005 buys 0.04918 at 61000 (0.04919 would cost 3000.59).
    assert driver.text("BTC", order.executed_atoms) == "0.14918"
    assert driver.text("USDC", order.executed_quote_atoms) == "8999.98"
    assert order.status is OrderStatus.FILLED
    assert _spot(driver, taker, "USDC") == "11000.02"
    assert _locked(driver, taker, "USDC") == "0"


def test_a_market_ask_by_quantity_and_by_quote_quantity(driver: Driver) -> None:
    maker = _funded(driver, USDC="100000")
    driver.place(maker, BTC, "buy", "0.1", "60000")
    driver.place(maker, BTC, "buy", "0.1", "59000")
    seller = _funded(driver, BTC="1")
    sold = driver.place(seller, BTC, "sell", "0.15")
    assert driver.text("USDC", sold.executed_quote_atoms) == "8950"
    by_quote = driver.place(seller, BTC, "sell", None, quote_quantity="590")
    assert driver.text("BTC", by_quote.executed_atoms) == "0.01"
    assert by_quote.status is OrderStatus.FILLED
    assert _spot(driver, seller, "BTC") == "0.84"
    assert _locked(driver, seller, "BTC") == "0"


def test_a_market_order_with_no_liquidity_expires_unfilled(driver: Driver) -> None:
    taker = _funded(driver, BTC="1")
    order = driver.place(taker, BTC, "sell", "0.1")
    assert order.status is OrderStatus.EXPIRED
    assert order.expiry_reason is ExpiryReason.IMMEDIATE_OR_CANCEL
    assert _spot(driver, taker, "BTC") == "1"


def test_a_quote_quantity_order_with_no_liquidity_is_refused(driver: Driver) -> None:
    taker = _funded(driver, USDC="1000")
    rejection = driver.refuse(driver.order(taker, BTC, "buy", None, quote_quantity="100"), RejectReason.NO_LIQUIDITY)
    assert rejection.message == (
        "quoteQuantity buys less than one BTC_USDC step (0.00001 BTC) at the prices on the book now, or the book is empty"
    )


def test_a_market_bid_with_an_empty_book_locks_nothing_and_expires(driver: Driver) -> None:
    taker = _funded(driver, USDC="1000")
    order = driver.place(taker, BTC, "buy", "0.1")
    assert (order.status, order.executed_atoms) == (OrderStatus.EXPIRED, 0)
    assert _spot(driver, taker, "USDC") == "1000"


def test_an_ioc_remainder_expires(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", "0.3", "60000", tif=TimeInForce.IOC)
    assert (order.status, order.expiry_reason) == (OrderStatus.EXPIRED, ExpiryReason.IMMEDIATE_OR_CANCEL)
    assert driver.text("BTC", order.executed_atoms) == "0.1"
    assert order.order_id not in driver.state.orders
    assert _spot(driver, taker, "USDC") == "14000"
    assert _locked(driver, taker, "USDC") == "0"


def test_an_unfillable_fok_expires_without_a_fill(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="20000")
    events = driver.accept(driver.order(taker, BTC, "buy", "0.2", "60000", tif=TimeInForce.FOK))
    assert not _fills(events)
    (changed,) = [event.order for event in events if isinstance(event, OrderChanged)]
    assert (changed.status, changed.expiry_reason) == (OrderStatus.EXPIRED, ExpiryReason.FILL_OR_KILL)
    assert _spot(driver, taker, "USDC") == "20000"
    assert driver.state.closed_orders_of(taker)[-1] == changed


def test_a_fillable_fok_fills_in_full(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    driver.place(maker, BTC, "sell", "0.1", "60100")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", "0.2", "60100", tif=TimeInForce.FOK)
    assert order.status is OrderStatus.FILLED
    assert driver.text("USDC", order.executed_quote_atoms) == "12010"


def test_a_crossing_post_only_order_is_refused(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="20000")
    rejection = driver.refuse(
        driver.order(taker, BTC, "buy", "0.1", "60000", flags=OrderFlags(post_only=True)),
        RejectReason.POST_ONLY_WOULD_TAKE,
    )
    assert rejection.message == "Post-only order would trade at once against BTC_USDC at 60000"


def test_a_post_only_order_that_does_not_cross_rests(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="20000")
    order = driver.place(taker, BTC, "buy", "0.1", "59999.9", flags=OrderFlags(post_only=True))
    assert order.status is OrderStatus.NEW
    assert driver.text("USDC", order.locked_atoms) == "5999.99"


def test_a_gtc_limit_rests_and_locks_its_cost(driver: Driver) -> None:
    buyer = _funded(driver, USDC="10000")
    order = driver.place(buyer, BTC, "buy", "0.1", "59000")
    assert (order.status, order.executed_atoms) == (OrderStatus.NEW, 0)
    assert _locked(driver, buyer, "USDC") == "5900"
    assert _spot(driver, buyer, "USDC") == "4100"
    assert driver.state.books[BTC].bids.best_price() == order.price_wad
    assert driver.holding(buyer, "USDC").locked_atoms == driver.atoms("USDC", "5900")
    assert_locks_match_orders(driver)


def test_self_trade_reject_taker_expires_the_taker_and_keeps_the_maker(driver: Driver) -> None:
    sub = _funded(driver, BTC="1", USDC="10000")
    resting = driver.place(sub, BTC, "sell", "0.1", "60000")
    order = driver.place(sub, BTC, "buy", "0.1", "60000")
    assert (order.status, order.expiry_reason) == (OrderStatus.EXPIRED, ExpiryReason.SELF_TRADE_PREVENTION)
    assert driver.state.orders[resting.order_id].status is OrderStatus.NEW
    assert _spot(driver, sub, "USDC") == "10000"
    assert not driver.state.fills
    assert_locks_match_orders(driver)


def test_self_trade_reject_maker_expires_the_maker_and_trades_on(driver: Driver) -> None:
    sub = _funded(driver, BTC="1", USDC="10000")
    other = _funded(driver, BTC="1")
    mine = driver.place(sub, BTC, "sell", "0.1", "60000")
    theirs = driver.place(other, BTC, "sell", "0.1", "60000")
    events = driver.accept(
        driver.order(sub, BTC, "buy", "0.1", "60000", stp=SelfTradePrevention.REJECT_MAKER),
    )
    expired = [
        event.order for event in events if isinstance(event, OrderChanged) and event.order.order_id == mine.order_id
    ]
    assert [(order.status, order.expiry_reason) for order in expired] == [
        (OrderStatus.EXPIRED, ExpiryReason.SELF_TRADE_PREVENTION)
    ]
    (fill,) = _fills(events)
    assert fill.maker_order_id == theirs.order_id
    assert _spot(driver, sub, "BTC") == "1.0999"  # 1 (the expired ask unlocked) + 0.1 bought - 0.0001 fee
    assert not driver.state.orders
    assert_locks_match_orders(driver)


def test_self_trade_reject_both_expires_both(driver: Driver) -> None:
    sub = _funded(driver, BTC="1", USDC="10000")
    mine = driver.place(sub, BTC, "sell", "0.1", "60000")
    order = driver.place(sub, BTC, "buy", "0.1", "60000", stp=SelfTradePrevention.REJECT_BOTH)
    assert order.status is OrderStatus.EXPIRED
    assert mine.order_id not in driver.state.orders
    assert [closed.order_id for closed in driver.state.closed_orders_of(sub)] == [mine.order_id, order.order_id]
    assert _spot(driver, sub, "BTC") == "1"
    assert _spot(driver, sub, "USDC") == "10000"


def test_a_fok_does_not_count_its_own_subaccounts_orders_as_liquidity(driver: Driver) -> None:
    other = _funded(driver, BTC="1")
    sub = _funded(driver, BTC="1", USDC="20000")
    driver.place(other, BTC, "sell", "0.1", "60000")
    driver.place(sub, BTC, "sell", "0.1", "60000")
    order = driver.place(sub, BTC, "buy", "0.2", "60000", tif=TimeInForce.FOK)
    assert (order.status, order.expiry_reason, order.executed_atoms) == (
        OrderStatus.EXPIRED,
        ExpiryReason.FILL_OR_KILL,
        0,
    )
    assert not driver.state.fills


def test_a_quote_quantity_sized_past_the_subaccounts_own_order(driver: Driver) -> None:
    other = _funded(driver, BTC="1")
    sub = _funded(driver, BTC="1", USDC="20000")
    driver.place(other, BTC, "sell", "0.1", "60000")
    driver.place(sub, BTC, "sell", "0.1", "60000")
    driver.place(other, BTC, "sell", "0.1", "60100")
    order = driver.place(sub, BTC, "buy", None, quote_quantity="7000", stp=SelfTradePrevention.REJECT_MAKER)
    # Sized without its own 0.1 at 60000: 6000 buys 0.1 there, 1000 buys 0.01663 at 60100.
    assert driver.text("BTC", order.quantity_atoms) == "0.11663"
    assert order.status is OrderStatus.FILLED
    assert driver.text("USDC", order.executed_quote_atoms) == "6999.463"


def test_a_quote_quantity_too_small_for_one_step_is_refused(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    taker = _funded(driver, USDC="1000")
    # One step (0.00001 BTC) costs 0.6 USDC.
    driver.refuse(driver.order(taker, BTC, "buy", None, quote_quantity="0.5"), RejectReason.NO_LIQUIDITY)


def test_a_quote_quantity_stops_at_the_first_level_it_cannot_afford(driver: Driver) -> None:
    maker = _funded(driver, BTC="1")
    driver.place(maker, BTC, "sell", "0.00001", "60000")
    driver.place(maker, BTC, "sell", "0.1", "70000")
    taker = _funded(driver, USDC="1000")
    order = driver.place(taker, BTC, "buy", None, quote_quantity="1")
    assert (driver.text("BTC", order.executed_atoms), order.status) == ("0.00001", OrderStatus.FILLED)
    assert _spot(driver, taker, "USDC") == "999.4"


def test_selling_the_whole_balance_drops_the_asset_from_the_held_index(driver: Driver) -> None:
    maker = _funded(driver, USDC="100000")
    driver.place(maker, BTC, "buy", "1", "60000")
    seller = _funded(driver, BTC="0.5")
    assert "BTC" in driver.state.held[seller]
    driver.place(seller, BTC, "sell", "0.5", "60000")
    assert "BTC" not in driver.state.held[seller]
    assert "USDC" in driver.state.held[seller]
