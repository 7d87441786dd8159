"""What the WebSocket suites share: an exchange with markets on a manual clock, reading a socket
with a bound, and uvicorn serving an app from a thread of the test process."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import uvicorn
from signing_client import ADMIN_TOKEN, Exchange
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.types import ASGIApp, Message

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MISSING_MESSAGE_S = 30
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


def open_service() -> Service:
    """Open a service on an in-memory journal with the demo assets and markets, at START_MS."""
    document = load_document()
    assets = parse_asset_specs(document)
    return Service.open(MemoryJournal(), ManualClock(START_MS), assets, parse_market_specs(document, assets))


@contextmanager
def exchange_with_markets() -> Iterator[tuple[Service, TestClient, Exchange]]:
    """Yield a fresh service, a test client of the whole app (HTTP and WebSocket) and its signing client, prices set."""
    service = open_service()
    try:
        with TestClient(create_app(service, ADMIN_TOKEN)) as client:
            exchange = Exchange(client)
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES}).status_code == 200
            yield service, client, exchange
    finally:
        service.close()


def next_frame(socket: WebSocketTestSession) -> Message:
    """Return the next thing the server sends (a message or its close), within the same bound as `next_message`."""

    async def within() -> Message:
        with anyio.fail_after(MISSING_MESSAGE_S):
            message: Message = await socket._send_rx.receive()  # TestClient has no receive timeout
            return message

    return socket.portal.call(within)


def next_message(socket: WebSocketTestSession) -> Any:
    """Return the next message; fail (rather than hang) if none comes within a generous bound.

    Every expected message is already built when the command that causes it returns (the
    service's listener runs before the reply), so the bound only turns a missing message into a
    failure; it is not a timing assertion.
    """

    message = next_frame(socket)
    assert message["type"] == "websocket.send", message
    return json.loads(message["text"])


def receive(socket: WebSocketTestSession, stream: str) -> dict[str, Any]:
    """Return the data of the next message, which must be on `stream`."""
    message = next_message(socket)
    assert message["stream"] == stream, message
    data: dict[str, Any] = message["data"]
    return data


@contextmanager
def uvicorn_serving(app: ASGIApp, listener: socket.socket, **config: Any) -> Iterator[int]:
    """Serve `app` from uvicorn on a bound loopback `listener`, in a thread of this process; yield the port."""
    port: int = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
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
