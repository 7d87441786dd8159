"""The `engine.update` stream: one message per batch that changed what the web page shows.

Order, trade and book churn alone sends nothing; a borrow, a deposit, a price, a settings change or
a clock advance each send one message naming the kinds of change, so a page knows to refetch. The
last test goes through uvicorn with a real WebSocket client, as a browser would connect.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import WebSocketTestSession
from stream_harness import (
    MISSING_MESSAGE_S,
    PRICES,
    START_MS,
    exchange_with_markets,
    next_message,
    open_service,
    receive,
    uvicorn_serving,
)
from websockets.sync.client import connect

from crossmargin.api.app import create_app
from crossmargin.app.service import Service
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.orders import OrderSide, OrderType

HOUR_MS = 3_600_000


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
        response = self.exchange.borrow_lend(keys, side, quantity, symbol)
        assert response.status_code == 200, response.text

    def advance(self, seconds: int) -> int:
        response = self.exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": seconds})
        assert response.status_code == 200, response.text
        now: int = response.json()["now"]
        return now


@pytest.fixture
def engine() -> Iterator[Engine]:
    with exchange_with_markets() as (service, _, exchange):
        yield Engine(service, exchange)


@contextmanager
def following(engine: Engine) -> Iterator[WebSocketTestSession]:
    with engine.exchange.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 1})
        assert next_message(socket) == {"id": 1, "result": None}
        yield socket


def update(socket: WebSocketTestSession) -> dict[str, Any]:
    return receive(socket, "engine.update")


def test_a_clock_advance_that_charges_interest_sends_one_update(engine: Engine) -> None:
    engine.borrow_lend(engine.account(USDC="10000"), "Lend", "10000")
    engine.borrow_lend(engine.account(BTC="1"), "Borrow", "1000")
    before = engine.service.now_ms()
    with following(engine) as socket:
        now = engine.advance(3600)
        data = update(socket)
        engine.advance(1)
        quiet = update(socket)

    assert now == before + HOUR_MS, "an hour after the last command's time"
    assert data == {"e": "engineUpdate", "E": now * 1000, "T": now, "k": ["clock", "interest"]}
    assert quiet == {"e": "engineUpdate", "E": (now + 1000) * 1000, "T": now + 1000, "k": ["clock"]}


def test_each_kind_of_change_is_named(engine: Engine) -> None:
    lender = engine.account(USDC="10000")
    borrower = engine.account(BTC="1")
    engine.borrow_lend(lender, "Lend", "10000")
    before = engine.service.now_ms()
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
    assert [data["T"] for data in (deposited, borrowed, updated, priced, created)] == [
        before + 1 + step for step in range(5)
    ], "on the manual clock each command at its own millisecond"


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

    assert refused["error"]["code"] == 4006, "Backpack's code for an invalid stream"
    assert "engine.update" in refused["error"]["message"]


@contextmanager
def live_app(service: Service) -> Iterator[int]:
    """Serve the whole application from uvicorn on a loopback port in this process; yield the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    with uvicorn_serving(create_app(service, ADMIN_TOKEN), listener) as port:
        yield port


def test_a_real_websocket_client_hears_a_clock_advance() -> None:
    service = open_service()
    listed_ms = service.now_ms()
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
    assert listed_ms == START_MS + 1, "the assets listed at START_MS, the markets 1 ms after"
    now = listed_ms + 2 * HOUR_MS
    assert advanced.json() == {"now": now}
    assert message == {
        "stream": "engine.update",
        "data": {"e": "engineUpdate", "E": now * 1000, "T": now, "k": ["clock"]},
    }
