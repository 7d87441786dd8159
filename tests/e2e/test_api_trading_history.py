"""Signed trading reads end to end: perp positions, and the order, fill, funding and settlement histories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import START_MS, advance, funded, placed, trading_exchange

from crossmargin.api.views.common import naive_time


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def _long_after_an_hour(exchange: Exchange) -> tuple[Keys, Keys, int]:
    """A maker quotes BTC perp at 60100/60200 (index 60000); a trader buys 0.5; an hour and ten seconds pass.

    Return the maker, the trader and the time of the trade.
    """
    maker = funded(exchange, USDC="10000000")
    for side, price in (("Bid", "60100"), ("Ask", "60200")):
        placed(exchange, maker, symbol="BTC_USDC_PERP", side=side, orderType="Limit", quantity="1", price=price)
    trader = funded(exchange, USDC="100000")
    bought = placed(
        exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="0.5", clientId=9
    )
    advance(exchange, 3610)  # the hour's funding, and the settlement 10 seconds later that moves it
    return maker, trader, int(str(bought["createdAt"]))


def test_an_open_perp_position_is_shown_with_its_margin_and_funding(exchange: Exchange) -> None:
    _, trader, _ = _long_after_an_hour(exchange)

    (position,) = exchange.signed(trader, "GET", "/api/v1/position", "positionQuery").json()
    spot_only = exchange.signed(trader, "GET", "/api/v1/position", "positionQuery", {"marketType": "SPOT"}).json()

    # Mark = median(index 60000, bid 60100, ask 60200) = 60100; funding 0.25% of 0.5 x 60100 = 75.125, paid.
    assert {key: position[key] for key in ("symbol", "netQuantity", "entryPrice", "netCost", "markPrice")} == {
        "symbol": "BTC_USDC_PERP",
        "netQuantity": "0.5",
        "entryPrice": "60200",
        "netCost": "30100",
        "markPrice": "60100",
    }
    assert position["cumulativeFundingPayment"] == "-75.125"
    assert position["breakEvenPrice"] == "60350.25"
    assert position["pnlRealized"] == "-50", "settled at the mark: (60100 - 60200) x 0.5"
    assert position["pnlUnrealized"] == "0"
    assert (position["netExposureQuantity"], position["netExposureNotional"]) == ("0.5", "30050")
    assert position["estLiquidationPrice"] == "0"
    assert position["imf"] == "0.1", "the default leverage limit of 10 sets the floor"
    assert position["subaccountId"] == trader.subaccount_id
    assert position["userId"] == trader.account_id
    assert spot_only == []


def test_funding_and_settlement_history_of_a_position(exchange: Exchange) -> None:
    _, trader, _ = _long_after_an_hour(exchange)

    funding = exchange.signed(trader, "GET", "/wapi/v1/history/funding", "fundingHistoryQueryAll").json()
    settled = exchange.signed(trader, "GET", "/wapi/v1/history/settlement", "settlementHistoryQueryAll").json()
    fees = exchange.signed(
        trader, "GET", "/wapi/v1/history/settlement", "settlementHistoryQueryAll", {"source": "TradingFees"}
    ).json()
    bad = exchange.signed(
        trader, "GET", "/wapi/v1/history/settlement", "settlementHistoryQueryAll", {"source": "Magic"}
    )

    assert funding == [
        {
            "userId": trader.account_id,
            "subaccountId": trader.subaccount_id,
            "symbol": "BTC_USDC_PERP",
            "quantity": "-75.125",
            "intervalEndTimestamp": "2026-01-01T01:00:00",
            "fundingRate": "0.0025",
        }
    ]
    assert [(row["source"], row["quantity"]) for row in settled] == [
        ("FundingPayment", "-75.125"),
        ("TradingFees", "-15.05"),
        ("RealizePnl", "-50"),
    ]
    assert [row["quantity"] for row in fees] == ["-15.05"]
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


def test_order_history_lists_open_and_closed_orders_newest_first_and_pages(exchange: Exchange) -> None:
    trader = funded(exchange, BTC="1")
    ask = {"symbol": "BTC_USDC", "side": "Ask", "orderType": "Limit", "quantity": "0.1"}
    first = placed(exchange, trader, **ask, price="61000")
    second = placed(exchange, trader, **ask, price="62000")
    exchange.signed(trader, "DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "orderId": first["id"]})

    history = exchange.signed(trader, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll")
    one = exchange.signed(trader, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", {"orderId": first["id"]})
    page = exchange.signed(trader, "GET", "/wapi/v1/history/orders", "orderHistoryQueryAll", {"limit": 1, "offset": 1})

    assert [(row["id"], row["status"]) for row in history.json()] == [(second["id"], "New"), (first["id"], "Cancelled")]
    # After the exchange's three set-up commands and the account's two, at its own millisecond.
    assert history.json()[1]["createdAt"] == "2026-01-01T00:00:00.005"
    assert history.headers["X-TOTAL"] == "2"
    assert [row["id"] for row in one.json()] == [first["id"]]
    assert [row["id"] for row in page.json()] == [first["id"]]


def test_fills_show_each_side_with_its_fee_and_filter_by_time_and_type(exchange: Exchange) -> None:
    maker, trader, traded_ms = _long_after_an_hour(exchange)

    taker_fills = exchange.signed(trader, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll").json()
    maker_fills = exchange.signed(maker, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll").json()
    conversions = exchange.signed(
        trader, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"fillType": "CollateralConversion"}
    ).json()
    later = exchange.signed(
        trader, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"from": traded_ms + 1}
    ).json()
    since = exchange.signed(trader, "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"from": traded_ms}).json()

    (fill,) = taker_fills
    assert {key: value for key, value in fill.items() if key not in ("orderId", "tradeId")} == {
        "clientId": "9",
        "fee": "15.05",
        "feeSymbol": "USDC",
        "isMaker": False,
        "price": "60200",
        "quantity": "0.5",
        "side": "Bid",
        "symbol": "BTC_USDC_PERP",
        "timestamp": naive_time(traded_ms),
    }
    assert traded_ms == START_MS + 9, "the nine commands before the trade, one millisecond apart"
    assert [(row["isMaker"], row["side"], row["fee"]) for row in maker_fills] == [(True, "Ask", "6.02")]
    assert maker_fills[0]["tradeId"] == fill["tradeId"]
    assert conversions == []
    assert later == []
    assert since == taker_fills
