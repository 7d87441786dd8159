"""Every public stream Backpack serves, over a real WebSocket to uvicorn on 127.0.0.1.

Each message is checked against Backpack's published field names and types (its stream
documentation, and traffic recorded from its socket): decimal strings for prices and quantities,
integer microseconds for `E` and `T`. The aggregated depth streams run on a hand-fired timer, so
what is checked is the aggregation (three diffs, one message), never how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from socket import socket as tcp_socket
from typing import Any

import pytest
from live_server import free_port, start, stop
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.applications import Starlette
from starlette.testclient import TestClient
from stream_harness import MISSING_MESSAGE_S, PRICES, open_service, uvicorn_serving
from tests.e2e.test_liquidation_api import _max_borrower as max_borrower
from tests.e2e.test_streams import signature
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from crossmargin.api.app import create_app
from crossmargin.api.context import ApiContext
from crossmargin.api.stream_depth import Schedule
from crossmargin.api.streams import StreamHub, stream_routes
from crossmargin.api.views.market_data import view_depth
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service

DECIMAL = "decimal string"
Shape = dict[str, object]


def assert_shape(data: dict[str, Any], shape: Shape) -> None:
    """Check that `data` has exactly `shape`'s fields, each of its type (DECIMAL: a string holding a number)."""
    assert set(data) == set(shape), f"fields {sorted(data)} instead of {sorted(shape)}"
    for name, kind in shape.items():
        value = data[name]
        if kind == DECIMAL:
            assert isinstance(value, str), (name, value)
            Decimal(value)
        else:
            assert isinstance(kind, type)
            assert isinstance(value, kind), (name, value)
            assert kind is bool or not isinstance(value, bool), (name, value)


# Backpack's stream documentation, field by field (recorded traffic agrees on every type).
BOOK_TICKER: Shape = {"e": str, "E": int, "s": str, "a": DECIMAL, "A": DECIMAL, "b": DECIMAL, "B": DECIMAL}
BOOK_TICKER |= {"u": int, "T": int}
DEPTH: Shape = {"e": str, "E": int, "s": str, "a": list, "b": list, "U": int, "u": int, "T": int}
TRADE: Shape = {"e": str, "E": int, "s": str, "p": DECIMAL, "q": DECIMAL, "b": str, "a": str, "t": int, "T": int}
TRADE |= {"m": bool}
TICKER: Shape = {"e": str, "E": int, "s": str, "o": DECIMAL, "c": DECIMAL, "h": DECIMAL, "l": DECIMAL}
TICKER |= {"v": DECIMAL, "V": DECIMAL, "n": int}
MARK_PRICE: Shape = {"e": str, "E": int, "s": str, "p": DECIMAL, "f": DECIMAL, "i": DECIMAL, "n": int, "T": int}
OPEN_INTEREST: Shape = {"e": str, "E": int, "s": str, "o": DECIMAL}
LIQUIDATION: Shape = {"e": str, "E": int, "q": DECIMAL, "p": DECIMAL, "S": str, "s": str, "T": int}
POSITION: Shape = {"E": int, "s": str, "b": DECIMAL, "B": DECIMAL, "l": DECIMAL, "f": DECIMAL, "M": DECIMAL}
POSITION |= {"m": DECIMAL, "q": DECIMAL, "Q": DECIMAL, "n": DECIMAL, "i": int, "p": DECIMAL, "P": DECIMAL, "T": int}


@dataclass
class ManualTimer:
    """Stands in for `loop.call_later`: keeps each callback until the test fires it on the loop."""

    pending: list[tuple[float, Callable[[], None], asyncio.AbstractEventLoop]] = field(default_factory=list)

    def schedule(self, delay_s: float, callback: Callable[[], None]) -> None:
        self.pending.append((delay_s, callback, asyncio.get_running_loop()))

    def delays(self, count: int, within_s: float = 10.0) -> list[float]:
        """Return the delays pending once `count` are (the hub arms them on its own loop, after the reply)."""
        deadline = time.monotonic() + within_s
        while len(self.pending) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return sorted(delay for delay, _, _ in self.pending)

    def fire(self, delay_s: float) -> None:
        """Fire the oldest pending callback of that delay, on the loop it was scheduled from."""
        index = next(i for i, (delay, _, _) in enumerate(self.pending) if delay == delay_s)
        _, callback, loop = self.pending.pop(index)
        loop.call_soon_threadsafe(callback)


