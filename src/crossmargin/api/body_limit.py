"""Refuse request bodies over `BODY_BYTES_MAX` before they are read, for every route.

A pure ASGI middleware around the whole application. A request whose `Content-Length` declares
more than the limit is answered 413 at once, its body never read. Any other body is read here, up
to the limit, before the application sees the request: a chunked body is cut off as soon as it
passes the limit (413), and a body within it is handed on exactly as it came. So no route ever
holds more than `BODY_BYTES_MAX` of a body in memory, whatever it does with it. What the server
does with the rest of a refused body is its own business: uvicorn discards it as it arrives.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossmargin.api.inputs import BODY_BYTES_MAX, INVALID
from crossmargin.api.responses import error_response

PAYLOAD_TOO_LARGE = 413
CONTENT_LENGTH_DIGITS_MAX = 20


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            digits = value.strip()
            if not digits.isdigit() or len(digits) > CONTENT_LENGTH_DIGITS_MAX:
                return None
            return int(digits)
    return None


class BodyLimit:
    """Hand the application only request bodies of at most `limit` bytes; answer 413 to the rest."""

    def __init__(self, app: ASGIApp, limit: int = BODY_BYTES_MAX) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: pass through all but HTTP; for HTTP, bound the body first."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send, f"declares {declared} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody is left to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send, f"passed {self.limit} bytes and was cut off")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        message = f"The request body {what}; at most {self.limit} bytes are accepted"
        await error_response(PAYLOAD_TOO_LARGE, INVALID, message)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a `receive` that gives the whole body in one message, then whatever `receive` gives."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
