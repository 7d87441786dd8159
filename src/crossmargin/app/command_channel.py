"""The command channel: edge worker processes hand verified commands to the one sequencer process.

With `crossmargin serve --edge-workers N`, N worker processes own the HTTP socket; they parse
requests and verify ED25519 signatures on their own cores, and send each command (with its signed
request) over a local stream socket to the sequencer process, which submits it to its `Service`
and answers once the command's batch is durable. The sequencer stays the one writer: the channel
only moves work off its core and its GIL.

Frames are a 4-byte big-endian length and a pickled tuple `(request_id, kind, payload)`. Pickle is
safe here because both ends are our own processes and the socket lives in a directory only the
server's user can enter (created 0700 by `tempfile.mkdtemp`); it carries core commands and results
exactly as the sequencer has them, with no second encoding to keep in step with the core.

- `SequencerChannel` (the sequencer process) serves connections on its asyncio loop. Replies are
  gathered from the sequencer thread's done-callbacks and written by the loop in one go per wake-up,
  so the sequencer thread pays one append per command.
- `ChannelClient` (a worker) multiplexes one connection: each request gets an id and an asyncio
  future that the reader task resolves.
- `EdgeService` (a worker) stands in for `Service` in the routes a worker serves: `submit` and
  `submit_all` go through the channel; `peek` reads a mirror of the add-only indexes (API keys,
  listed assets, markets) that the worker fills from the sequencer; `fetch_read` asks the sequencer
  for a read the worker has verified and parsed (`api/edge_reads.py`); `read` is not available
  there (a worker has no state).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

from crossmargin.app.faults import ServiceUnavailableError
from crossmargin.app.ports import RequestSignature
from crossmargin.app.replay_guard import DuplicateRequestError, ReplayGuard, SignedRequest
from crossmargin.app.service import Result, Service, ServiceClosedError
from crossmargin.compiled_core import make_core_picklable
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import Command
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.state import EngineState

T = TypeVar("T")
make_core_picklable()  # commands and results cross the channel pickled, also from a compiled core
LOG = logging.getLogger("crossmargin.channel")
HEADER: Final = struct.Struct(">I")
FRAME_BYTES_MAX: Final = 64 * 1024 * 1024
"""A frame is a batch of orders at most (64 KiB of JSON at the edge); anything this large is a bug."""

SUBMIT: Final = "submit"
READ: Final = "read"
API_KEY: Final = "api_key"
CONFIGURATION: Final = "configuration"
HTTP_TALLY: Final = "http_tally"
"""A worker's count of the HTTP requests it answered itself (`api/http_tally.py`), for the one `/metrics`."""
OK: Final = "ok"
DUPLICATE: Final = "duplicate"
UNAVAILABLE: Final = "unavailable"
CLOSED: Final = "closed"


class ChannelClosedError(ServiceUnavailableError):
    """The sequencer process is gone or stopping: the request was not answered (503)."""


