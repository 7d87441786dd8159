"""The access log: one JSON line per HTTP request and per WebSocket connection and subscription.

`crossmargin serve --access-log PATH` appends to PATH, `--access-log -` writes to standard output;
off by default (a development server that prints a line per request drowns its own banner, and a
file nobody asked for fills a disk). A line, keys always present (null where not known):

    {"time": "2026-12-06T12:57:32.123Z", "ip": "127.0.0.1", "method": "POST", "path": "/api/v1/order",
     "query": "", "status": 200, "latencyMs": 3.412, "key": "<X-API-Key>", "instruction": "orderExecute"}

- `time`: when the request arrived, UTC, milliseconds. `latencyMs`: until the application
  returned (for a WebSocket, until it was accepted or refused).
- `key`: the `X-API-Key` header as sent: the public key, never a secret (the signature is not
  logged). `instruction`: the Backpack instruction of a signed endpoint, set by `signed.py` once the
  route is known (null for public and operator routes; with `--edge-workers`, also for the signed
  requests a worker forwards to the sequencer process).
- `status`: the HTTP status sent; 101 for an accepted WebSocket, 403 for one closed before it was
  accepted; 500 if the application failed before answering, 499 if the client left first.
- A WebSocket connection is logged once accepted or refused (`"method": "GET"`, its path); each
  `SUBSCRIBE`/`UNSUBSCRIBE` message it sends adds a line `{"time", "ip", "method": "SUBSCRIBE"
  (or "UNSUBSCRIBE"), "path", "streams": [names]}`.
- Every text field is cut to `FIELD_CHARS_MAX` characters (a path, a query, a key, a stream name:
  lines stay bounded whatever a client sends), and at most `STREAMS_MAX` streams are listed.

Writes never block the event loop: a line is appended to an in-memory queue and a writer thread
writes what has gathered every `FLUSH_SECONDS`, in whole-line chunks of at most `CHUNK_BYTES` (one
`write` each, so edge workers appending to one file or pipe never interleave inside a line). If the
writer falls `PENDING_MAX` lines behind, new lines are dropped and counted, and a line
`{"time": ..., "dropped": N}` says so.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Final

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD_CHARS_MAX: Final = 256
STREAMS_MAX: Final = 16
SUBSCRIBE_BYTES_MAX: Final = 4096
"""Only client messages this small are looked at for a subscription (Backpack's are far smaller)."""
FLUSH_SECONDS: Final = 0.2
CHUNK_BYTES: Final = 4096
"""At most PIPE_BUF: a write of this size to a pipe is atomic, as is any append to a local file."""
PENDING_MAX: Final = 100_000
STDOUT: Final = "-"
CLIENT_LEFT: Final = 499
_encoder = msgspec.json.Encoder()


def _bounded(text: str) -> str:
    return text[:FIELD_CHARS_MAX]


def _utc(epoch_ns: int) -> str:
    return datetime.fromtimestamp(epoch_ns / 1e9, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AccessLogWriter:
    """Lines queued by the event loop, written by a thread to a file descriptor."""

    def __init__(self, destination: str) -> None:
        """Append to the file `destination`, or write to standard output for `-`; start the writer thread."""
        if destination == STDOUT:
            self._fd = sys.stdout.fileno()
            self._owns_fd = False
        else:
            self._fd = os.open(destination, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._owns_fd = True
        self._pending: deque[bytes] = deque()
        self._dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-access-log", daemon=True)
        self._thread.start()

    def write(self, record: dict[str, object]) -> None:
        """Queue one line (never blocks; drops and counts the line when the writer is `PENDING_MAX` behind)."""
        if len(self._pending) >= PENDING_MAX:
            self._dropped += 1
            return
        self._pending.append(_encoder.encode(record) + b"\n")

    def flush(self) -> None:
        """Write every queued line now (from any thread)."""
        dropped, self._dropped = self._dropped, 0
        if dropped:
            self._pending.append(_encoder.encode({"time": _utc(time.time_ns()), "dropped": dropped}) + b"\n")
        chunk = bytearray()
        while self._pending:
            line = self._pending.popleft()
            if chunk and len(chunk) + len(line) > CHUNK_BYTES:
                self._write(bytes(chunk))
                chunk.clear()
            chunk += line
        if chunk:
            self._write(bytes(chunk))

    def close(self) -> None:
        """Stop the writer thread, write what is left and close the file."""
        self._stop.set()
        self._thread.join()
        self.flush()
        if self._owns_fd:
            os.close(self._fd)

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # a full disk or a closed pipe must not stop the server
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self.flush()


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return _bounded(value.decode("latin-1"))
    return None


class AccessLog:
    """Log every HTTP request and WebSocket connection that reaches it, as `AccessLogWriter` lines."""

    def __init__(self, app: ASGIApp, writer: AccessLogWriter) -> None:
        self.app = app
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection, noting what was sent back; log it when the application has answered."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self, scope)
        websocket = scope["type"] == "websocket"
        try:
            await self.app(scope, exchange.receiving(receive) if websocket else receive, exchange.sending(send))
        except Exception:
            exchange.failed()
            raise
        finally:
            exchange.log()

    def record(self, scope: Scope, arrived_ns: int, status: int, latency_ms: float) -> dict[str, object]:
        """Return the line of one request or connection."""
        client = scope.get("client")
        state = scope.get("state")
        instruction = state.get("instruction") if isinstance(state, dict) else None
        return {
            "time": _utc(arrived_ns),
            "ip": client[0] if client else None,
            "method": scope.get("method", "GET"),
            "path": _bounded(scope["path"]),
            "query": _bounded(scope.get("query_string", b"").decode("latin-1")),
            "status": status,
            "latencyMs": latency_ms,
            "key": _header(scope, b"x-api-key"),
            "instruction": instruction if isinstance(instruction, str) else None,
        }

    def subscription(self, scope: Scope, message: Message) -> None:
        """Log a client's `SUBSCRIBE` or `UNSUBSCRIBE` message (anything else is passed over unread)."""
        text = message.get("text")
        if not isinstance(text, str) or len(text) > SUBSCRIBE_BYTES_MAX or "SUBSCRIBE" not in text:
            return
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if not isinstance(request, dict) or request.get("method") not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return
        params = request.get("params")
        names = params[:STREAMS_MAX] if isinstance(params, list) else []
        streams = [_bounded(name) for name in names if isinstance(name, str)]
        client = scope.get("client")
        self.writer.write(
            {
                "time": _utc(time.time_ns()),
                "ip": client[0] if client else None,
                "method": request["method"],
                "path": _bounded(scope["path"]),
                "streams": streams,
            }
        )


class _Exchange:
    """One request or WebSocket connection: when it came, what was answered; logged once."""

    def __init__(self, access_log: AccessLog, scope: Scope) -> None:
        self.access_log = access_log
        self.scope = scope
        self.arrived_ns = time.time_ns()
        self.started = time.perf_counter_ns()
        self.status: int | None = None
        self.logged = False

    def sending(self, send: Send) -> Send:
        """Return `send`, noting the status (an HTTP answer, a WebSocket accepted or closed; logged at once)."""

        async def noting(message: Message) -> None:
            kind = message["type"]
            if self.status is None and kind in ("http.response.start", "websocket.http.response.start"):
                self.status = message["status"]
            elif self.status is None and kind in ("websocket.accept", "websocket.close"):
                self.status = 101 if kind == "websocket.accept" else 403
                self.log()
            await send(message)

        return noting

    def receiving(self, receive: Receive) -> Receive:
        """Return `receive`, logging the subscriptions a WebSocket client asks for."""

        async def watching() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                self.access_log.subscription(self.scope, message)
            return message

        return watching

    def failed(self) -> None:
        """Note that the application failed: 500 unless it answered first."""
        if self.status is None:
            self.status = 500

    def log(self) -> None:
        """Write the line, once."""
        if not self.logged:
            self.logged = True
            latency_ms = round((time.perf_counter_ns() - self.started) / 1e6, 3)
            status = CLIENT_LEFT if self.status is None else self.status
            self.access_log.writer.write(self.access_log.record(self.scope, self.arrived_ns, status, latency_ms))
