"""Backpack's WebSocket API at `/ws` and at `/` (Backpack serves it at the root of its WS host).

The `StreamHub` joins the three parts: a `StreamFeed` listening to the service on the sequencer
thread (builds messages after each durable batch), a `Broadcaster` on the event loop (fans them
out, one bounded queue per connection), and the connections. The feed hands each batch's
messages to the loop with `call_soon_threadsafe` and returns at once, so streaming never slows the
sequencer; a connection that falls `queue_size` messages behind is closed with code 1008 and the
reason, and nobody else waits for it. The hub also gathers each realtime depth diff into the
aggregated depth streams (`stream_depth.py`). Message shapes: `stream_messages.py` and
`stream_public.py`; requests and signatures: `stream_requests.py`.

A subscription to `account.positionUpdate[.<symbol>]` is answered at once, as Backpack does, with
one message per open position of the subaccount (on that market), without the `e` field.

A connection that subscribed with an API key is closed (1008, "API key revoked") as soon as that
key's revocation is durable: a revoked key follows nothing, not even what it subscribed before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import msgspec
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from crossmargin.api.context import ApiContext
from crossmargin.api.stream_depth import DepthAggregator, Schedule
from crossmargin.api.stream_feed import POSITION_UPDATE, Outgoing, StreamFeed, position_context, private_topic
from crossmargin.api.stream_messages import envelope, error_message, position_data
from crossmargin.api.stream_requests import (
    SILENT,
    UNAUTHORIZED,
    Method,
    StreamRequest,
    StreamRequestError,
    check_stream,
    is_private,
    parse_request,
    verify_subscription,
)
from crossmargin.api.views.common import JsonValue
from crossmargin.app.broadcast import QUEUE_SIZE_DEFAULT, Broadcaster, Subscriber
from crossmargin.app.faults import ServiceUnavailableError
from crossmargin.app.service import BatchCommitted, Service
from crossmargin.core.events import ApiKeyRevoked
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState

POLICY_VIOLATION = 1008
CLOSE_REASON_MAX = 120
REVOKED_REASON = "API key revoked: subscribe again signed with a valid key"


class StreamHub:
    """The feed, the broadcaster and the event loop they meet on, for one service."""

    def __init__(
        self, service: Service, queue_size: int = QUEUE_SIZE_DEFAULT, schedule: Schedule | None = None
    ) -> None:
        """Start listening to `service` at once, so ids and 24-hour windows cover everything from now.

        `schedule` times the aggregated depth streams' periods (by default the loop's `call_later`).
        """
        self.service = service
        self.broadcaster = Broadcaster(queue_size)
        self.connections = 0
        """Open WebSocket connections (changed on the event loop; read by the metrics)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self.depth = DepthAggregator(self.broadcaster.wants, self._publish_one, schedule or self._call_later)

        def start(state: EngineState) -> StreamFeed:
            feed = StreamFeed(state, self.broadcaster.wants, self._deliver, service.market_history)
            service.add_listener(feed.on_batch)
            return feed

        self.feed = service.read(start)
        self._signed_with: dict[str, set[Subscriber]] = {}
        """API key -> the connections whose private subscriptions it signed (on the event loop)."""
        service.add_listener(self._on_revocations)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver to `loop` from now on (the loop the connections run on)."""
        self._loop = loop

    @property
    def dropped_consumers(self) -> int:
        """Return the connections cut off as slow consumers since the start."""
        return self.broadcaster.dropped_count

    def close(self) -> None:
        """Stop listening to the service."""
        self.service.remove_listener(self.feed.on_batch)
        self.service.remove_listener(self._on_revocations)

    def signed_with(self, api_key: str, subscriber: Subscriber) -> None:
        """Remember that `api_key` signed a subscription of `subscriber`, to close it if the key is revoked."""
        self._signed_with.setdefault(api_key, set()).add(subscriber)

    def forget(self, subscriber: Subscriber, api_keys: set[str]) -> None:
        """Forget a closed connection's signing keys."""
        for api_key in api_keys:
            subscribers = self._signed_with.get(api_key, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._signed_with.pop(api_key, None)

    def _on_revocations(self, batch: BatchCommitted) -> None:
        # On the sequencer thread, after the revocation is durable: hand the keys to the loop.
        revoked = [event.api_key for event in batch.events if isinstance(event, ApiKeyRevoked)]
        loop = self._loop
        if revoked and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is connected
                loop.call_soon_threadsafe(self._revoke, revoked)

    def _revoke(self, api_keys: list[str]) -> None:
        for api_key in api_keys:
            for subscriber in self._signed_with.pop(api_key, set()):
                self.broadcaster.close(subscriber, REVOKED_REASON)

    def _deliver(self, messages: list[Outgoing]) -> None:
        # On the sequencer thread: hand over and return; never wait on the loop.
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is connected
            loop.call_soon_threadsafe(self._publish, messages)

    def _publish(self, messages: list[Outgoing]) -> None:
        for topic, stream, data in messages:
            self.broadcaster.publish(topic, msgspec.json.encode(envelope(stream, data)).decode())
            if data.get("e") == "depth":
                self.depth.add(stream.removeprefix("depth."), data)

    def _publish_one(self, stream: str, data: dict[str, JsonValue]) -> None:
        self.broadcaster.publish(stream, msgspec.json.encode(envelope(stream, data)).decode())

    def _call_later(self, delay_s: float, callback: Callable[[], None]) -> None:
        assert self._loop is not None, "periods open only from _publish, on the bound loop"
        self._loop.call_later(delay_s, callback)


@dataclass(slots=True)
class _Connection:
    """One client: its subscriber and the topic behind each stream name it follows."""

    hub: StreamHub
    subscriber: Subscriber
    topics: dict[str, str] = field(default_factory=dict)
    api_keys: set[str] = field(default_factory=set)
    """The keys that signed its private subscriptions."""

    def reply(self, body: dict[str, JsonValue]) -> None:
        self.hub.broadcaster.offer(self.subscriber, msgspec.json.encode(body).decode())

    def handle(self, text: str | bytes) -> None:
        try:
            request = parse_request(text)
        except StreamRequestError as error:
            self.reply(error_message(error.code, error.message, error.request_id))
            return
        if request.method is Method.SUBSCRIBE:
            refusals = self._subscribe(request)
        else:
            refusals = []
            self._unsubscribe(request)
        for refusal in refusals:
            self.reply(error_message(refusal.code, refusal.message, request.request_id))
        if request.request_id is not None and not refusals:
            self.reply({"id": request.request_id, "result": None})

    def _subscribe(self, request: StreamRequest) -> list[StreamRequestError]:
        """Follow every stream of the request that can be followed; return the refusals of the others."""
        service = self.hub.service
        markets, perps = service.peek(
            lambda state: (frozenset(state.markets), frozenset(m for m, spec in state.markets.items() if spec.is_perp))
        )
        refusals: list[StreamRequestError] = []
        streams: list[str] = []
        for stream in request.streams:
            try:
                check_stream(stream, markets, perps)
                streams.append(stream)
            except StreamRequestError as error:
                refusals.append(error)
        subaccount = None
        if any(is_private(stream) for stream in streams):
            try:
                subaccount = self._signer(request)
            except StreamRequestError as error:
                refusals.append(error)
                streams = [stream for stream in streams if not is_private(stream)]
        for stream in streams:
            if stream.startswith(SILENT):
                continue
            topic = private_topic(stream, subaccount) if subaccount is not None and is_private(stream) else stream
            self.topics[stream] = topic
            self.hub.broadcaster.subscribe(self.subscriber, topic)
            if subaccount is not None and stream.startswith(POSITION_UPDATE):
                self._open_positions(stream, subaccount)
        return refusals

    def _signer(self, request: StreamRequest) -> SubaccountId:
        api_key = verify_subscription(request.signature)
        subaccount = self.hub.service.peek(lambda state: state.api_keys.get(api_key))
        if subaccount is None:
            raise StreamRequestError(UNAUTHORIZED, "Unknown API key: register it with the operator first")
        self.api_keys.add(api_key)
        self.hub.signed_with(api_key, self.subscriber)
        return subaccount

    def _open_positions(self, stream: str, subaccount: SubaccountId) -> None:
        """Send the subaccount's open positions (on the stream's market, if it names one), without `e`."""
        market = stream.removeprefix(POSITION_UPDATE).removeprefix(".") or None

        def read(state: EngineState) -> list[dict[str, JsonValue]]:
            return [
                position_data(
                    state.markets[key[1]], "", position, position_context(state, subaccount, key[1], state.now_ms)
                )
                for key, position in sorted(state.perp_positions.items())
                if key[0] == subaccount and position.quantity_atoms and market in (None, key[1])
            ]

        try:
            snapshot = self.hub.service.read(read)  # a consistent state: wait for the batch in flight
        except ServiceUnavailableError:
            return  # a journal fault: the updates that follow recovery carry the positions
        for data in snapshot:
            del data["e"]
            self.reply(envelope(stream, data))

    def _unsubscribe(self, request: StreamRequest) -> None:
        for stream in request.streams:
            topic = self.topics.pop(stream, None)
            if topic is not None:
                self.hub.broadcaster.unsubscribe(self.subscriber, topic)


async def _send_all(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        await websocket.send_text(await subscriber.queue.get())


async def _receive_all(websocket: WebSocket, connection: _Connection, scope: anyio.CancelScope) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            scope.cancel()
            return
        connection.handle(message.get("text") or message.get("bytes") or b"")


async def _watch_drop(subscriber: Subscriber, scope: anyio.CancelScope) -> None:
    await subscriber.dropped.wait()
    scope.cancel()


async def _serve(hub: StreamHub, websocket: WebSocket) -> None:
    await websocket.accept()
    hub.bind(asyncio.get_running_loop())
    subscriber = hub.broadcaster.connect()
    connection = _Connection(hub, subscriber)
    hub.connections += 1
    try:
        async with anyio.create_task_group() as group:
            scope = group.cancel_scope
            group.start_soon(_send_all, websocket, subscriber)
            group.start_soon(_receive_all, websocket, connection, scope)
            group.start_soon(_watch_drop, subscriber, scope)
    finally:
        hub.connections -= 1
        hub.broadcaster.disconnect(subscriber)
        hub.forget(subscriber, connection.api_keys)
    if subscriber.dropped.is_set():
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(POLICY_VIOLATION, subscriber.drop_reason[:CLOSE_REASON_MAX])


def stream_routes(context: ApiContext, hub: StreamHub | None = None) -> list[BaseRoute]:
    """Return the WebSocket routes at `/ws` and `/`, over a hub for the context's service."""
    stream_hub = hub or StreamHub(context.service)

    async def endpoint(websocket: WebSocket) -> None:
        await _serve(stream_hub, websocket)

    return [WebSocketRoute("/ws", endpoint), WebSocketRoute("/", endpoint)]
