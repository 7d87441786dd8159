"""Serve only requests addressed to this server by name: a defence against DNS rebinding.

A web page on another site can point a DNS name it controls at 127.0.0.1 and then call a local
server from the victim's browser as if it were same-origin; the `Host` header still carries the
attacker's name. So every HTTP request and WebSocket upgrade must name an allowed host: the
loopback names (`LOOPBACK_HOSTS`: 127.0.0.1, localhost, ::1), and those the application was built
with (`crossmargin serve` adds its bind address and each `--allowed-host` /
`CROSSMARGIN_ALLOWED_HOSTS` name), on any port. Names compare without case and without a trailing
dot. Anything else is refused with 421 Misdirected Request in Backpack's error shape; a refused
WebSocket upgrade gets the same answer over HTTP where the server supports that, else a close.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from crossmargin.api.inputs import INVALID
from crossmargin.api.responses import error_response

LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
IN_PROCESS_HOSTS: Final = ("testserver",)
"""The name Starlette's test client and httpx's ASGI transport put in `Host`: no network is involved."""
MISDIRECTED_REQUEST = 421
POLICY_VIOLATION = 1008
HOST_ECHO_CHARS_MAX = 100


def host_name(host: str) -> str:
    """Return the name part of a `Host` header: no port, no IPv6 brackets, lower case, no trailing dot."""
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        name = host.partition(":")[0]
    else:
        name = host
    return name.rstrip(".").lower()


class HostAllowList:
    """Pass on requests whose `Host` names an allowed host; refuse the others (421)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = IN_PROCESS_HOSTS) -> None:
        self.app = app
        self.allowed = frozenset(host_name(host) for host in (*LOOPBACK_HOSTS, *allowed_hosts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: pass through all but HTTP and WebSocket; for those, check `Host` first."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), "")
        if host_name(host) in self.allowed:
            await self.app(scope, receive, send)
            return
        named = f"Host {host[:HOST_ECHO_CHARS_MAX]!r}" if host else "A request without a Host header"
        response = error_response(
            MISDIRECTED_REQUEST,
            INVALID,
            f"{named} is not served here: use 127.0.0.1 or localhost, "
            "or start the server with --allowed-host NAME for each name clients use",
        )
        if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
            await response(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
