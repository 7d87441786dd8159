"""Backpack's WebSocket streams through the ASGI app: subscribe, refusals, every stream's messages.

Orders are placed through the service in-process (as the REST order routes would place them);
what is checked is what a client reads on the socket. Each test asks for an acknowledgement
(`"id"`) so that its subscription is known to be in place before the first order.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from nacl.signing import SigningKey
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.applications import Starlette
from starlette.testclient import TestClient, WebSocketTestSession
from stream_harness import (
    MISSING_MESSAGE_S,
    PRICES,
    START_MS,
    exchange_with_markets,
    next_frame,
    next_message,
    receive,
    uvicorn_serving,
)
from websockets.sync.client import connect

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.context import ApiContext
from crossmargin.api.streams import StreamHub, stream_routes
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import CancelAllOrders, CancelOrder, CreateAccount, Deposit, PlaceOrder
from crossmargin.core.engine import Accepted
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import OrderId, OrderSide, OrderType, TimeInForce
from crossmargin.market_config import parse_market_specs

OPCODE_TEXT = 0x1
OPCODE_CLOSE = 0x8


@dataclass
class Streams:
    """A fresh exchange with markets, its service and a test client that speaks HTTP and WebSocket."""

    service: Service
    client: TestClient
    exchange: Exchange

    def account(self, **deposits: str) -> Keys:
        keys = self.exchange.new_account()
        for symbol, quantity in deposits.items():
            self.exchange.deposit(keys, symbol, quantity)
        return keys

    def place(
        self,
        keys: Keys,
        market: str,
        side: str,
        quantity: str,
        price: str | None = None,
        tif: TimeInForce = TimeInForce.GTC,
    ) -> OrderId:
        spec = self.service.read(lambda state: state.markets[market])
        command = PlaceOrder(
            SubaccountId(keys.subaccount_id),
            market,
            OrderSide.BID if side == "buy" else OrderSide.ASK,
            OrderType.LIMIT if price else OrderType.MARKET,
            parse_decimal(quantity, spec.base_decimals),
            parse_decimal(price, 18) if price else None,
            time_in_force=tif,
        )
        result = self.service.execute(command)
        assert isinstance(result, Accepted), result
        return self.service.read(lambda state: OrderId(state.next_order_id - 1))


@pytest.fixture
def streams() -> Iterator[Streams]:
    with exchange_with_markets() as (service, client, exchange):
        yield Streams(service, client, exchange)


def signature(keys: Keys, timestamp_ms: int | None = None, window_ms: int = 5000) -> list[str]:
    """Sign a subscription as ccxt does: `instruction=subscribe&timestamp=..&window=..`."""
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    text = f"instruction=subscribe&timestamp={timestamp}&window={window_ms}"
    signed = SigningKey(base64.b64decode(keys.api_secret)).sign(text.encode()).signature
    return [keys.api_key, base64.b64encode(signed).decode(), str(timestamp), str(window_ms)]


def subscribe(socket: WebSocketTestSession, *names: str, keys: Keys | None = None) -> None:
    request: dict[str, Any] = {"method": "SUBSCRIBE", "params": list(names), "id": 7}
    if keys is not None:
        request["signature"] = signature(keys)
    socket.send_json(request)
    assert next_message(socket) == {"id": 7, "result": None}


def test_depth_sends_changed_levels_with_ids_that_follow_on(streams: Streams) -> None:
    maker = streams.account(USDC="100000")
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "depth.BTC_USDC")
        streams.place(maker, "BTC_USDC", "buy", "0.1", "59000")
        placed_ms = streams.service.now_ms()
        first = receive(socket, "depth.BTC_USDC")
        order = streams.place(maker, "BTC_USDC", "buy", "0.2", "59000")
        second = receive(socket, "depth.BTC_USDC")
        streams.service.execute(CancelOrder(SubaccountId(maker.subaccount_id), "BTC_USDC", order))
        third = receive(socket, "depth.BTC_USDC")
        depth = streams.client.get("/api/v1/depth", params={"symbol": "BTC_USDC"}).json()

    assert (first["e"], first["s"], first["a"], first["b"]) == ("depth", "BTC_USDC", [], [["59000", "0.1"]])
    assert second["b"] == [["59000", "0.3"]], "a level reports its total after the change"
    assert third["b"] == [["59000", "0.1"]]
    assert second["U"] == first["u"] + 1, "U is the previous u + 1"
    assert third["U"] == second["u"] + 1
    assert third["u"] == int(depth["lastUpdateId"]), "u is the lastUpdateId of GET /api/v1/depth after the batch"
    assert depth["bids"] == [["59000", "0.1"]]
    assert first["E"] == placed_ms * 1000, "times are microseconds"


def test_a_filled_level_goes_to_zero_and_the_trade_ticker_follow(streams: Streams) -> None:
    buyer = streams.account(USDC="100000")
    seller = streams.account(BTC="1")
    with streams.client.websocket_connect("/") as socket:
        subscribe(socket, "depth.BTC_USDC", "trade.BTC_USDC", "ticker.BTC_USDC")
        bid = streams.place(buyer, "BTC_USDC", "buy", "0.1", "59000")
        receive(socket, "depth.BTC_USDC")
        bid_ms = streams.service.now_ms()
        ask = streams.place(seller, "BTC_USDC", "sell", "0.1", "58000")
        traded_ms = streams.service.now_ms()
        trade = receive(socket, "trade.BTC_USDC")
        depth = receive(socket, "depth.BTC_USDC")
        ticker = receive(socket, "ticker.BTC_USDC")

    assert traded_ms == bid_ms + 1, "the next command, the next millisecond"
    assert trade == {
        "e": "trade",
        "E": traded_ms * 1000,
        "s": "BTC_USDC",
        "p": "59000",
        "q": "0.1",
        "b": str(bid),
        "a": str(ask),
        "t": 1,
        "T": traded_ms * 1000,
        "m": True,
    }
    assert depth["b"] == [["59000", "0"]], "an emptied level is sent with quantity 0"
    assert depth["a"] == [], "a taker that never rested changes no level"
    assert ticker == {
        "e": "ticker",
        "E": traded_ms * 1000,
        "s": "BTC_USDC",
        "o": "59000",
        "c": "59000",
        "h": "59000",
        "l": "59000",
        "v": "0.1",
        "V": "5900",
        "n": 1,
    }


def test_ticker_rolls_over_24_hours_of_fills(streams: Streams) -> None:
    buyer = streams.account(USDC="1000000")
    seller = streams.account(BTC="10")
    for price in ("59000", "61000"):
        streams.place(buyer, "BTC_USDC", "buy", "0.1", price)
        streams.place(seller, "BTC_USDC", "sell", "0.1", price)
    streams.service.advance_clock(24 * 3600)
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "ticker.BTC_USDC")
        streams.place(buyer, "BTC_USDC", "buy", "0.2", "60000")
        streams.place(seller, "BTC_USDC", "sell", "0.2", "60000")
        ticker = receive(socket, "ticker.BTC_USDC")

    assert (ticker["o"], ticker["h"], ticker["l"], ticker["v"], ticker["n"]) == ("60000", "60000", "60000", "0.2", 1)


def test_kline_sends_the_candle_of_each_trade_and_closes_it_when_its_minute_ends(streams: Streams) -> None:
    buyer = streams.account(USDC="1000000")
    seller = streams.account(BTC="10")
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "kline.1m.BTC_USDC")
        streams.place(buyer, "BTC_USDC", "buy", "0.1", "60000")
        streams.place(seller, "BTC_USDC", "sell", "0.1", "60000")
        traded_ms = streams.service.now_ms()
        first = receive(socket, "kline.1m.BTC_USDC")
        streams.service.advance_clock(20)
        streams.place(buyer, "BTC_USDC", "buy", "0.2", "60100")
        streams.place(seller, "BTC_USDC", "sell", "0.2", "60100")
        second = receive(socket, "kline.1m.BTC_USDC")
        streams.service.advance_clock(40)
        closed_ms = streams.service.now_ms()
        closed = receive(socket, "kline.1m.BTC_USDC")

    assert first == {
        "e": "kline",
        "E": traded_ms * 1000,
        "s": "BTC_USDC",
        "t": "2026-01-01T00:00:00",
        "T": "2026-01-01T00:01:00",
        "o": "60000",
        "c": "60000",
        "h": "60000",
        "l": "60000",
        "v": "0.1",
        "n": 1,
        "X": False,
    }
    assert (second["o"], second["c"], second["h"], second["l"], second["v"], second["n"], second["X"]) == (
        "60000",
        "60100",
        "60100",
        "60000",
        "0.3",
        2,
        False,
    )
    assert closed_ms == traded_ms + 60_000 + 2, "20 s, two orders 1 ms apart, then 40 s"
    assert closed == {**second, "E": closed_ms * 1000, "X": True}, "the minute ended: the candle closes"


def test_mark_price_follows_index_prices_and_perp_marks(streams: Streams) -> None:
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "markPrice.BTC_USDC", "markPrice.BTC_USDC_PERP")
        streams.exchange.admin("POST", "/admin/v1/prices", {"prices": {**PRICES, "BTC": "61000"}})
        spot = receive(socket, "markPrice.BTC_USDC")
        streams.service.advance_clock(10)
        perp = receive(socket, "markPrice.BTC_USDC_PERP")

    assert (spot["e"], spot["p"], spot["i"], spot["f"]) == ("markPrice", "61000", "61000", "0")
    assert (perp["s"], perp["p"], perp["i"]) == ("BTC_USDC_PERP", "61000", "61000")
    assert perp["n"] == START_MS + 3_600_000, "the next funding is at the next full hour, in ms as Backpack sends it"
    assert perp["E"] == perp["T"] >= START_MS * 1000, "the other times are µs"


def test_order_updates_reach_only_their_subaccount(streams: Streams) -> None:
    buyer = streams.account(USDC="100000")
    seller = streams.account(BTC="1")
    with (
        streams.client.websocket_connect("/ws") as mine,
        streams.client.websocket_connect("/ws") as theirs,
    ):
        subscribe(mine, "account.orderUpdate", keys=buyer)
        subscribe(theirs, "account.orderUpdate.BTC_USDC", keys=seller)
        bid = streams.place(buyer, "BTC_USDC", "buy", "0.3", "59000")
        accepted = receive(mine, "account.orderUpdate")
        streams.place(seller, "BTC_USDC", "sell", "0.1", "59000")
        maker_fill = receive(mine, "account.orderUpdate")
        taker = [receive(theirs, "account.orderUpdate.BTC_USDC") for _ in range(2)]
        streams.service.execute(CancelOrder(SubaccountId(buyer.subaccount_id), "BTC_USDC", bid))
        cancelled = receive(mine, "account.orderUpdate")

    assert accepted | {"E": 0, "T": 0} == {
        "e": "orderAccepted",
        "E": 0,
        "s": "BTC_USDC",
        "S": "Bid",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.3",
        "p": "59000",
        "X": "New",
        "i": str(bid),
        "z": "0",
        "Z": "0",
        "V": "RejectTaker",
        "r": False,
        "y": False,
        "O": "USER",
        "T": 0,
    }
    assert (maker_fill["e"], maker_fill["X"], maker_fill["l"], maker_fill["L"], maker_fill["z"]) == (
        "orderFill",
        "PartiallyFilled",
        "0.1",
        "59000",
        "0.1",
    )
    assert (maker_fill["m"], maker_fill["N"], maker_fill["t"]) == (True, "BTC", 1)
    assert [update["e"] for update in taker] == ["orderAccepted", "orderFill"], "a taker is accepted, then fills"
    assert (taker[1]["X"], taker[1]["m"], taker[1]["N"], taker[1]["Z"]) == ("Filled", False, "USDC", "5900")
    assert (cancelled["e"], cancelled["X"], cancelled["z"]) == ("orderCancelled", "Cancelled", "0.1")


def test_an_unfilled_immediate_order_is_reported_expired(streams: Streams) -> None:
    buyer = streams.account(USDC="100000")
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "account.orderUpdate", keys=buyer)
        streams.place(buyer, "BTC_USDC", "buy", "0.1", "59000", tif=TimeInForce.IOC)
        expired = receive(socket, "account.orderUpdate")

    assert (expired["e"], expired["X"], expired["R"], expired["f"]) == (
        "orderExpired",
        "Expired",
        "ImmediateOrCancel",
        "IOC",
    )


def test_position_updates_open_adjust_and_close(streams: Streams) -> None:
    long = streams.account(USDC="100000")
    short = streams.account(USDC="100000")
    third = streams.account(USDC="100000")
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "account.positionUpdate", keys=long)
        streams.place(short, "BTC_USDC_PERP", "sell", "0.3", "60000")
        streams.place(long, "BTC_USDC_PERP", "buy", "0.2", "60000")
        opened = receive(socket, "account.positionUpdate")
        streams.place(long, "BTC_USDC_PERP", "buy", "0.1", "60000")
        adjusted = receive(socket, "account.positionUpdate")
        streams.place(third, "BTC_USDC_PERP", "buy", "0.3", "60000")
        streams.place(long, "BTC_USDC_PERP", "sell", "0.3", "59000")
        closed = receive(socket, "account.positionUpdate")

    assert (opened["e"], opened["s"], opened["q"], opened["Q"], opened["B"], opened["M"]) == (
        "positionOpened",
        "BTC_USDC_PERP",
        "0.2",
        "0.2",
        "60000",
        "60000",
    )
    assert (opened["n"], opened["f"], opened["m"], opened["p"]) == ("12000", "0.1", "0.00666667", "0"), (
        "IMF floors at 1 / leverage (10x)"
    )
    assert (adjusted["e"], adjusted["q"]) == ("positionAdjusted", "0.3")
    assert (closed["e"], closed["q"]) == ("positionClosed", "0")


def test_balance_updates_follow_deposits_and_orders(streams: Streams) -> None:
    buyer = streams.account()
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "account.balanceUpdate", keys=buyer)
        streams.exchange.deposit(buyer, "USDC", "10000")
        deposited = receive(socket, "account.balanceUpdate")
        streams.place(buyer, "BTC_USDC", "buy", "0.1", "59000")
        locked = receive(socket, "account.balanceUpdate")

    assert deposited | {"E": 0, "T": 0} == {
        "e": "balanceUpdate",
        "E": 0,
        "a": "USDC",
        "A": "10000",
        "L": "0",
        "S": "0",
        "l": "0",
        "b": "0",
        "T": 0,
    }
    assert (locked["a"], locked["A"], locked["L"]) == ("USDC", "4100", "5900")


def test_unsubscribe_stops_the_stream(streams: Streams) -> None:
    maker = streams.account(USDC="100000")
    with streams.client.websocket_connect("/ws") as socket:
        subscribe(socket, "depth.BTC_USDC", "trade.BTC_USDC")
        socket.send_json({"method": "UNSUBSCRIBE", "params": ["depth.BTC_USDC"], "id": 8})
        assert next_message(socket) == {"id": 8, "result": None}
        streams.place(maker, "BTC_USDC", "buy", "0.1", "59000")
        subscribe(socket, "depth.ETH_USDC")
        streams.place(maker, "ETH_USDC", "buy", "1", "2900")
        message = next_message(socket)

    assert message["stream"] == "depth.ETH_USDC", "nothing arrived from the unsubscribed BTC book"


@pytest.mark.parametrize(
    ("request_body", "code", "words"),
    [
        ({"method": "SUBSCRIBE", "params": ["depth.DOGE_USDC"]}, 4006, "Invalid stream 'depth.DOGE_USDC'"),
        ({"method": "SUBSCRIBE", "params": ["depth.100ms.BTC_USDC"]}, 4006, "depth.<200ms|600ms|1000ms>.<symbol>"),
        ({"method": "SUBSCRIBE", "params": ["openInterest.BTC_USDC"]}, 4006, "BTC_USDC is a spot market"),
        ({"method": "LIST", "params": ["depth.BTC_USDC"]}, 4000, "SUBSCRIBE or UNSUBSCRIBE"),
        ({"method": "SUBSCRIBE", "params": []}, 4000, "non-empty list"),
        ({"method": "SUBSCRIBE", "params": ["account.orderUpdate"]}, 4003, "need signature"),
        (
            {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": ["a", "b"]},
            4000,
            "[apiKey, signature, timestamp, window]",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    streams: Streams, request_body: dict[str, Any], code: int, words: str
) -> None:
    with streams.client.websocket_connect("/ws") as socket:
        socket.send_json(request_body)
        refusal = next_message(socket)

    assert refusal["error"]["code"] == code
    assert words in refusal["error"]["message"]


def test_a_subscription_signed_with_another_key_or_too_late_is_refused(streams: Streams) -> None:
    mine = streams.account(USDC="1000")
    other = streams.account()
    forged = [mine.api_key, *signature(other)[1:]]
    stale = signature(mine, timestamp_ms=int(time.time() * 1000) - 60_000)
    with streams.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": forged})
        bad = next_message(socket)
        socket.send_json({"method": "SUBSCRIBE", "params": ["account.balanceUpdate"], "signature": stale})
        late = next_message(socket)
        socket.send_text("not json")
        garbled = next_message(socket)
        subscribe(socket, "account.balanceUpdate", keys=other)
        streams.exchange.deposit(mine, "USDC", "5")
        streams.exchange.deposit(other, "USDC", "7")
        only_theirs = receive(socket, "account.balanceUpdate")

    assert bad["error"]["code"] == 4003
    assert "Invalid signature" in bad["error"]["message"]
    assert "expired" in late["error"]["message"]
    assert garbled["error"]["code"] == 4000
    assert only_theirs["A"] == "7", "a refused subscription follows nothing; the accepted one sees its own account"


def test_a_revoked_key_is_cut_off_from_what_it_subscribed_while_other_keys_go_on(streams: Streams) -> None:
    owner = streams.account(USDC="1000")
    seed = bytes(range(32))
    device = Keys(
        owner.subaccount_id,
        owner.account_id,
        base64.b64encode(bytes(SigningKey(seed).verify_key)).decode(),
        base64.b64encode(seed).decode(),
    )
    path = "/wapi/v1/apiKeys"
    added = streams.exchange.signed(owner, "POST", path, "apiKeyCreate", {"publicKey": device.api_key})
    assert added.status_code == 200, added.text
    with (
        streams.client.websocket_connect("/ws") as on_device,
        streams.client.websocket_connect("/ws") as on_owner,
    ):
        subscribe(on_device, "account.balanceUpdate", "depth.BTC_USDC", keys=device)
        subscribe(on_owner, "account.balanceUpdate", keys=owner)
        streams.exchange.deposit(owner, "USDC", "3")
        before = receive(on_device, "account.balanceUpdate")
        assert receive(on_owner, "account.balanceUpdate")["A"] == "1003"
        revoked = streams.exchange.signed(owner, "DELETE", path, "apiKeyRevoke", {"publicKey": device.api_key})
        assert revoked.status_code == 200, revoked.text
        closed = next_frame(on_device)
        streams.exchange.deposit(owner, "USDC", "5")
        after = receive(on_owner, "account.balanceUpdate")

    assert before["A"] == "1003", "the device key followed the account until revoked"
    assert closed["type"] == "websocket.close", "nothing more reaches a revoked key's connection"
    assert (closed["code"], closed["reason"]) == (1008, "API key revoked: subscribe again signed with a valid key")
    assert after["A"] == "1008", "the owner's key, still valid, goes on"
    assert streams.service.read(lambda state: device.api_key not in state.api_keys)


# A client that stops reading --------------------------------------------------------------------


@contextmanager
def live_streams(service: Service, queue_size: int) -> Iterator[tuple[StreamHub, int]]:
    """Serve only the streams, over `service`, from uvicorn on a loopback port in this process."""
    hub = StreamHub(service, queue_size)
    app = Starlette(routes=stream_routes(ApiContext(service, ADMIN_TOKEN), hub))
    listener = socket.socket()
    # Accepted connections inherit a small send buffer (and no autotuning), so a client that stops
    # reading blocks the server's writes after kilobytes rather than megabytes.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    listener.bind(("127.0.0.1", 0))
    try:
        with uvicorn_serving(app, listener, ws="websockets-sansio") as port:
            yield hub, port
    finally:
        hub.close()


def frame(text: str) -> bytes:
    """Encode a client text frame (masked, as RFC 6455 requires of clients)."""
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126, "short frames are enough here"
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Read one unmasked server frame: (opcode, payload)."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            assert chunk, "the server closed the connection without a close frame"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    elif length == 127:
        length = int.from_bytes(exactly(8), "big")
    return first & 0x0F, exactly(length)


def stalled_client(port: int, stream: str) -> socket.socket:
    """Open a WebSocket by hand with a tiny receive buffer, subscribe, read the ack, then stop reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    sock.sendall(frame(json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 1})))
    assert read_frame(sock) == (0x1, b'{"id":1,"result":null}')
    return sock