@dataclass
class Live:
    """A fresh exchange: its service, a REST client (in process), and its streams served by uvicorn."""

    service: Service
    exchange: Exchange
    port: int
    timer: ManualTimer

    def socket(self) -> ClientConnection:
        return connect(f"ws://127.0.0.1:{self.port}/", open_timeout=MISSING_MESSAGE_S)

    def account(self, **deposits: str) -> Keys:
        keys = self.exchange.new_account()
        for symbol, quantity in deposits.items():
            self.exchange.deposit(keys, symbol, quantity)
        return keys

    def order(self, keys: Keys, symbol: str, side: str, quantity: str, price: str) -> str:
        body = {"symbol": symbol, "side": side, "orderType": "Limit", "quantity": quantity, "price": price}
        response = self.exchange.signed(keys, "POST", "/api/v1/order", "orderExecute", body)
        assert response.status_code == 200, response.text
        order_id: str = response.json()["id"]
        return order_id

    def last_update_id(self, symbol: str) -> int:
        return int(str(self.service.read(lambda state: view_depth(state, symbol))["lastUpdateId"]))


@contextmanager
def live(*, manual_timer: bool = True, monitor: bool = False) -> Iterator[Live]:
    service = open_service()
    risk_monitor = RiskMonitor(service) if monitor else None
    if risk_monitor is not None:
        risk_monitor.start()
    timer = ManualTimer()
    schedule: Schedule | None = timer.schedule if manual_timer else None
    hub = StreamHub(service, schedule=schedule)
    app = Starlette(routes=stream_routes(ApiContext(service, ADMIN_TOKEN), hub))
    listener = tcp_socket()
    listener.bind(("127.0.0.1", 0))
    try:
        with (
            TestClient(create_app(service, ADMIN_TOKEN, risk_monitor=risk_monitor)) as client,
            uvicorn_serving(app, listener) as port,
        ):
            exchange = Exchange(client)
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES}).status_code == 200
            yield Live(service, exchange, port, timer)
    finally:
        hub.close()
        if risk_monitor is not None:
            risk_monitor.stop()
        service.close()


def subscribe(socket: Connection, *streams: str, keys: Keys | None = None) -> None:
    request: dict[str, Any] = {"method": "SUBSCRIBE", "params": list(streams), "id": 1}
    if keys is not None:
        request["signature"] = signature(keys)
    socket.send(json.dumps(request))
    assert message(socket) == {"id": 1, "result": None}


def message(socket: Connection) -> Any:
    return json.loads(socket.recv(timeout=MISSING_MESSAGE_S))


def data_on(socket: Connection, stream: str) -> dict[str, Any]:
    """Return the data of the next message, which must be on `stream`."""
    received = message(socket)
    assert received["stream"] == stream, received
    data: dict[str, Any] = received["data"]
    return data


def test_book_ticker_follows_the_top_of_the_book_and_only_its_changes() -> None:
    with live() as market:
        maker = market.account(USDC="100000", BTC="1")
        with market.socket() as socket:
            subscribe(socket, "bookTicker.BTC_USDC")
            market.order(maker, "BTC_USDC", "Bid", "0.1", "59000")
            first = data_on(socket, "bookTicker.BTC_USDC")
            market.order(maker, "BTC_USDC", "Bid", "0.5", "58000")  # below the best bid: no message
            market.order(maker, "BTC_USDC", "Ask", "0.2", "61000")
            second = data_on(socket, "bookTicker.BTC_USDC")
            market.order(maker, "BTC_USDC", "Bid", "0.2", "59000")
            third = data_on(socket, "bookTicker.BTC_USDC")

        assert (first["e"], first["s"], first["b"], first["B"]) == ("bookTicker", "BTC_USDC", "59000", "0.1")
        assert (first["a"], first["A"]) == (None, None), "no ask yet"
        assert (second["a"], second["A"], second["b"], second["B"]) == ("61000", "0.2", "59000", "0.1")
        assert (third["b"], third["B"]) == ("59000", "0.3"), "more at the best bid changes its quantity"
        assert_shape(third, BOOK_TICKER)
        assert third["u"] == market.last_update_id("BTC_USDC"), "u is the book's update id, as in depth"
        assert second["u"] > first["u"]
        assert third["E"] == third["T"], "the engine's time"
        assert third["T"] % 1000 == 0, "microseconds of the engine's millisecond time"


