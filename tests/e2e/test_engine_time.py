"""Engine time at the API: `/api/v1/time` answers the engine's clock, and the manual clock's timestamp rule.

On the manual clock time moves only when the operator advances it: commands in between share the
engine's millisecond, and their order is that of their ids (docs/GLOSSARY.md, "engine time").
"""

from __future__ import annotations

from signing_client import Exchange
from tests.e2e.trading_exchange import START_MS, advance, funded, placed, trading_exchange


def test_time_answers_the_manual_clocks_engine_time_not_the_wall_clock(exchange: Exchange) -> None:
    assert int(exchange.client.get("/api/v1/time").text) == START_MS
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    assert int(exchange.client.get("/api/v1/time").text) == START_MS + 3_600_000
    clock = exchange.admin("GET", "/admin/v1/clock").json()
    assert int(exchange.client.get("/api/v1/time").text) == clock["now"]


def test_orders_between_two_advances_share_the_millisecond_and_are_ordered_by_id() -> None:
    with trading_exchange() as exchange:
        trader = funded(exchange, USDC="100000")
        first = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50000", quantity="0.1"
        )
        second = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50100", quantity="0.1"
        )
        assert first["createdAt"] == second["createdAt"] == START_MS
        assert int(str(second["id"])) > int(str(first["id"]))
        advance(exchange, 1)
        third = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50200", quantity="0.1"
        )
        assert third["createdAt"] == START_MS + 1_000