READER_LAG_ALLOWED = 16  # well under the queue of 64 the test gives each client


def test_a_client_that_stops_reading_is_dropped_while_others_and_the_sequencer_go_on() -> None:
    document = load_document()
    assets = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), assets, parse_market_specs(document, assets))
    try:
        created = service.execute(CreateAccount())
        assert isinstance(created, Accepted)
        sub = next(event.subaccount_id for event in created.events if isinstance(event, AccountCreated))
        assert isinstance(service.execute(Deposit(sub, "USDC", 10**15)), Accepted)
        price = 50_000 * WAD
        placed = cancels = 0

        def place() -> None:
            nonlocal price, placed
            price += WAD // 10
            placed += 1
            command = PlaceOrder(sub, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, 1000, price)
            assert isinstance(service.execute(command, MISSING_MESSAGE_S), Accepted), "the sequencer goes on"

        with live_streams(service, queue_size=64) as (hub, port):
            stalled = stalled_client(port, "depth.BTC_USDC")
            with connect(f"ws://127.0.0.1:{port}/") as reader:
                reader.send(json.dumps({"method": "SUBSCRIBE", "params": ["depth.BTC_USDC"], "id": 2}))
                assert json.loads(reader.recv(timeout=MISSING_MESSAGE_S)) == {"id": 2, "result": None}
                last_ids: list[int] = []
                target: list[int] = []

                def read_all() -> None:
                    while not target or len(last_ids) < target[0]:
                        last_ids.append(json.loads(reader.recv(timeout=MISSING_MESSAGE_S))["data"]["u"])

                def keep_pace_with_the_reader() -> None:
                    # The reader is a Python thread sharing the GIL with the sequencer: on a loaded machine it can
                    # fall 64 messages behind and be dropped too. Waiting for it keeps its server queue short,
                    # while the stalled client, which reads nothing, still fills its own.
                    deadline = time.monotonic() + MISSING_MESSAGE_S
                    while len(last_ids) < placed + cancels - READER_LAG_ALLOWED and reading.is_alive():
                        assert time.monotonic() < deadline, f"the reading client is stuck at {len(last_ids)} updates"
                        time.sleep(0.001)

                reading = threading.Thread(target=read_all)
                reading.start()
                rounds = 0
                while hub.broadcaster.dropped_count == 0:
                    rounds += 1
                    assert rounds <= 100, "100 rounds of 200 orders never filled the stalled client's queue"
                    for _ in range(200):  # one by one: a message each
                        place()
                        keep_pace_with_the_reader()
                    cancelled = service.execute(CancelAllOrders(sub, "BTC_USDC"), MISSING_MESSAGE_S)
                    assert isinstance(cancelled, Accepted)
                    cancels += 1
                target.append(placed + cancels + 1)  # before the last order, whose update ends the reading
                place()
                reading.join(MISSING_MESSAGE_S)
                assert not reading.is_alive(), f"the reading client got {len(last_ids)} of {target} updates"
            frames = [read_frame(stalled)]
            while frames[-1][0] != OPCODE_CLOSE:
                frames.append(read_frame(stalled))
            stalled.close()
    finally:
        service.close()

    assert hub.broadcaster.dropped_count == 1, "only the stalled client was dropped"
    assert len(last_ids) == placed + cancels, "the reading client got one update per command, none lost"
    assert last_ids == sorted(set(last_ids)), "update ids only grow"
    close_code = int.from_bytes(frames[-1][1][:2], "big")
    assert close_code == 1008
    assert frames[-1][1][2:].startswith(b"Slow consumer"), frames[-1][1]
    assert all(opcode == OPCODE_TEXT for opcode, _ in frames[:-1]), "before the close frame, only the messages it had"