def test_aggregated_depth_merges_the_diffs_of_a_period_into_one_message() -> None:
    with live() as market:
        maker = market.account(USDC="100000", BTC="1")
        with market.socket() as socket:
            subscribe(socket, "depth.BTC_USDC", "depth.200ms.BTC_USDC", "depth.1000ms.BTC_USDC")
            market.order(maker, "BTC_USDC", "Bid", "0.1", "59000")
            market.order(maker, "BTC_USDC", "Bid", "0.2", "59000")
            market.order(maker, "BTC_USDC", "Ask", "0.1", "61000")
            diffs = [data_on(socket, "depth.BTC_USDC") for _ in range(3)]
            timers = sorted(delay for delay, _, _ in market.timer.pending)
            market.timer.fire(0.2)
            fast = data_on(socket, "depth.200ms.BTC_USDC")
            market.timer.fire(1.0)
            slow = data_on(socket, "depth.1000ms.BTC_USDC")
            market.order(maker, "BTC_USDC", "Ask", "0.3", "62000")
            diff = data_on(socket, "depth.BTC_USDC")
            market.timer.fire(0.2)
            following = data_on(socket, "depth.200ms.BTC_USDC")
            snapshot = market.last_update_id("BTC_USDC")

    assert timers == [0.2, 1.0], "three diffs opened one period per stream, not one each"
    assert (fast["U"], fast["u"]) == (diffs[0]["U"], diffs[2]["u"]), "U of the first diff, u of the last"
    assert fast["b"] == [["59000", "0.3"]], "a level keeps its last total"
    assert fast["a"] == [["61000", "0.1"]]
    assert (fast["E"], fast["T"], fast["s"], fast["e"]) == (diffs[2]["E"], diffs[2]["T"], "BTC_USDC", "depth")
    assert_shape(fast, DEPTH)
    assert slow == fast, "the 1000ms stream gathered the same diffs"
    assert following["U"] == fast["u"] + 1, "the next period follows on"
    assert (following["a"], following["b"], following["u"]) == (diff["a"], [], diff["u"])
    assert following["u"] == snapshot, "the ids are GET /api/v1/depth's lastUpdateId"


def test_aggregated_depth_closes_its_period_on_the_loops_own_timer() -> None:
    with live(manual_timer=False) as market:
        maker = market.account(USDC="100000")
        with market.socket() as socket:
            subscribe(socket, "depth.600ms.BTC_USDC")
            market.order(maker, "BTC_USDC", "Bid", "0.1", "59000")
            aggregated = data_on(socket, "depth.600ms.BTC_USDC")

        assert aggregated["b"] == [["59000", "0.1"]]
        assert aggregated["u"] == market.last_update_id("BTC_USDC")


