"""Trading views against Backpack's published schemas, and their refusals, on a state built with the engine driver.

The scenario trades spot and perps, lets an hour of funding and its settlement pass, and leaves
resting, filled, cancelled and expired orders, so every trading view has rows to check. Each body
is validated with the same closed-schema checks as `test_views_schema.py` (no undeclared field,
canonical decimals, declared time formats).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pytest
from engine_driver import HOUR_MS, Driver
from jsonschema import Draft202012Validator
from tests.unit.api.test_views_schema import SPEC_PATH, Spec, assert_valid, spec, validators

from crossmargin.api.errors import ApiError
from crossmargin.api.views import JsonValue
from crossmargin.api.views.market_data import view_depth, view_klines, view_trades, view_trades_history
from crossmargin.api.views.orders import view_fills, view_open_order, view_open_orders, view_order, view_order_history
from crossmargin.api.views.perps import (
    view_funding_history,
    view_funding_rates,
    view_mark_prices,
    view_open_interest,
    view_positions,
    view_settlement_history,
)
from crossmargin.app.market_history import MarketHistory, bucket
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import OrderId, TimeInForce
from crossmargin.core.state import EngineState

pytestmark = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Backpack's published spec is not at {SPEC_PATH}")

__all__ = ["spec", "validators"]  # fixtures shared with the schema tests

START_MS: Final = HOUR_MS - 60_000


@pytest.fixture(scope="module")
def driven() -> tuple[Driver, dict[str, SubaccountId]]:
    driver = Driver().at(START_MS)
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    maker = driver.maker("BTC_USDC_PERP", "60150", "50", "2")
    driver.maker("BTC_USDC", "60000", "10", "1")
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    driver.deposit(trader, "BTC", "1")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.5", client_id=9)
    driver.place(trader, "BTC_USDC", "sell", "0.1")
    driver.place(trader, "BTC_USDC", "buy", "0.2", "50000", client_id=1)
    driver.place(trader, "BTC_USDC", "buy", "5", "60010", tif=TimeInForce.FOK)
    cancelled = driver.place(trader, "BTC_USDC", "sell", "0.1", "70000")
    driver.cancel(trader, "BTC_USDC", cancelled.order_id)
    driver.tick(HOUR_MS + 10_000)
    empty = driver.account()
    return driver, {"maker": maker, "trader": trader, "empty": empty}


@pytest.fixture(scope="module")
def scenario(driven: tuple[Driver, dict[str, SubaccountId]]) -> tuple[EngineState, dict[str, SubaccountId]]:
    driver, subaccounts = driven
    return driver.state, subaccounts


@pytest.fixture(scope="module")
def history(driven: tuple[Driver, dict[str, SubaccountId]]) -> MarketHistory:
    """The market history a service would have kept of the scenario's events."""
    driver, _ = driven
    kept = MarketHistory()
    kept.feed(driver.events, driver.state.markets)
    return kept