def encode_frame(message: object) -> bytes:
    """Return one frame: the length, then the pickled message."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> Any | None:  # noqa: ANN401 -- a tuple whose shape the kind says
    """Return the next message, or None at the end of the stream.

    A connection the other end dropped ends the stream too: a reply written to a worker that is
    stopping fails with a broken pipe, which the transport hands to the reader.
    """
    try:
        head = await reader.readexactly(HEADER.size)
        (length,) = HEADER.unpack(head)
        assert length <= FRAME_BYTES_MAX, f"a channel frame holds at most {FRAME_BYTES_MAX} bytes"
        body = await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return pickle.loads(body)  # noqa: S301 -- our own processes, private socket


# ---------------------------------------------------------------------------------------------
# The sequencer process


@dataclass(slots=True)
class _Connection:
    writer: asyncio.StreamWriter
    replies: list[bytes] = field(default_factory=list)


class SequencerChannel:
    """Serves edge workers' requests on the sequencer process's event loop."""

    def __init__(
        self,
        service: Service,
        loop: asyncio.AbstractEventLoop,
        answer_read: Callable[[Any], object] | None = None,
        observe_http: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        """Serve `service` on `loop`; `answer_read` answers a worker's verified read (`api/edge_reads.py`).

        `observe_http` counts each request a worker reports having answered (`Metrics.observe_http`).
        """
        self._service = service
        self._loop = loop
        self._answer_read = answer_read
        self._observe_http = observe_http
        self._done: list[tuple[_Connection, int, Future[Any], SignedRequest | None]] = []
        self._done_lock = threading.Lock()
        self._flush_scheduled = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one worker's connection until it closes."""
        connection = _Connection(writer)
        try:
            while (message := await read_frame(reader)) is not None:
                request_id, kind, payload = message
                self._handle(connection, request_id, kind, payload)
                self._write(connection)
        finally:
            writer.close()

    def _handle(self, connection: _Connection, request_id: int, kind: str, payload: Any) -> None:  # noqa: ANN401
        try:
            self._answer(connection, request_id, kind, payload)
        except ServiceUnavailableError as error:
            connection.replies.append(encode_frame((request_id, UNAVAILABLE, (error.message, error.executed))))
        except ServiceClosedError as error:
            connection.replies.append(encode_frame((request_id, CLOSED, str(error))))

    def _answer(self, connection: _Connection, request_id: int, kind: str, payload: Any) -> None:  # noqa: ANN401
        service = self._service
        if kind == READ:
            assert self._answer_read is not None, "a worker sends reads only to a sequencer that answers them"
            connection.replies.append(encode_frame((request_id, OK, self._answer_read(payload))))
            return
        if kind == API_KEY:
            found = service.peek(lambda state: state.api_keys.get(payload))
            connection.replies.append(encode_frame((request_id, OK, found)))
            return
        if kind == HTTP_TALLY:
            if self._observe_http is not None:
                for (route, method, status), durations in payload.items():
                    for seconds in durations:
                        self._observe_http(route, method, status, seconds)
            connection.replies.append(encode_frame((request_id, OK, None)))
            return
        if kind == CONFIGURATION:
            configuration = service.peek(lambda state: (dict(state.specs), dict(state.markets)))
            connection.replies.append(encode_frame((request_id, OK, configuration)))
            return
        assert kind == SUBMIT, f"a worker sends only known kinds of request, not {kind!r}"
        commands, signed, many = payload
        future: Future[Any] = (
            service.submit_all(commands, signed=signed) if many else service.submit(commands[0], signed=signed)
        )
        future.add_done_callback(lambda done: self._on_done(connection, request_id, done, signed))

    def _on_done(
        self, connection: _Connection, request_id: int, done: Future[Any], signed: SignedRequest | None
    ) -> None:
        # The sequencer thread: one append, and at most one wake-up of the loop per batch.
        with self._done_lock:
            self._done.append((connection, request_id, done, signed))
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is stopping
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._done_lock:
            done, self._done = self._done, []
            self._flush_scheduled = False
        touched: dict[int, _Connection] = {}
        for connection, request_id, future, signed in done:
            connection.replies.append(encode_frame(self._reply(request_id, future, signed)))
            touched[id(connection)] = connection
        for connection in touched.values():
            self._write(connection)

    def _reply(self, request_id: int, future: Future[Any], signed: SignedRequest | None) -> tuple[int, str, object]:
        error = future.exception()
        if error is None:
            answered = None if signed is None else self._service.replay_guard.answered(signed.signature)
            return (request_id, OK, (future.result(), answered))
        if isinstance(error, DuplicateRequestError):
            return (request_id, DUPLICATE, error.answered)
        if isinstance(error, ServiceUnavailableError):
            return (request_id, UNAVAILABLE, (error.message, error.executed))
        LOG.error("a command from an edge worker failed", exc_info=error)
        return (request_id, UNAVAILABLE, ("Internal error: the operator's log has the details", None))

    @staticmethod
    def _write(connection: _Connection) -> None:
        if connection.replies and not connection.writer.is_closing():
            connection.writer.write(b"".join(connection.replies))
        connection.replies.clear()


# ---------------------------------------------------------------------------------------------
# An edge worker