def test_open_interest_is_sent_when_it_changes() -> None:
    with live() as market:
        long, short, other = (market.account(USDC="100000") for _ in range(3))
        with market.socket() as socket:
            subscribe(socket, "openInterest.BTC_USDC_PERP")
            market.order(short, "BTC_USDC_PERP", "Ask", "0.2", "60000")
            market.order(long, "BTC_USDC_PERP", "Bid", "0.2", "60000")
            opened = data_on(socket, "openInterest.BTC_USDC_PERP")
            market.order(other, "BTC_USDC_PERP", "Bid", "0.1", "60000")
            market.order(long, "BTC_USDC_PERP", "Ask", "0.1", "60000")  # a long passes to another: unchanged
            market.order(long, "BTC_USDC_PERP", "Ask", "0.1", "60000")
            market.order(short, "BTC_USDC_PERP", "Bid", "0.1", "60000")  # a long and a short close
            reduced = data_on(socket, "openInterest.BTC_USDC_PERP")
            rest = market.exchange.client.get("/api/v1/openInterest", params={"symbol": "BTC_USDC_PERP"}).json()

    assert_shape(opened, OPEN_INTEREST)
    assert (opened["e"], opened["s"], opened["o"]) == ("openInterest", "BTC_USDC_PERP", "0.2")
    assert reduced["o"] == "0.1", "the unchanged open interest sent nothing in between"
    assert rest[0]["openInterest"] == reduced["o"]


def test_a_liquidation_fill_is_public_and_an_ordinary_trade_is_not() -> None:
    with live(monitor=True) as market:
        borrower = max_borrower(market.exchange)  # 1 BTC, all the USDC it may borrow; a bid rests at 55,900
        seller = market.account(BTC="1")
        with market.socket() as socket:
            subscribe(socket, "liquidation", "trade.BTC_USDC")
            subscribe(socket, "account.orderUpdate", keys=borrower)
            market.order(seller, "BTC_USDC", "Ask", "0.01", "55900")  # an ordinary trade
            ordinary = message(socket)
            assert market.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}}).is_success
            after = [message(socket)]
            while after[-1]["stream"] != "liquidation":
                after.append(message(socket))
            trades = [received["data"] for received in after if received["stream"] == "trade.BTC_USDC"]
            liquidations = [after[-1]["data"], *(data_on(socket, "liquidation") for _ in trades[1:])]

    assert ordinary["stream"] == "trade.BTC_USDC"
    orders = [received["data"] for received in after if received["stream"] == "account.orderUpdate"]
    assert {order["O"] for order in orders} == {"COLLATERAL_CONVERSION"}, "the borrower's orders: liquidation's"
    assert [order["e"] for order in orders][:2] == ["orderAccepted", "orderFill"]
    for liquidation in liquidations:
        assert_shape(liquidation, LIQUIDATION)
        assert (liquidation["e"], liquidation["s"], liquidation["S"]) == ("liquidation", "BTC_USDC", "Ask")
    sold = [(trade["q"], trade["p"], trade["T"]) for trade in trades]
    assert [(one["q"], one["p"], one["T"]) for one in liquidations] == sold, "one message per liquidation fill"
    assert liquidations[0]["p"] == "55900"


def test_trade_ticker_and_mark_price_carry_backpacks_fields() -> None:
    with live() as market:
        buyer, seller = market.account(USDC="100000"), market.account(BTC="1")
        with market.socket() as socket:
            subscribe(socket, "trade.BTC_USDC", "ticker.BTC_USDC", "markPrice.BTC_USDC_PERP")
            market.order(buyer, "BTC_USDC", "Bid", "0.1", "59000")
            market.order(seller, "BTC_USDC", "Ask", "0.1", "59000")
            trade = data_on(socket, "trade.BTC_USDC")
            ticker = data_on(socket, "ticker.BTC_USDC")
            assert market.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "61000"}}).is_success
            market.service.advance_clock(10)  # the perp mark's refresh
            mark = data_on(socket, "markPrice.BTC_USDC_PERP")

    assert_shape(trade, TRADE)
    assert_shape(ticker, TICKER)
    assert_shape(mark, MARK_PRICE)
    assert mark["n"] % 3_600_000 == 0, "next funding: a full hour"
    assert mark["T"] // 1000 < mark["n"] <= mark["T"] // 1000 + 3_600_000, "in milliseconds"


