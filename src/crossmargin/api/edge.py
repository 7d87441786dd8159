"""An edge worker's application: signed writes and the common reads served here, the rest forwarded.

With `crossmargin serve --edge-workers N`, each of N worker processes runs this ASGI application on
the shared listening socket. The writes on the hot path (`EDGE_ROUTES`: borrow-lend, account
settings, orders and cancels) run through the very same route code as in one process (`create_edge_app`
over an `EdgeService`): the worker parses the request, looks the API key up in its mirror, verifies
the ED25519 signature, builds the command, and sends it over the command channel
(`app/command_channel.py`); the sequencer answers once the command is durable, and the worker
renders the reply. Parsing and verification so run on the workers' cores and GILs, never on the
sequencer's.

The common reads (`EDGE_READS`, `api/edge_reads.py`: the signed account, capital, position and
order queries, and the public asset, collateral and market lists) are verified and parsed here too;
the worker sends the sequencer which read, its subaccount and its parsed query over the same
channel, and the sequencer answers with the JSON body its view renders from the state. Reads are
cheapest where the state is, as a replica would replay every command again. A read sent after a
write was acknowledged therefore sees it (read-your-writes): the acknowledgement leaves the
sequencer only after the write is applied and durable, and the read runs on that same state.

Every other request (the remaining reads, the operator API, the web page, WebSocket streams) is
forwarded whole over a private Unix socket to the full application in the sequencer process.

Rate limits and the access log stand in front of all of it, in each worker (in the order
`app.front_middleware` puts them in one process): every request and WebSocket connection a worker
takes is counted and logged there, whether served or forwarded, so the sequencer process's
application has neither. Each worker keeps its own budgets (see `rate_limit.py`).

The replay guard stays whole across workers: each worker refuses a signature it has seen at once,
and the sequencer, the authority, refuses any signed request it has answered (journaled, so also
after a restart), whichever worker it came through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Final

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from crossmargin.api.access_log import AccessLog, AccessLogWriter
from crossmargin.api.app import create_edge_app
from crossmargin.api.auth import API_KEY_CHARS_MAX
from crossmargin.api.body_limit import BodyLimit
from crossmargin.api.edge_reads import EDGE_READS
from crossmargin.api.host_allow_list import IN_PROCESS_HOSTS, HostAllowList
from crossmargin.api.http_metrics import FORWARDED, HttpMetrics
from crossmargin.api.http_tally import REPORT_SECONDS, HttpTally
from crossmargin.api.rate_limit import RateLimit, RateLimiter
from crossmargin.api.responses import error_response
from crossmargin.app.command_channel import HTTP_TALLY, ChannelClient, EdgeService
from crossmargin.app.faults import ServiceUnavailableError

EDGE_ROUTES: Final = frozenset(
    {
        ("POST", "/api/v1/borrowLend"),
        ("PATCH", "/api/v1/account"),
        ("POST", "/api/v1/order"),
        ("DELETE", "/api/v1/order"),
        ("POST", "/api/v1/orders"),
        ("DELETE", "/api/v1/orders"),
        ("GET", "/api/v1/ping"),
        *(("GET", path) for path in EDGE_READS),
    }
)
"""Requests a worker serves itself: signed writes that need no state but the add-only indexes, ping,
and the reads of `EDGE_READS` (verified and parsed here, answered by the sequencer over the channel)."""
HOP_BY_HOP: Final = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer"})
WEBSOCKET_MESSAGE_BYTES_MAX: Final = 16 * 1024 * 1024
CONNECT_SECONDS: Final = 10.0
STOP_REPORT_SECONDS: Final = 5.0
"""How long a stopping worker waits for the sequencer to take its last count of requests."""


class EdgeApp:
    """The ASGI application of one edge worker."""

    def __init__(
        self,
        channel_path: str,
        app_path: str,
        admin_token: str,
        *,
        allowed_hosts: Iterable[str] = IN_PROCESS_HOSTS,
        rate_limiter: RateLimiter | None = None,
        access_log: AccessLogWriter | None = None,
    ) -> None:
        """Serve `EDGE_ROUTES` through the channel at `channel_path`; forward the rest to the app at `app_path`.

        Every request is first counted by `rate_limiter` and logged to `access_log`, where given.
        """
        self.client = ChannelClient(channel_path)
        self.service = EdgeService(self.client)
        self._app_path = app_path
        hosts = tuple(allowed_hosts)
        self._routes = create_edge_app(self.service, admin_token, allowed_hosts=hosts)
        self._forward = HostAllowList(BodyLimit(self._forward_unchecked), allowed_hosts=hosts)
        self._http: httpx.AsyncClient | None = None
        self._front: ASGIApp = self._dispatch
        if rate_limiter is not None:
            self._front = RateLimit(self._front, rate_limiter)
        if access_log is not None:
            self._front = AccessLog(self._front, access_log)
        self.http_tally = HttpTally()
        self._front = HttpMetrics(self._front, self.http_tally)  # outermost, as in one process
        self._reporting: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: lifespan, or a request through the rate limits and the access log."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._front(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request here, or forward it."""
        if scope["type"] == "http" and (scope["method"], scope["path"]) in EDGE_ROUTES:
            try:
                await self._know_signer(scope)
            except ServiceUnavailableError as error:
                await error_response(503, "MAINTENANCE", error.message)(scope, receive, send)
                return
            await self._routes(scope, receive, send)
        else:
            scope[FORWARDED] = True  # counted by the sequencer process's application
            await self._forward(scope, receive, send)

    async def start(self) -> None:
        """Connect to the sequencer process and fetch the listed assets and markets."""
        await asyncio.wait_for(self.client.connect(), CONNECT_SECONDS)
        await self.service.load_configuration()
        transport = httpx.AsyncHTTPTransport(uds=self._app_path)
        # No timeout of its own: a forwarded request takes as long as the sequencer process needs (its limits apply).
        self._http = httpx.AsyncClient(transport=transport, timeout=None)  # noqa: S113
        self._reporting = asyncio.get_running_loop().create_task(self._report_http())

    async def stop(self) -> None:
        """Report the last requests counted and close the connections to the sequencer process."""
        if self._reporting is not None:
            self._reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reporting
        with contextlib.suppress(ServiceUnavailableError, TimeoutError):
            await asyncio.wait_for(self._send_http_tally(), STOP_REPORT_SECONDS)
        if self._http is not None:
            await self._http.aclose()
        await self.client.close()

    async def _report_http(self) -> None:
        """Hand the requests this worker answered to the sequencer's metrics every `REPORT_SECONDS`."""
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            with contextlib.suppress(ServiceUnavailableError):  # the sequencer is going: the worker stops soon
                await self._send_http_tally()

    async def _send_http_tally(self) -> None:
        tally = self.http_tally.take()
        if tally and self.client.connected:
            await self.client.request(HTTP_TALLY, tally)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except (OSError, TimeoutError) as error:
                    await send({"type": "lifespan.startup.failed", "message": f"no sequencer process: {error}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _know_signer(self, scope: Scope) -> None:
        for name, value in scope["headers"]:
            if name.lower() == b"x-api-key":
                if len(value) <= API_KEY_CHARS_MAX:  # a longer one is refused unread by the route
                    await self.service.know_api_key(value.decode("latin-1"))
                return

    async def _forward_unchecked(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._forward_websocket(scope, receive, send)
            return
        assert scope["type"] == "http", "lifespan is handled before forwarding"
        assert self._http is not None, "the worker started before it serves"
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(name, value) for name, value in scope["headers"] if name.lower() not in HOP_BY_HOP]
        target = httpx.URL(scheme="http", host="sequencer", raw_path=_raw_target(scope))
        request = self._http.build_request(scope["method"], target, headers=headers, content=bytes(body))
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError:
            unavailable = "The exchange's sequencer is not reachable; this request was not executed."
            await error_response(503, "MAINTENANCE", unavailable)(scope, receive, send)
            return
        try:
            answer_headers = [(n, v) for n, v in response.headers.raw if n.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status_code, "headers": answer_headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    async def _forward_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), "localhost")
        try:
            upstream = await unix_connect(
                self._app_path,
                uri=f"ws://{host}{_raw_target(scope).decode('latin-1')}",
                max_size=WEBSOCKET_MESSAGE_BYTES_MAX,
                open_timeout=CONNECT_SECONDS,
            )
        except (OSError, TimeoutError, InvalidHandshake, ValueError):
            await send({"type": "websocket.close", "code": 1011})
            return
        await send({"type": "websocket.accept"})
        async with upstream:
            outward = asyncio.create_task(_pump_out(upstream, send))
            inward = asyncio.create_task(_pump_in(receive, upstream))
            _, pending = await asyncio.wait((outward, inward), return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                    await task


def _raw_target(scope: Scope) -> bytes:
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    return path + b"?" + query if query else path


async def _pump_out(upstream: ClientConnection, send: Send) -> None:
    """Pass the sequencer's messages to the client; close the client as the sequencer closed."""
    try:
        async for message in upstream:
            if isinstance(message, str):
                await send({"type": "websocket.send", "text": message})
            else:
                await send({"type": "websocket.send", "bytes": message})
    except ConnectionClosed:
        pass
    code = upstream.close_code if upstream.close_code is not None else 1000
    with contextlib.suppress(OSError, RuntimeError):  # the client may have gone first
        await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})


async def _pump_in(receive: Receive, upstream: ClientConnection) -> None:
    """Pass the client's messages to the sequencer until the client disconnects."""
    while True:
        message: Message = await receive()
        if message["type"] == "websocket.disconnect":
            await upstream.close()
            return
        text = message.get("text")
        await upstream.send(text if text is not None else message.get("bytes") or b"")
