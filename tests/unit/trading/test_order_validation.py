"""Malformed orders, cancels and market listings are refused by name, with a message, and change nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_driver import Driver

from crossmargin.core.commands import CancelAllOrders, CancelOrder, ConfigureMarkets, PlaceOrder
from crossmargin.core.events import MarketsConfigured, OrderChanged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import locked, spot
from crossmargin.core.markets import BookState
from crossmargin.core.orders import OrderFlags, OrderId, OrderSide, OrderStatus, OrderType, TimeInForce
from crossmargin.core.rejections import RejectReason

BTC = "BTC_USDC"
PERP = "BTC_USDC_PERP"


def _trader(driver: Driver) -> SubaccountId:
    sub = driver.account()
    driver.deposit(sub, "USDC", "100000")
    driver.deposit(sub, "BTC", "1")
    return sub


def _with_state(driver: Driver, market: str, state: BookState) -> None:
    driver.accept(ConfigureMarkets((replace(driver.state.markets[market], state=state),)))


def _limit(sub: SubaccountId, **changes: object) -> PlaceOrder:
    order = PlaceOrder(sub, BTC, OrderSide.BID, OrderType.LIMIT, 1_000_000, 60_000 * 10**18)
    return replace(order, **changes)  # type: ignore[arg-type]


def test_an_unknown_market_is_refused_with_the_listed_ones(driver: Driver) -> None:
    sub = _trader(driver)
    rejection = driver.refuse(_limit(sub, market="DOGE_USDC"), RejectReason.MARKET_NOT_FOUND)
    assert rejection.message == (
        "Unknown market 'DOGE_USDC'; listed markets are BTC_USDC, BTC_USDC_PERP, ETH_USDC, ETH_USDC_PERP, "
        "SOL_USDC, SOL_USDC_PERP, USDT_USDC"
    )


def test_an_unknown_subaccount_cannot_place_or_cancel_all(driver: Driver) -> None:
    driver.refuse(_limit(SubaccountId(99)), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(CancelAllOrders(SubaccountId(99), BTC), RejectReason.SUBACCOUNT_NOT_FOUND)


def test_a_price_off_the_tick_is_refused(driver: Driver) -> None:
    sub = _trader(driver)
    rejection = driver.refuse(
        driver.order(sub, BTC, "buy", "0.01", "60000.05"), RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK
    )
    assert rejection.message == "Price must be a multiple of BTC_USDC's tick size 0.1"


def test_a_quantity_off_the_step_is_refused(driver: Driver) -> None:
    sub = _trader(driver)
    rejection = driver.refuse(
        driver.order(sub, BTC, "buy", "0.000015", "60000"), RejectReason.QUANTITY_MUST_BE_MULTIPLE_OF_STEP
    )
    assert rejection.message == "Quantity must be a multiple of BTC_USDC's step size 0.00001"


def test_a_quantity_below_the_minimum_is_refused(driver: Driver) -> None:
    spec = driver.state.markets[BTC]
    driver.accept(ConfigureMarkets((replace(spec, min_quantity_atoms=spec.step_atoms * 10),)))
    sub = _trader(driver)
    rejection = driver.refuse(driver.order(sub, BTC, "buy", "0.00009", "60000"), RejectReason.QUANTITY_BELOW_MINIMUM)
    assert rejection.message == "Quantity is below BTC_USDC's minimum of 0.0001"


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({"price_wad": None}, RejectReason.PRICE_REQUIRED, "A limit order needs a price"),
        ({"price_wad": 0}, RejectReason.PRICE_MUST_BE_POSITIVE, "The price must be greater than zero"),
        ({"quantity_atoms": 0}, RejectReason.QUANTITY_MUST_BE_POSITIVE, "Quantity must be greater than zero"),
        ({"quantity_atoms": -1000}, RejectReason.QUANTITY_MUST_BE_POSITIVE, "Quantity must be greater than zero"),
        (
            {"quote_quantity_atoms": 100},
            RejectReason.QUOTE_QUANTITY_REQUIRES_MARKET_ORDER,
            "quoteQuantity is for market orders only",
        ),
        (
            {"time_in_force": TimeInForce.IOC, "flags": OrderFlags(post_only=True)},
            RejectReason.POST_ONLY_REQUIRES_GTC,
            "A post-only order must be GTC",
        ),
        (
            {"flags": OrderFlags(reduce_only=True)},
            RejectReason.REDUCE_ONLY_REQUIRES_PERP_MARKET,
            "reduceOnly is for perpetual markets",
        ),
    ],
)
def test_a_malformed_limit_order_is_refused(
    driver: Driver, changes: dict[str, object], reason: RejectReason, message: str
) -> None:
    sub = _trader(driver)
    assert driver.refuse(_limit(sub, **changes), reason).message == message


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        (
            {"quantity_atoms": None},
            RejectReason.ORDER_REQUIRES_ONE_QUANTITY,
            "Give either quantity or (market orders) quoteQuantity",
        ),
        (
            {"quote_quantity_atoms": 100},
            RejectReason.ORDER_REQUIRES_ONE_QUANTITY,
            "Give either quantity or (market orders) quoteQuantity",
        ),
        (
            {"quantity_atoms": None, "quote_quantity_atoms": 0},
            RejectReason.QUANTITY_MUST_BE_POSITIVE,
            "quoteQuantity must be greater than zero",
        ),
        (
            {"flags": OrderFlags(post_only=True)},
            RejectReason.POST_ONLY_REQUIRES_LIMIT_ORDER,
            "A market order cannot be post-only",
        ),
    ],
)
def test_a_malformed_market_order_is_refused(
    driver: Driver, changes: dict[str, object], reason: RejectReason, message: str
) -> None:
    sub = _trader(driver)
    command = _limit(sub, order_type=OrderType.MARKET, price_wad=None)
    assert driver.refuse(replace(command, **changes), reason).message == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"flags": OrderFlags(auto_borrow=True)},
        {"flags": OrderFlags(auto_lend=True)},
        {"order_type": OrderType.MARKET, "price_wad": None, "quantity_atoms": None, "quote_quantity_atoms": 10**6},
    ],
)
def test_spot_margin_flags_and_quote_quantity_are_refused_on_perps(driver: Driver, changes: dict[str, object]) -> None:
    sub = _trader(driver)
    rejection = driver.refuse(_limit(sub, market=PERP, **changes), RejectReason.SPOT_OPTIONS_REQUIRE_SPOT_MARKET)
    assert rejection.message == "Spot-margin flags and quoteQuantity are for spot markets"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (BookState.CLOSED, "BTC_USDC is Closed: no new orders"),
        (BookState.CANCEL_ONLY, "BTC_USDC is CancelOnly: no new orders"),
        (BookState.POST_ONLY, "BTC_USDC accepts post-only orders only"),
    ],
)
def test_a_market_not_open_refuses_new_orders(driver: Driver, state: BookState, message: str) -> None:
    sub = _trader(driver)
    _with_state(driver, BTC, state)
    assert driver.refuse(_limit(sub), RejectReason.MARKET_CLOSED).message == message


def test_a_post_only_market_takes_post_only_orders_and_cancel_only_allows_cancels(driver: Driver) -> None:
    sub = _trader(driver)
    _with_state(driver, BTC, BookState.POST_ONLY)
    order = driver.place(sub, BTC, "buy", "0.01", "60000", flags=OrderFlags(post_only=True))
    assert order.status is OrderStatus.NEW
    _with_state(driver, BTC, BookState.CANCEL_ONLY)
    driver.cancel(sub, BTC, order.order_id)
    assert not driver.state.orders


def test_a_spot_order_beyond_the_balance_is_refused_with_what_it_needs(driver: Driver) -> None:
    sub = _trader(driver)
    rejection = driver.refuse(driver.order(sub, BTC, "buy", "2", "60000"), RejectReason.BALANCE_INSUFFICIENT)
    assert rejection.message == ("Order needs 120000 USDC: 120000 USDC exceeds your available balance of 100000 USDC")
    rejection = driver.refuse(driver.order(sub, BTC, "sell", "1.5", "60000"), RejectReason.BALANCE_INSUFFICIENT)
    assert rejection.message == "Order needs 1.5 BTC: 1.5 BTC exceeds your available balance of 1 BTC"


def test_cancel_by_order_id_gives_the_lock_back(driver: Driver) -> None:
    sub = _trader(driver)
    order = driver.place(sub, BTC, "buy", "0.1", "59000")
    events = driver.cancel(sub, BTC, order.order_id)
    (changed,) = [event.order for event in events if isinstance(event, OrderChanged)]
    assert (changed.order_id, changed.status, changed.locked_atoms) == (order.order_id, OrderStatus.CANCELLED, 0)
    assert driver.state.ledger[(locked(sub), "USDC")] == 0
    assert driver.state.ledger[(spot(sub), "USDC")] == driver.atoms("USDC", "100000")
    assert driver.state.books[BTC].bids.best_price() is None
    assert driver.state.closed_orders_of(sub) == [changed]


def test_cancel_by_client_id_skips_other_markets(driver: Driver) -> None:
    sub = _trader(driver)
    driver.deposit(sub, "ETH", "10")
    other_market = driver.place(sub, "ETH_USDC", "sell", "1", "3100", client_id=7)
    order = driver.place(sub, BTC, "sell", "0.1", "61000", client_id=7)
    driver.accept(CancelOrder(sub, BTC, client_id=7))
    assert list(driver.state.orders) == [other_market.order_id]
    assert driver.state.closed_orders_of(sub)[-1].order_id == order.order_id
    assert driver.state.ledger[(spot(sub), "BTC")] == driver.atoms("BTC", "1")


def test_cancel_of_an_unknown_or_foreign_order_is_refused(driver: Driver) -> None:
    sub = _trader(driver)
    other = _trader(driver)
    theirs = driver.place(other, BTC, "buy", "0.1", "59000")
    rejection = driver.refuse(CancelOrder(sub, BTC, theirs.order_id), RejectReason.ORDER_NOT_FOUND)
    assert rejection.message == f"No open BTC_USDC order with id {theirs.order_id}"
    rejection = driver.refuse(CancelOrder(sub, BTC, client_id=5), RejectReason.ORDER_NOT_FOUND)
    assert rejection.message == "No open BTC_USDC order with clientId 5"
    mine = driver.place(sub, BTC, "buy", "0.1", "59000", client_id=4)
    driver.refuse(CancelOrder(sub, BTC, OrderId(12345)), RejectReason.ORDER_NOT_FOUND)
    driver.refuse(CancelOrder(sub, BTC, client_id=5), RejectReason.ORDER_NOT_FOUND)
    assert driver.state.orders[mine.order_id].status is OrderStatus.NEW


def test_cancel_needs_exactly_one_of_order_id_and_client_id(driver: Driver) -> None:
    sub = _trader(driver)
    message = "Give either orderId or clientId"
    assert driver.refuse(CancelOrder(sub, BTC), RejectReason.CANCEL_REQUIRES_ONE_ORDER_ID).message == message
    assert (
        driver.refuse(CancelOrder(sub, BTC, OrderId(1), 1), RejectReason.CANCEL_REQUIRES_ONE_ORDER_ID).message
        == message
    )


def test_cancel_in_an_unknown_market_is_refused(driver: Driver) -> None:
    sub = _trader(driver)
    driver.refuse(CancelOrder(sub, "DOGE_USDC", OrderId(1)), RejectReason.MARKET_NOT_FOUND)
    driver.refuse(CancelAllOrders(sub, "DOGE_USDC"), RejectReason.MARKET_NOT_FOUND)


def test_cancel_all_cancels_only_that_markets_orders(driver: Driver) -> None:
    sub = _trader(driver)
    driver.deposit(sub, "ETH", "10")
    driver.place(sub, BTC, "buy", "0.1", "59000")
    driver.place(sub, BTC, "sell", "0.1", "61000")
    eth = driver.place(sub, "ETH_USDC", "sell", "1", "3100")
    events = driver.accept(CancelAllOrders(sub, BTC))
    cancelled = [event.order.status for event in events if isinstance(event, OrderChanged)]
    assert cancelled == [OrderStatus.CANCELLED, OrderStatus.CANCELLED]
    assert list(driver.state.orders) == [eth.order_id]
    assert driver.state.ledger[(locked(sub), "USDC")] == 0
    assert driver.state.ledger[(locked(sub), "BTC")] == 0
    assert driver.state.ledger[(locked(sub), "ETH")] == driver.atoms("ETH", "1")


def test_a_market_needs_listed_assets_with_their_decimals_and_an_exact_grid(driver: Driver) -> None:
    spec = driver.state.markets[BTC]
    rejection = driver.refuse(ConfigureMarkets((replace(spec, base="DOGE"),)), RejectReason.ASSET_NOT_FOUND)
    assert rejection.message == "BTC_USDC trades 'DOGE', which is not listed"
    rejection = driver.refuse(
        ConfigureMarkets((replace(spec, quote_decimals=8),)), RejectReason.MARKET_DECIMALS_MUST_MATCH_ASSETS
    )
    assert rejection.message == "BTC_USDC must use USDC's 6 decimals, not 8"
    rejection = driver.refuse(ConfigureMarkets((replace(spec, step_atoms=1),)), RejectReason.MARKET_GRID_MUST_BE_EXACT)
    assert rejection.message == "BTC_USDC: one tick times one step must be a whole number of USDC atoms"
    driver.refuse(ConfigureMarkets((replace(spec, tick_size_wad=0),)), RejectReason.MARKET_GRID_MUST_BE_EXACT)


def test_a_new_market_is_listed_with_an_empty_book(driver: Driver) -> None:
    spec = replace(driver.state.markets[BTC], symbol="BTC_USDT", quote="USDT")
    (event,) = driver.accept(ConfigureMarkets((spec,)))
    assert event == MarketsConfigured(("BTC_USDT",))
    assert driver.state.markets["BTC_USDT"] == spec
    assert driver.state.books["BTC_USDT"].bids.best_price() is None