def test_a_refused_stream_leaves_the_others_of_its_request_in_effect() -> None:
    with live() as market:
        maker = market.account(USDC="100000")
        with market.socket() as socket:
            request = {"method": "SUBSCRIBE", "params": ["depth.BTC_USDC", "bookTicker.DOGE_USDC"], "id": 9}
            socket.send(json.dumps(request))
            unknown = message(socket)
            private = {"method": "SUBSCRIBE", "params": ["account.orderUpdate", "trade.BTC_USDC"], "id": 10}
            socket.send(json.dumps(private))
            unsigned = message(socket)
            market.order(maker, "BTC_USDC", "Bid", "0.1", "59000")
            depth = data_on(socket, "depth.BTC_USDC")

    assert unknown["id"] == 9
    assert unknown["error"]["code"] == 4006
    assert unknown["error"]["message"].startswith("Invalid stream 'bookTicker.DOGE_USDC'")
    assert (unsigned["id"], unsigned["error"]["code"]) == (10, 4003)
    assert depth["b"] == [["59000", "0.1"]], "the valid stream of the refused request was followed"


def test_a_position_subscription_starts_with_the_open_positions_without_an_event_type() -> None:
    with live() as market:
        long, short = market.account(USDC="2000"), market.account(USDC="100000")  # the long at 6x
        market.order(short, "BTC_USDC_PERP", "Ask", "0.2", "60000")
        market.order(long, "BTC_USDC_PERP", "Bid", "0.2", "60000")
        with market.socket() as socket:
            socket.send(json.dumps({"method": "SUBSCRIBE", "params": ["account.positionUpdate"], "id": 1}))
            socket.send(
                json.dumps(
                    {
                        "method": "SUBSCRIBE",
                        "params": ["account.positionUpdate.ETH_USDC_PERP"],
                        "id": 2,
                        "signature": signature(long),
                    }
                )
            )
            unsigned = message(socket)
            no_eth = message(socket)
            subscribe_with = {"method": "SUBSCRIBE", "params": ["account.positionUpdate"], "id": 3}
            socket.send(json.dumps(subscribe_with | {"signature": signature(long)}))
            snapshot, ack = message(socket), message(socket)
        rest = market.exchange.signed(long, "GET", "/api/v1/position", "positionQuery", {}).json()[0]

    assert unsigned["error"]["code"] == 4003
    assert no_eth == {"id": 2, "result": None}, "no ETH position: nothing before the acknowledgement"
    assert snapshot["stream"] == "account.positionUpdate"
    assert_shape(snapshot["data"], POSITION)
    data = snapshot["data"]
    assert (data["s"], data["q"]) == ("BTC_USDC_PERP", "0.2")
    assert (data["b"], data["B"], data["l"]) == (
        rest["breakEvenPrice"],
        rest["entryPrice"],
        rest["estLiquidationPrice"],
    )
    assert Decimal(0) < Decimal(data["l"]) < Decimal(60000), "a 6x long has a liquidation price below its entry"
    assert ack == {"id": 3, "result": None}


def test_the_server_negotiates_permessage_deflate(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    try:
        with connect(f"ws://127.0.0.1:{port}/", open_timeout=MISSING_MESSAGE_S) as socket:
            assert socket.response is not None
            extensions = socket.response.headers.get("Sec-WebSocket-Extensions", "")
            socket.send(json.dumps({"method": "SUBSCRIBE", "params": ["depth.BTC_USDC"], "id": 1}))
            ack = message(socket)
    finally:
        stop(server)

    assert extensions.startswith("permessage-deflate"), "the websockets client's offer was accepted"
    assert ack == {"id": 1, "result": None}, "and the compressed connection carries the protocol"


@pytest.mark.parametrize("name", ["depth.200ms.BTC_USDC", "depth.600ms.BTC_USDC", "depth.1000ms.BTC_USDC"])
def test_each_aggregated_depth_stream_is_served(name: str) -> None:
    with live() as market:
        maker = market.account(USDC="100000")
        with market.socket() as socket:
            subscribe(socket, name)
            market.order(maker, "BTC_USDC", "Bid", "0.1", "59000")
            (delay,) = market.timer.delays(1)
            market.timer.fire(delay)
            aggregated = data_on(socket, name)

    assert delay * 1000 == int(name.split(".")[1].removesuffix("ms"))
    assert aggregated["b"] == [["59000", "0.1"]]
