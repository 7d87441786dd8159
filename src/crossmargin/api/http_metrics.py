"""Count every HTTP request by route template, method and status, and time it (`metrics.py`).

A pure ASGI middleware in front of everything else, so 429s, 413s and 421s are counted too. The
route is the template Starlette matched (`/admin/v1/subaccounts/{id}/limits`), never the raw
path, so a client cannot grow the metrics by sending new paths: a path no route matches counts
as `UNMATCHED`, a method outside `METHODS` as `OTHER`. WebSocket connections are counted by the
streams (`crossmargin_websocket_connections`), not here.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED: Final = "unmatched"
OTHER: Final = "OTHER"
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLIENT_LEFT: Final = 499
SERVER_ERROR: Final = 500
FORWARDED: Final = "crossmargin.forwarded"
"""Set in a request's scope by an edge worker that forwards it: the sequencer process counts it, not the worker."""


class HttpObserver(Protocol):
    """Where answered requests are counted: `Metrics`, or an edge worker's `HttpTally`."""

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""


def route_template(scope: Scope) -> str:
    """Return the template of the route that answered `scope`, or `UNMATCHED` (bounded whatever the path)."""
    route: BaseRoute | None = scope.get("route")
    if isinstance(route, Route | Mount):
        return str(scope.get("root_path", "")) + route.path
    return UNMATCHED


class HttpMetrics:
    """Count and time every HTTP request that reaches it."""

    def __init__(self, app: ASGIApp, metrics: HttpObserver) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, noting its status; count it once the application has returned."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_LEFT

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        except Exception:
            if status == CLIENT_LEFT:
                status = SERVER_ERROR
            raise
        finally:
            method = scope.get("method", "GET")
            if not scope.get(FORWARDED):
                route, seconds = route_template(scope), time.perf_counter() - started
                self.metrics.observe_http(route, method if method in METHODS else OTHER, status, seconds)
