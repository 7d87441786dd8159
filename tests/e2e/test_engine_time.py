"""Engine time at the API: `/api/v1/time` answers the engine's clock, and the manual clock's timestamp rule.

On the manual clock time moves only when the operator advances it, yet each command between two
advances runs at its own millisecond, one after the engine's time at least, as on Backpack where
each happens at its own time: orders, trades and deposits get distinct, increasing timestamps. The
clock moves along, so an advance of N seconds lands N seconds after the time a client last read,
and the hour's interest still falls due exactly on the hour (docs/GLOSSARY.md, "engine time").
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from stream_harness import exchange_with_markets, receive
from tests.e2e.test_api_borrow_lend_preview import execute, lender, position, preview
from tests.e2e.test_streams import subscribe
from tests.e2e.trading_exchange import START_MS, advance, funded, placed, trading_exchange

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

HOUR_MS = 3_600_000


def engine_time(exchange: Exchange) -> int:
    return int(exchange.client.get("/api/v1/time").text)


def ms(naive: str) -> int:
    """Return the epoch milliseconds of Backpack's naive UTC time, e.g. `2026-01-01T00:00:00.001`."""
    return int(datetime.fromisoformat(naive).replace(tzinfo=UTC).timestamp() * 1000)


def signed_rows(exchange: Exchange, keys: Keys, path: str, instruction: str) -> list[dict[str, Any]]:
    response = exchange.signed(keys, "GET", path, instruction)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_time_answers_the_manual_clocks_engine_time_not_the_wall_clock(exchange: Exchange) -> None:
    # The fixture's two commands: the assets listed at START_MS, the prices set 1 ms after.
    assert engine_time(exchange) == START_MS + 1
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    assert engine_time(exchange) == START_MS + 1 + HOUR_MS
    clock = exchange.admin("GET", "/admin/v1/clock").json()
    assert engine_time(exchange) == clock["now"]


def test_consecutive_orders_run_one_millisecond_apart_and_in_the_order_of_their_ids() -> None:
    with trading_exchange() as exchange:
        trader = funded(exchange, USDC="100000")
        before = engine_time(exchange)
        first = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50000", quantity="0.1"
        )
        second = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50100", quantity="0.1"
        )
        assert (first["createdAt"], second["createdAt"]) == (before + 1, before + 2)
        assert int(str(second["id"])) > int(str(first["id"]))
        assert engine_time(exchange) == before + 2, "the time a client reads is the last command's"
        advance(exchange, 1)
        third = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50200", quantity="0.1"
        )
        assert third["createdAt"] == before + 2 + 1_000 + 1


def test_trades_of_consecutive_orders_get_distinct_increasing_times_in_rest_and_the_trade_stream() -> None:
    with exchange_with_markets() as (_, client, exchange):
        seller = funded(exchange, BTC="1")
        buyer = funded(exchange, USDC="100000")
        placed(exchange, seller, symbol="BTC_USDC", side="Ask", orderType="Limit", price="60000", quantity="0.3")
        with client.websocket_connect("/") as socket:
            subscribe(socket, "trade.BTC_USDC")
            takers = [
                placed(exchange, buyer, symbol="BTC_USDC", side="Bid", orderType="Market", quantity="0.1")
                for _ in range(3)
            ]
            streamed = [receive(socket, "trade.BTC_USDC") for _ in takers]
        fills = signed_rows(exchange, buyer, "/wapi/v1/history/fills", "fillHistoryQueryAll")
        public = client.get("/api/v1/trades", params={"symbol": "BTC_USDC"}).json()

    created = [int(str(taker["createdAt"])) for taker in takers]
    assert created == [created[0], created[0] + 1, created[0] + 2], "one millisecond apart"
    assert [trade["T"] for trade in streamed] == [at * 1000 for at in created], "the stream's times are µs"
    assert [trade["E"] for trade in streamed] == [at * 1000 for at in created]
    assert sorted(ms(fill["timestamp"]) for fill in fills) == created
    assert [trade["timestamp"] for trade in public] == created, "GET /api/v1/trades, oldest first"


def test_consecutive_deposits_get_distinct_increasing_times() -> None:
    with trading_exchange() as exchange:
        keys = exchange.new_account()
        before = engine_time(exchange)
        for symbol, quantity in (("USDC", "100"), ("USDC", "200"), ("BTC", "1")):
            exchange.deposit(keys, symbol, quantity)
        rows = signed_rows(exchange, keys, "/wapi/v1/capital/deposits", "depositQueryAll")

    by_quantity = {(row["symbol"], row["quantity"]): ms(row["createdAt"]) for row in rows}
    assert by_quantity == {("USDC", "100"): before + 1, ("USDC", "200"): before + 2, ("BTC", "1"): before + 3}


def test_an_advance_moves_from_the_time_a_client_last_read() -> None:
    with trading_exchange() as exchange:
        trader = funded(exchange, USDC="100000", BTC="1")
        for price in ("50000", "50100", "50200"):
            placed(exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price=price, quantity="0.1")
        read = engine_time(exchange)
        advance(exchange, 90)
        assert engine_time(exchange) == read + 90_000, "90 seconds after the time read, not after the clock's start"
        assert exchange.admin("GET", "/admin/v1/clock").json() == {"now": read + 90_000}
        after = placed(
            exchange, trader, symbol="BTC_USDC", side="Bid", orderType="Limit", price="50300", quantity="0.1"
        )
        assert after["createdAt"] == read + 90_001


def test_a_borrow_preview_looks_at_the_time_the_borrow_will_run_at_the_hours_edge() -> None:
    """The engine at 00:59:59.999: the next command runs at 01:00, after the hour's interest; so does its preview."""
    clock = ManualClock(START_MS)
    service = Service.open(MemoryJournal(), clock, load_asset_specs())
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            exchange.admin("POST", "/admin/v1/prices", {"prices": {"USDC": "1", "BTC": "60000"}})
            lender(exchange, "100000")
            borrower = funded(exchange, BTC="1")
            assert execute(exchange, borrower, "Borrow", "2000").status_code == 200
            hour = START_MS + HOUR_MS
            clock.advance_to(hour - 1)
            exchange.deposit(borrower, "BTC", "0.1")  # runs at the clock's time: the engine is at hour - 1
            assert engine_time(exchange) == hour - 1
            owed = position(exchange, borrower)

            seen = preview(exchange, borrower, "Borrow", "1000")
            assert execute(exchange, borrower, "Borrow", "1000").status_code == 200
            owes = position(exchange, borrower)
            charges = signed_rows(exchange, borrower, "/wapi/v1/history/interest", "interestHistoryQueryAll")
    finally:
        service.close()

    hourly = [row for row in charges if row["paymentType"] == "Borrow"]  # the entry fees are the others
    assert [ms(row["timestamp"]) for row in hourly] == [hour], "the hour's interest, once, on the hour"
    charged = abs(Fraction(hourly[0]["quantity"]))
    assert Fraction(owes["cumulativeInterest"]) == Fraction(owed["cumulativeInterest"]) + charged + Fraction(
        seen["entryFee"]
    )
    assert seen["netQuantityAfter"] == owes["netQuantity"], "the preview counted the hour's interest too"
