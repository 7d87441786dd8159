"""The `engine.update` stream: one message per batch that changed what the web page shows.

Order, trade and book churn alone sends nothing; a borrow, a deposit, a price, a settings change or
a clock advance each send one message naming the kinds of change, so a page knows to refetch. The
last test goes through uvicorn with a real WebSocket client, as a browser would connect.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.types import Message
from websockets.sync.client import connect

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
HOUR_MS = 3_600_000
MISSING_MESSAGE_S = 30
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


@dataclass
class Engine:
    """A fresh exchange with markets on a manual clock, its service and an HTTP + WebSocket client."""

    service: Service
    exchange: Exchange

    def account(self, **deposits: str) -> Keys:
        keys = self.exchange.new_account()
        for symbol, quantity in deposits.items():
            self.exchange.deposit(keys, symbol, quantity)
        return keys

    def borrow_lend(self, keys: Keys, side: str, quantity: str, symbol: str = "USDC") -> None:
        body = {"symbol": symbol, "side": side, "quantity": quantity}
        response = self.exchange.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body)
        assert response.status_code == 200, response.text

    def advance(self, seconds: int) -> int:
        response = self.exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": seconds})
        assert response.status_code == 200, response.text
        now: int = response.json()["now"]
        return now


def open_service() -> Service:
    document = load_document()
    assets = parse_asset_specs(document)
    return Service.open(MemoryJournal(), ManualClock(START_MS), assets, parse_market_specs(document, assets))


@pytest.fixture
def engine() -> Iterator[Engine]:
    service = open_service()
    try:
        with TestClient(create_app(service, ADMIN_TOKEN)) as client:
            exchange = Exchange(client)
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES}).status_code == 200
            yield Engine(service, exchange)
    finally:
        service.close()


def next_message(socket: WebSocketTestSession) -> Any:
    """Return the next message; fail (rather than hang) if none comes within a generous bound."""

    async def within() -> Message:
        with anyio.fail_after(MISSING_MESSAGE_S):
            message: Message = await socket._send_rx.receive()  # TestClient has no receive timeout
            return message

    message = socket.portal.call(within)
    assert message["type"] == "websocket.send", message
    return json.loads(message["text"])


@contextmanager
def following(engine: Engine) -> Iterator[WebSocketTestSession]:
    with engine.exchange.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 1})
        assert next_message(socket) == {"id": 1, "result": None}
        yield socket


def update(socket: WebSocketTestSession) -> dict[str, Any]:
    message = next_message(socket)
    assert message["stream"] == "engine.update", message
    data: dict[str, Any] = message["data"]
    return data


def test_a_clock_advance_that_charges_interest_sends_one_update(engine: Engine) -> None:
    engine.borrow_lend(engine.account(USDC="10000"), "Lend", "10000")
    engine.borrow_lend(engine.account(BTC="1"), "Borrow", "1000")
    with following(engine) as socket:
        now = engine.advance(3600)
        data = update(socket)
        engine.advance(1)
        quiet = update(socket)

    assert now == START_MS + HOUR_MS
    assert data == {"e": "engineUpdate", "E": now * 1000, "T": now, "k": ["clock", "interest"]}
    assert quiet == {"e": "engineUpdate", "E": (now + 1000) * 1000, "T": now + 1000, "k": ["clock"]}


def test_each_kind_of_change_is_named(engine: Engine) -> None:
    lender = engine.account(USDC="10000")
    borrower = engine.account(BTC="1")
    engine.borrow_lend(lender, "Lend", "10000")
    with following(engine) as socket:
        engine.exchange.deposit(borrower, "USDC", "5")
        deposited = update(socket)
        engine.borrow_lend(borrower, "Borrow", "100")
        borrowed = update(socket)
        settings = {"leverageLimit": "5"}
        assert (
            engine.exchange.signed(borrower, "PATCH", "/api/v1/account", "accountUpdate", settings).status_code == 200
        )
        updated = update(socket)
        engine.exchange.admin("POST", "/admin/v1/prices", {"prices": {**PRICES, "BTC": "61000"}})
        priced = update(socket)
        engine.exchange.new_account()
        created = update(socket)

    assert deposited["k"] == ["deposit"]
    assert borrowed["k"] == ["borrowLend"], "the borrow and its entry fee"
    assert updated["k"] == ["settings"]
    assert priced["k"] == ["prices"]
    assert created["k"] == ["accounts"]
    assert {data["T"] for data in (deposited, borrowed, updated, priced, created)} == {START_MS}


def test_order_churn_alone_sends_nothing(engine: Engine) -> None:
    maker = engine.account(USDC="100000")
    with following(engine) as socket:
        for price in ("59000", "59100"):
            command = PlaceOrder(
                SubaccountId(maker.subaccount_id),
                "BTC_USDC",
                OrderSide.BID,
                OrderType.LIMIT,
                parse_decimal("0.01", 8),
                parse_decimal(price, 18),
            )
            assert isinstance(engine.service.execute(command), Accepted)
        engine.exchange.deposit(maker, "USDC", "1")
        first = update(socket)

    assert first["k"] == ["deposit"], "the two resting orders sent no update"


def test_a_bad_subscription_names_engine_update_among_the_streams(engine: Engine) -> None:
    with engine.exchange.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["engine.updates"], "id": 3})
        refused = next_message(socket)

    assert refused["error"]["code"] == 4002
    assert "engine.update" in refused["error"]["message"]


@contextmanager
def live_app(service: Service) -> Iterator[int]:
    """Serve the whole application from uvicorn on a loopback port in this process; yield the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service, ADMIN_TOKEN), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_real_websocket_client_hears_a_clock_advance() -> None:
    service = open_service()
    try:
        with live_app(service) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with connect(f"ws://127.0.0.1:{port}/ws") as client:
                client.send(json.dumps({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 9}))
                assert json.loads(client.recv(timeout=MISSING_MESSAGE_S)) == {"id": 9, "result": None}
                advanced = http.post("/admin/v1/clock/advance", json={"seconds": 7200}, headers=headers)
                message = json.loads(client.recv(timeout=MISSING_MESSAGE_S))
    finally:
        service.close()

    assert advanced.status_code == 200
    now = START_MS + 2 * HOUR_MS
    assert advanced.json() == {"now": now}
    assert message == {
        "stream": "engine.update",
        "data": {"e": "engineUpdate", "E": now * 1000, "T": now, "k": ["clock"]},
    }