PRIVATE: Final[dict[str, Callable[[EngineState, SubaccountId], JsonValue]]] = {
    "/api/v1/orders": view_open_orders,
    "/api/v1/position": view_positions,
    "/wapi/v1/history/orders": view_order_history,
    "/wapi/v1/history/fills": view_fills,
    "/wapi/v1/history/funding": view_funding_history,
    "/wapi/v1/history/settlement": view_settlement_history,
}
PUBLIC: Final[dict[str, Callable[[EngineState, MarketHistory], JsonValue]]] = {
    "/api/v1/depth": lambda state, _: view_depth(state, "BTC_USDC"),
    "/api/v1/trades": lambda state, history: view_trades(state, history, "BTC_USDC"),
    "/api/v1/trades/history": lambda state, history: view_trades_history(state, history, "BTC_USDC"),
    "/api/v1/klines": lambda state, history: view_klines(state, history, "BTC_USDC", "1h", 0),
    "/api/v1/markPrices": lambda state, _: view_mark_prices(state),
    "/api/v1/openInterest": lambda state, _: view_open_interest(state),
    "/api/v1/fundingRates": lambda state, _: view_funding_rates(state, "BTC_USDC_PERP"),
}


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_trading_view_matches_the_spec(
    path: str,
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    history: MarketHistory,
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, _ = scenario

    body = PUBLIC[path](state, history)

    assert body not in ([], {}, None), "the scenario fills every public trading view"
    assert_valid(validators(path), body)


@pytest.mark.parametrize("who", ["maker", "trader", "empty"])
@pytest.mark.parametrize("path", sorted(PRIVATE))
def test_private_trading_view_matches_the_spec(
    path: str,
    who: str,
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, subaccounts = scenario

    body = PRIVATE[path](state, subaccounts[who])

    if who == "trader":
        assert body, f"the trader has rows in {path}"
    assert_valid(validators(path), body)


def test_the_trader_has_every_kind_of_order(scenario: tuple[EngineState, dict[str, SubaccountId]]) -> None:
    state, subs = scenario

    rows = view_order_history(state, subs["trader"])

    statuses = {(row["status"], row.get("expiryReason")) for row in rows if isinstance(row, dict)}
    assert statuses == {("Filled", None), ("New", None), ("Cancelled", None), ("Expired", "FillOrKill")}


def test_a_live_order_matches_the_order_type_schema_with_expiry_reason_as_the_one_extension(
    scenario: tuple[EngineState, dict[str, SubaccountId]],
    validators: Callable[[str], Draft202012Validator],
) -> None:
    state, subs = scenario
    expired = next(order for kept in state.closed_orders.values() for order in kept if order.expiry_reason is not None)

    body = view_order(expired, state.markets[expired.market])
    reason = body.pop("expiryReason")

    assert reason == "FillOrKill"
    assert_valid(validators("/api/v1/order"), body)
    assert_valid(validators("/api/v1/order"), view_open_order(state, subs["trader"], "BTC_USDC", client_id=1))


def test_trading_views_refuse_bad_queries_with_backpack_codes(
    spec: Spec, scenario: tuple[EngineState, dict[str, SubaccountId]], history: MarketHistory
) -> None:
    state, subs = scenario
    trader = subs["trader"]
    codes = set(spec["components"]["schemas"]["ApiErrorCode"]["enum"])
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: view_depth(state, "DOGE_USDC"), "INVALID_MARKET"),
        (lambda: view_depth(state, "BTC_USDC", 7), "INVALID_CLIENT_REQUEST"),
        (lambda: view_trades(state, history, "BTC_USDC", 0), "INVALID_CLIENT_REQUEST"),
        (lambda: view_trades_history(state, history, "BTC_USDC", 1001), "INVALID_CLIENT_REQUEST"),
        (lambda: view_trades_history(state, history, "BTC_USDC", offset=-1), "INVALID_CLIENT_REQUEST"),
        (lambda: view_trades_history(state, history, "DOGE_USDC"), "INVALID_MARKET"),
        (lambda: view_klines(state, history, "BTC_USDC", "7m", 0), "INVALID_CLIENT_REQUEST"),
        (lambda: view_klines(state, history, "BTC_USDC", "1m", 10, 5), "INVALID_RANGE"),
        (lambda: view_klines(state, history, "BTC_USDC", "1m", 0, price_type="Bid"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_open_order(state, trader, "BTC_USDC", OrderId(999_999)), "RESOURCE_NOT_FOUND"),
        (lambda: view_open_order(state, trader, "BTC_USDC"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_open_orders(state, trader, market_type="FUTURES"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_fills(state, trader, fill_type="Magic"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_order_history(state, trader, sort_direction="up"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_positions(state, SubaccountId(9999)), "RESOURCE_NOT_FOUND"),
        (lambda: view_open_interest(state, "BTC_USDC"), "INVALID_CLIENT_REQUEST"),
        (lambda: view_mark_prices(state, "DOGE_USDC"), "INVALID_MARKET"),
        (lambda: view_mark_prices(state, market_type="FUTURES"), "INVALID_CLIENT_REQUEST"),
    ]

    for refuse, code in refusals:
        with pytest.raises(ApiError) as refused:
            refuse()
        assert refused.value.code == code
        assert refused.value.code in codes


def test_mark_prices_filter_spot_and_perp_markets(scenario: tuple[EngineState, dict[str, SubaccountId]]) -> None:
    state, _ = scenario

    perps = view_mark_prices(state, market_type="PERP")
    spot = view_mark_prices(state, market_type="SPOT")
    other = view_mark_prices(state, market_type="RFQ")

    assert [row["symbol"] for row in perps if isinstance(row, dict)] == [
        "BTC_USDC_PERP",
        "ETH_USDC_PERP",
        "SOL_USDC_PERP",
    ]
    assert all("fundingRate" not in row for row in spot if isinstance(row, dict))
    assert other == []


@pytest.mark.parametrize(
    ("interval", "at_ms", "expected"),
    [
        ("1m", 61_000, (60_000, 120_000)),
        ("1w", 0, (-3 * 86_400_000, 4 * 86_400_000)),  # the epoch's Monday is 1969-12-29
        ("1month", 1_767_225_600_000 + 5, (1_767_225_600_000, 1_769_904_000_000)),  # January 2026
        ("1month", 1_764_547_200_000, (1_764_547_200_000, 1_767_225_600_000)),  # December 2025 rolls the year
    ],
)
def test_kline_buckets_align_to_utc_calendar(interval: str, at_ms: int, expected: tuple[int, int]) -> None:
    assert bucket(interval, at_ms) == expected
