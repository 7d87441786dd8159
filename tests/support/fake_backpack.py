"""A local stand-in for Backpack's public price API, on 127.0.0.1, for the price mirror's tests.

It serves `GET /api/v1/markPrices`, `GET /api/v1/tickers` and the WebSocket at `/` (streams
`markPrice.<symbol>` and `ticker.<symbol>`, wrapped as `{"stream", "data"}`) in Backpack's shapes:
the rows start from the recorded samples in Backpack's reference (`MARK_PRICE_SAMPLE`,
`TICKER_SAMPLE`), the stream payloads follow its documented `markPrice` / `ticker` events.

Controls, callable from the test's thread: `set_index` / `set_last` move a price (streams push
the change at once), `raw_rest` replaces a path's answer with any status and bytes, `trickle`
sends REST bodies a byte at a time, `raw_stream` sends any text to subscribers, `stall()` / `resume()` make REST hang and streams go silent
with their connections open, and `stop()` / `start()` take the whole server away and bring it
back on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

MARK_PRICE_SAMPLE: Final[dict[str, Any]] = {
    # GET /api/v1/markPrices?symbol=BTC_USDC_PERP, one element, as recorded (ccxt parse_funding_rate comment).
    "fundingRate": "0.0001",
    "indexPrice": "118333.18643195",
    "markPrice": "118343.51853741",
    "nextFundingTimestamp": 1753113600000,
    "symbol": "BTC_USDC_PERP",
}
TICKER_SAMPLE: Final[dict[str, Any]] = {
    # GET /api/v1/tickers, one element, as recorded (ccxt parse_ticker comment).
    "firstPrice": "327.38",
    "high": "337.99",
    "lastPrice": "317.14",
    "low": "300.01",
    "priceChange": "-10.24",
    "priceChangePercent": "-0.031279",
    "quoteVolume": "21584.32278",
    "symbol": "AAVE_USDC",
    "trades": "245",
    "volume": "65.823",
}
PUSH_SECONDS: Final = 0.5
STALL_SECONDS_MAX: Final = 60.0


def _mark_row(symbol: str, index: str, mark: str) -> dict[str, Any]:
    return {**copy.deepcopy(MARK_PRICE_SAMPLE), "symbol": symbol, "indexPrice": index, "markPrice": mark}


def _ticker_row(symbol: str, last: str) -> dict[str, Any]:
    return {**copy.deepcopy(TICKER_SAMPLE), "symbol": symbol, "lastPrice": last}


def default_marks() -> dict[str, dict[str, Any]]:
    """Perps as Backpack lists them: BTC as recorded, ETH and SOL in the same shape, and one we do not list."""
    rows = [
        copy.deepcopy(MARK_PRICE_SAMPLE),
        _mark_row("ETH_USDC_PERP", "3612.5", "3613.01"),
        _mark_row("SOL_USDC_PERP", "187.2345", "187.25"),
        _mark_row("DOGE_USDC_PERP", "0.24", "0.2401"),
    ]
    return {row["symbol"]: row for row in rows}


def default_tickers() -> dict[str, dict[str, Any]]:
    """Spot tickers: AAVE as recorded (not ours), USDT (ours, no perp) and BTC spot (its perp wins)."""
    rows = [copy.deepcopy(TICKER_SAMPLE), _ticker_row("USDT_USDC", "1.0002"), _ticker_row("BTC_USDC", "118000")]
    return {row["symbol"]: row for row in rows}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class FakeBackpack:
    """Backpack's public price API on loopback; see the module docstring."""

    def __init__(self) -> None:
        self.port = free_port()
        self.marks = default_marks()
        self.tickers = default_tickers()
        self.requests: Counter[str] = Counter()
        self.subscriptions: list[list[str]] = []
        self.connections = 0
        self._raw_rest: dict[str, tuple[int, bytes]] = {}
        self._raw_stream: list[str] = []
        self._lock = threading.Lock()
        self._version = 0
        self._stalled = False
        self._trickle: float | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # controls

    def set_index(self, symbol: str, index: str) -> None:
        with self._lock:
            self.marks[symbol]["indexPrice"] = index
            self._version += 1

    def set_last(self, symbol: str, last: str) -> None:
        with self._lock:
            self.tickers[symbol]["lastPrice"] = last
            self._version += 1

    def raw_rest(self, path: str, status: int, body: bytes) -> None:
        with self._lock:
            self._raw_rest[path] = (status, body)

    def clear_raw_rest(self) -> None:
        with self._lock:
            self._raw_rest.clear()

    def raw_stream(self, text: str) -> None:
        with self._lock:
            self._raw_stream.append(text)
            self._version += 1

    def trickle(self, seconds_per_byte: float | None) -> None:
        """Send REST bodies one byte at a time, this many seconds apart (None: at once)."""
        self._trickle = seconds_per_byte

    def stall(self) -> None:
        self._stalled = True

    def resume(self) -> None:
        self._stalled = False

    def start(self) -> FakeBackpack:
        assert self._server is None, "the fake is already running"
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-backpack", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "the fake Backpack did not start"
            assert time.monotonic() < deadline, "the fake Backpack did not start within 10 s"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        assert self._thread is not None
        self._thread.join(10)
        assert not self._thread.is_alive(), "the fake Backpack stopped"
        self._server = None

    # the app

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/markPrices", self._mark_prices),
                Route("/api/v1/tickers", self._tickers),
                WebSocketRoute("/", self._stream),
            ]
        )

    async def _wait_while_stalled(self) -> None:
        deadline = time.monotonic() + STALL_SECONDS_MAX
        # The test's thread stalls and resumes: a flag polled here, as an asyncio.Event is not thread-safe.
        while self._stalled and time.monotonic() < deadline and not self._exiting():  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    def _exiting(self) -> bool:
        server = self._server
        return server is None or server.should_exit

    async def _rest(self, path: str, rows: dict[str, dict[str, Any]]) -> Response:
        self.requests[path] += 1
        await self._wait_while_stalled()
        with self._lock:
            raw = self._raw_rest.get(path)
            body = json.dumps(list(rows.values())).encode() if raw is None else raw[1]
        status, media_type = (200 if raw is None else raw[0]), "application/json; charset=utf-8"
        pause = self._trickle
        if pause is None:
            return Response(body, status_code=status, media_type=media_type)

        async def one_byte_at_a_time() -> AsyncIterator[bytes]:
            for index in range(len(body)):
                if self._exiting():
                    return
                await asyncio.sleep(pause)
                yield body[index : index + 1]

        return StreamingResponse(one_byte_at_a_time(), status_code=status, media_type=media_type)

    async def _mark_prices(self, _request: Request) -> Response:
        return await self._rest("/api/v1/markPrices", self.marks)

    async def _tickers(self, _request: Request) -> Response:
        return await self._rest("/api/v1/tickers", self.tickers)

    def _event(self, stream: str) -> dict[str, Any] | None:
        kind, _, symbol = stream.partition(".")
        now_us = time.time_ns() // 1000
        if kind == "markPrice" and symbol in self.marks:
            row = self.marks[symbol]
            return {
                "e": "markPrice",
                "E": now_us,
                "s": symbol,
                "p": row["markPrice"],
                "f": row["fundingRate"],
                "i": row["indexPrice"],
                "n": row["nextFundingTimestamp"],
                "T": now_us - 1,
            }
        if kind == "ticker" and symbol in self.tickers:
            row = self.tickers[symbol]
            return {
                "e": "ticker",
                "E": now_us,
                "s": symbol,
                "o": row["firstPrice"],
                "c": row["lastPrice"],
                "h": row["high"],
                "l": row["low"],
                "v": row["volume"],
                "V": row["quoteVolume"],
                "n": int(row["trades"]),
            }
        return None

    async def _stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.connections += 1
        subscribed: set[str] = set()
        reader = asyncio.create_task(self._read_subscriptions(websocket, subscribed))
        sent_version = -1
        last_push = 0.0
        try:
            while not reader.done() and not self._exiting():
                await asyncio.sleep(0.02)
                if self._stalled or not subscribed:
                    continue
                if sent_version == self._version and time.monotonic() - last_push < PUSH_SECONDS:
                    continue
                with self._lock:
                    sent_version, raw, self._raw_stream = self._version, self._raw_stream, []
                    events = [(stream, self._event(stream)) for stream in sorted(subscribed)]
                for text in raw:
                    await websocket.send_text(text)
                for stream, event in events:
                    if event is not None:
                        await websocket.send_text(json.dumps({"stream": stream, "data": event}))
                last_push = time.monotonic()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await websocket.close(1012)

    async def _read_subscriptions(self, websocket: WebSocket, subscribed: set[str]) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                message = json.loads(await websocket.receive_text())
                if message.get("method") == "SUBSCRIBE":
                    self.subscriptions.append(list(message["params"]))
                    subscribed.update(message["params"])
