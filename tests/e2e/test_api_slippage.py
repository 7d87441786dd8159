"""`slippageTolerance` on a market order over HTTP: bounded fills, Backpack's expiry reason, clear refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signing_client import Exchange
from tests.e2e.trading_exchange import funded, order, placed, trading_exchange

BUY = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Market", "quantity": "0.3"}


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def test_a_market_buy_stops_at_its_slippage_tolerance_and_says_so(exchange: Exchange) -> None:
    maker = funded(exchange, BTC="10")
    for price in ("60010", "60030", "60200"):
        placed(exchange, maker, symbol="BTC_USDC", side="Ask", orderType="Limit", quantity="0.1", price=price)
    trader = funded(exchange, USDC="100000")
    body = placed(exchange, trader, **BUY, slippageTolerance="0.05", slippageToleranceType="Percent")
    assert (body["status"], body["executedQuantity"], body["expiryReason"]) == (
        "Expired",
        "0.2",
        "SlippageToleranceExceeded",
    )
    assert (body["slippageTolerance"], body["slippageToleranceType"]) == ("0.05", "Percent")


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"slippageTolerance": "1"}, 400, "Give slippageTolerance and slippageToleranceType"),
        ({"slippageToleranceType": "Percent"}, 400, "Give slippageTolerance and slippageToleranceType"),
        ({"slippageTolerance": "1", "slippageToleranceType": "Bps"}, 400, "must be one of TickSize, Percent"),
        ({"slippageTolerance": "0", "slippageToleranceType": "TickSize"}, 400, "must be greater than zero"),
        ({"slippageTolerance": "100.5", "slippageToleranceType": "Percent"}, 400, "must be at most 100"),
        ({"slippageTolerance": "2000000", "slippageToleranceType": "TickSize"}, 400, "must be at most 1000000"),
        ({"slippageTolerance": "one", "slippageToleranceType": "Percent"}, 400, "plain decimal number"),
    ],
)
def test_a_malformed_slippage_tolerance_is_refused_by_field_name(
    exchange: Exchange, fields: dict[str, str], status: int, message: str
) -> None:
    trader = funded(exchange, USDC="100000")
    response = order(exchange, trader, **BUY, **fields)
    assert response.status_code == status
    assert message in response.json()["message"]


def test_a_limit_order_with_a_slippage_tolerance_is_refused(exchange: Exchange) -> None:
    trader = funded(exchange, USDC="100000")
    limit = {**BUY, "orderType": "Limit", "price": "59000"}
    response = order(exchange, trader, **limit, slippageTolerance="1", slippageToleranceType="TickSize")
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ORDER")
    assert "for market orders" in response.json()["message"]