class ChannelClient:
    """One multiplexed connection from a worker to the sequencer process."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[tuple[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._connecting = asyncio.Lock()
        self.on_lost: Callable[[], None] = lambda: None

    async def connect(self, attempts: int = 100, delay_seconds: float = 0.05) -> None:
        """Connect, retrying while the sequencer process starts its channel."""
        async with self._connecting:
            if self._writer is not None:
                return
            for attempt in range(attempts):
                try:
                    reader, writer = await asyncio.open_unix_connection(self._path)
                except OSError:
                    if attempt == attempts - 1:
                        raise
                    await asyncio.sleep(delay_seconds)
                    continue
                self._writer = writer
                self._reader_task = asyncio.get_running_loop().create_task(self._read(reader))
                return

    @property
    def connected(self) -> bool:
        """Return whether the connection is open."""
        return self._writer is not None

    def send(self, kind: str, payload: object) -> asyncio.Future[tuple[str, Any]]:
        """Send one request; the future resolves to its (status, answer)."""
        writer = self._writer
        if writer is None or writer.is_closing():
            raise ChannelClosedError("The exchange's sequencer is not reachable; this request was not executed.")
        request_id = next(self._ids)
        answer: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        writer.write(encode_frame((request_id, kind, payload)))
        return answer

    async def request(self, kind: str, payload: object) -> Any:  # noqa: ANN401 -- the kind says the shape
        """Send one request and return its answer (status OK expected)."""
        status, answer = await self.send(kind, payload)
        if status == UNAVAILABLE:
            message, executed = answer
            raise ServiceUnavailableError(message, executed=executed)
        if status == CLOSED:
            raise ChannelClosedError(str(answer))
        return answer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while (message := await read_frame(reader)) is not None:
                request_id, status, answer = message
                waiting = self._waiting.pop(request_id, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result((status, answer))
        finally:
            self._writer = None
            lost = ChannelClosedError(
                "The exchange's sequencer went away while this request was in flight: whether it was executed is "
                "unknown; sending the same signed request again is refused as a duplicate if it was.",
                executed=None,
            )
            for waiting in self._waiting.values():
                if not waiting.done():
                    waiting.set_exception(lost)
            self._waiting.clear()
            self.on_lost()

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task


@dataclass(slots=True)
class EdgeMirror:
    """What a worker knows of the state: the add-only indexes its routes look up before a command."""

    api_keys: dict[str, SubaccountId] = field(default_factory=dict)
    specs: dict[str, AssetSpec] = field(default_factory=dict)
    markets: dict[str, MarketSpec] = field(default_factory=dict)


class EdgeService(Service):
    """The sequencer as a worker's routes see it: commands go through the channel, lookups read the mirror.

    It is a `Service` so the very same routes (`api/routes`) serve in a worker; it does not run the
    base class's constructor, because it has no state, journal or sequencer thread of its own.
    Only the methods those routes call on a write are served here; `read` refuses, since a worker
    forwards every request that reads state to the sequencer process.
    """

    def __init__(self, client: ChannelClient) -> None:  # the class docstring says why there is no super().__init__
        self._client = client
        self._mirror = EdgeMirror()
        self._edge_guard = ReplayGuard()

    async def load_configuration(self) -> None:
        """Fetch the listed assets and markets (the server lists them at start, before workers serve)."""
        specs, markets = await self._client.request(CONFIGURATION, None)
        self._mirror.specs = specs
        self._mirror.markets = markets

    async def know_api_key(self, api_key: str) -> None:
        """Make sure the mirror has an API key the sequencer knows (keys are only ever added)."""
        if api_key in self._mirror.api_keys:
            return
        found = await self._client.request(API_KEY, api_key)
        if found is not None:
            self._mirror.api_keys[api_key] = found

    def submit(self, command: Command, *, signed: SignedRequest | None = None) -> Future[Result]:
        """Send one command to the sequencer; the future resolves once its batch is durable."""
        future: Future[Result] = self._send((command,), signed, many=False)
        return future

    def submit_all(
        self, commands: Sequence[Command], *, signed: SignedRequest | None = None
    ) -> Future[tuple[Result, ...]]:
        """Send commands that run in order in one batch, one durable transaction."""
        assert commands, "submit at least one command"
        future: Future[tuple[Result, ...]] = self._send(tuple(commands), signed, many=True)
        return future

    def _send(self, commands: tuple[Command, ...], signed: SignedRequest | None, *, many: bool) -> Any:  # noqa: ANN401
        # An asyncio future where `Service` gives a concurrent one: `ApiContext` awaits it through
        # `asyncio.wrap_future`, which takes either, and this saves a thread hand-off per request.
        answer = self._client.send(SUBMIT, (commands, signed, many))
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(lambda done: self._resolve(done, result, signed))
        return result

    def _resolve(
        self, done: asyncio.Future[tuple[str, Any]], result: asyncio.Future[Any], signed: SignedRequest | None
    ) -> None:
        if result.cancelled():
            return
        error = done.exception()
        if error is not None:
            result.set_exception(error)
            return
        status, answer = done.result()
        if status == OK:
            results, answered = answer
            if answered is not None:
                self._edge_guard.record([cast("RequestSignature", answered)])
            result.set_result(results)
        elif status == DUPLICATE:
            result.set_exception(DuplicateRequestError(answer))
        elif status == UNAVAILABLE:
            message, executed = answer
            if signed is not None and executed is False:
                self._edge_guard.release(signed.signature)
            result.set_exception(ServiceUnavailableError(message, executed=executed))
        else:
            result.set_exception(ServiceClosedError(str(answer)))

    def peek(self, function: Callable[[EngineState], T]) -> T:
        """Run a lookup on the mirror of the add-only indexes (API keys, assets, markets)."""
        return function(cast("EngineState", self._mirror))

    async def fetch_read(self, path: str, arguments: tuple[Any, ...], paging: object) -> Any:  # noqa: ANN401
        """Ask the sequencer for a verified read's answer (`api/edge_reads.py` says what the values are)."""
        return await self._client.request(READ, (path, arguments, paging))

    def read(self, function: Callable[[EngineState], T]) -> T:  # noqa: ARG002 -- the signature of Service.read
        """Refuse: a worker has no state; it sends reads to the sequencer as `fetch_read` or forwards them whole."""
        raise AssertionError("an edge worker has no state: it asks the sequencer process for every read")

    @property
    def replay_guard(self) -> ReplayGuard:
        """Return the worker's guard: it refuses a replay at once; the sequencer's guard is the authority."""
        return self._edge_guard

    def close(self) -> None:
        """Nothing to close here: the channel closes with the worker's event loop."""
