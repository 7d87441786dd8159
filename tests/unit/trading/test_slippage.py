"""A market order's `slippageTolerance`: how far past the best price at entry it may fill (`price_impact.py`)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_driver import Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.commands import ConfigureMarkets, SetMarkPrices
from crossmargin.core.events import OrderChanged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import (
    ExpiryReason,
    OrderFlags,
    OrderStatus,
    Slippage,
    SlippageToleranceType,
    TimeInForce,
    TriggerBy,
)
from crossmargin.core.rejections import RejectReason

BTC = "BTC_USDC"
PERP = "BTC_USDC_PERP"
TICKS = SlippageToleranceType.TICK_SIZE
PERCENT = SlippageToleranceType.PERCENT


def _tolerance(amount: str, kind: SlippageToleranceType) -> OrderFlags:
    return OrderFlags(slippage=Slippage(parse_decimal(amount, 18), kind))


def _book(driver: Driver, side: str, prices: tuple[str, ...]) -> SubaccountId:
    driver.prices(BTC="60000", USDC="1")
    maker = driver.account()
    driver.deposit(maker, "BTC", "10")
    driver.deposit(maker, "USDC", "1000000")
    for price in prices:
        driver.place(maker, BTC, side, "0.1", price)
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    driver.deposit(trader, "BTC", "1")
    return trader


def test_a_market_buy_fills_no_further_than_its_tolerance_in_ticks(driver: Driver) -> None:
    trader = _book(driver, "sell", ("60000", "60000.2", "60000.3"))
    assert driver.state.markets[BTC].tick_size_wad == parse_decimal("0.1", 18), "the prices are whole ticks apart"
    order = driver.place(trader, BTC, "buy", "0.3", flags=_tolerance("2", TICKS))
    assert (order.executed_atoms, order.status) == (driver.atoms("BTC", "0.2"), OrderStatus.EXPIRED)
    assert order.expiry_reason is ExpiryReason.SLIPPAGE_TOLERANCE_EXCEEDED
    assert order.flags.slippage == Slippage(2 * WAD, TICKS)


def test_a_market_sell_fills_no_further_than_its_tolerance_in_percent(driver: Driver) -> None:
    trader = _book(driver, "buy", ("60000", "59700", "59600"))  # 0.5% below 60,000 is 59,700
    order = driver.place(trader, BTC, "sell", "0.3", flags=_tolerance("0.5", PERCENT))
    assert (order.executed_atoms, order.expiry_reason) == (
        driver.atoms("BTC", "0.2"),
        ExpiryReason.SLIPPAGE_TOLERANCE_EXCEEDED,
    )


def test_the_tighter_of_tolerance_and_impact_band_stops_the_order_with_its_own_reason(driver: Driver) -> None:
    trader = _book(driver, "sell", ("60000", "61000", "61900"))  # the impact band ends at 61,800
    loose = driver.place(trader, BTC, "buy", "0.3", flags=_tolerance("5", PERCENT))
    assert (loose.executed_atoms, loose.expiry_reason) == (driver.atoms("BTC", "0.2"), ExpiryReason.PRICE_IMPACT)


def test_a_tolerance_the_book_stays_within_fills_the_whole_order(driver: Driver) -> None:
    trader = _book(driver, "sell", ("60000", "60001"))
    order = driver.place(trader, BTC, "buy", "0.2", flags=_tolerance("0.01", PERCENT))  # up to 60,006
    assert (order.executed_atoms, order.status) == (driver.atoms("BTC", "0.2"), OrderStatus.FILLED)


def test_a_fill_or_kill_order_its_tolerance_would_cut_expires_whole(driver: Driver) -> None:
    trader = _book(driver, "sell", ("60000", "60100"))
    order = driver.place(trader, BTC, "buy", "0.2", tif=TimeInForce.FOK, flags=_tolerance("1", TICKS))
    assert (order.executed_atoms, order.expiry_reason) == (0, ExpiryReason.FILL_OR_KILL)


def test_a_sell_tolerance_of_a_hundred_percent_lets_the_order_walk_to_any_price(driver: Driver) -> None:
    trader = _book(driver, "buy", ("60000", "58500"))
    spec = driver.state.markets[BTC]
    no_band = replace(spec.bands, min_impact_multiplier=replace(spec.bands.min_impact_multiplier, wad=0))
    driver.accept(ConfigureMarkets((replace(spec, bands=no_band),)))
    order = driver.place(trader, BTC, "sell", "0.2", flags=_tolerance("100", PERCENT))
    assert order.status is OrderStatus.FILLED


def test_a_limit_order_with_a_tolerance_is_refused(driver: Driver) -> None:
    trader = _book(driver, "sell", ("60000",))
    command = driver.order(trader, BTC, "buy", "0.1", "60000", flags=_tolerance("1", TICKS))
    rejection = driver.refuse(command, RejectReason.SLIPPAGE_REQUIRES_MARKET_ORDER)
    assert "limit order's price is already its worst price" in rejection.message


def test_a_trigger_market_order_measures_its_tolerance_from_the_book_when_it_fires(driver: Driver) -> None:
    maker = driver.maker(PERP, "60000", "5", "2")
    driver.place(maker, PERP, "sell", "1", "60100")  # past 0.001% of the best ask
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    command = replace(
        driver.order(trader, PERP, "buy", None, flags=_tolerance("0.001", PERCENT)),
        trigger_price_wad=parse_decimal("61000", 18),
        trigger_by=TriggerBy.INDEX_PRICE,
        trigger_quantity_atoms=driver.base_atoms(PERP, "3"),
    )
    driver.accept(command)
    events = driver.accept(SetMarkPrices((("BTC", parse_decimal("61000", 18)),)))
    (fired,) = [
        event.order for event in events if isinstance(event, OrderChanged) and event.order.subaccount_id == trader
    ]
    assert (fired.executed_atoms, fired.expiry_reason) == (
        driver.base_atoms(PERP, "2"),
        ExpiryReason.SLIPPAGE_TOLERANCE_EXCEEDED,
    )


@pytest.mark.parametrize("kind", list(SlippageToleranceType))
def test_a_tolerance_survives_a_snapshot(driver: Driver, kind: SlippageToleranceType) -> None:
    trader = _book(driver, "sell", ("60000",))
    command = replace(
        driver.order(trader, BTC, "buy", None, flags=_tolerance("1.5", kind)),
        trigger_price_wad=parse_decimal("70000", 18),
        trigger_quantity_atoms=driver.atoms("BTC", "0.1"),
        trigger_by=TriggerBy.INDEX_PRICE,
    )
    driver.accept(command)
    restored = decode_state(encode_state(driver.state))
    (pending,) = restored.trigger_orders.values()
    assert pending.flags.slippage == Slippage(parse_decimal("1.5", 18), kind)
