"""Rate limits: Backpack's 429 `TOO_MANY_REQUESTS`, per API key and per client IP, before any other work.

Backpack publishes one figure: 2,000 requests a minute per subaccount across its standard REST
endpoints, answered with HTTP 429 beyond it (its API FAQ); its OpenAPI lists `TOO_MANY_REQUESTS`
among the `ApiErrorCode`s and a 429 `ApiErrorResponse` on the endpoints, and documents no
rate-limit headers. Here, three budgets (`RateLimitSettings`), each "at most LIMIT requests in any
window of SECONDS, of which BURST may come at once":

- `public`: requests without `X-API-Key` (and WebSocket connections), per client IP;
- `signed`: requests with `X-API-Key`, per key (a key signs for one subaccount);
- `signed_ip`: requests with `X-API-Key`, per client IP, whatever the key: a client that makes up
  keys, or holds many, still has one budget per address.

A request over a budget is answered 429 `{"code": "TOO_MANY_REQUESTS", "message": ...}` with a
`Retry-After` header (whole seconds, RFC 9110); the message names the budget and the wait. A
refused request takes nothing from any budget: a client that keeps knocking waits no longer for
it, and a key over its budget leaves the other keys of its address their share. Requests that
carry the operator's bearer token are not limited (the operator is not a client), and neither are
the web page's shell and static files (`WEB_PATHS`, `STATIC_PREFIX`): they are not Backpack API
requests, a page load fetches some forty modules, and counting them refused a user who reloaded a
few times (found by the browser tests); each costs one read of a packaged file.

The check is a pure ASGI middleware in front of everything else (`app.py`): it reads only the
connection's address and two headers, so a flood costs a dictionary lookup per request, before the
Host check, the body, the signature or the route. Each budget is a token bucket kept as one integer
per key (the generic cell rate algorithm: the "theoretical arrival time" of the next request), so a
check is O(1). Memory is bounded: a key whose bucket is full again is the same as no key and is
dropped as the oldest entries are visited, and past `entries_max` keys per budget the least recently
seen is dropped (that client starts again with a full bucket: lenient, never a wrong refusal).

With `serve --edge-workers N` each worker keeps its own buckets (`api/edge.py`): the kernel spreads
connections among the workers, so a client with several connections may get up to N budgets. A
shared count would cost a round trip to the sequencer process per request, which is what the
workers exist to avoid.
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crossmargin.api.rate_budgets import ENTRIES_MAX, Budget, RateLimitSettings
from crossmargin.api.responses import JSON_MEDIA_TYPE, encode_json
from crossmargin.api.routes.web import PAGE_PATHS

TOO_MANY_REQUESTS: Final = 429
TRY_AGAIN_LATER: Final = 1013
"""The WebSocket close code for a connection refused by a budget where no HTTP answer can be sent."""
KEY_CHARS_MAX: Final = 64
STATIC_PREFIX: Final = "/static/"
WEB_PATHS: Final = frozenset(PAGE_PATHS)
"""The web page's shell (one path per page) and, under `STATIC_PREFIX`, its files: never counted."""
"""Longer `X-API-Key`s are refused by the route (401); their bucket is their first 64 characters."""
NS_PER_SECOND: Final = 1_000_000_000


class TokenBuckets:
    """One budget's token buckets, one per key, at most `entries_max` of them.

    Time is counted in integer nanoseconds scaled by the refill (`limit - burst` per window), so
    one request costs exactly `window_ns` and no rounding ever lets a request through: in any
    interval of d nanoseconds at most `burst + d * (limit - burst) / window_ns` requests pass,
    hence at most `limit` in any window.
    """

    def __init__(self, budget: Budget, entries_max: int = ENTRIES_MAX) -> None:
        """Start with every bucket full."""
        self.budget = budget
        self.entries_max = entries_max
        self._refill = budget.limit - budget.burst
        self._cost = budget.window_s * NS_PER_SECOND
        self._tolerance = (budget.burst - 1) * self._cost
        self._due: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        """Return how many keys have a bucket that is not full."""
        return len(self._due)

    def wait(self, key: str, now_ns: int) -> int:
        """Return 0 if a request from `key` may pass at `now_ns`, else the nanoseconds to wait; change nothing."""
        now = now_ns * self._refill
        due = max(self._due.get(key, now), now)
        excess = due - self._tolerance - now
        return -(-excess // self._refill) if excess > 0 else 0

    def take(self, key: str, now_ns: int) -> int:
        """Take one request from `key`'s bucket at `now_ns`: return 0 if it passed, else the nanoseconds to wait.

        A refused request takes nothing: a client that keeps knocking waits no longer for it.
        """
        wait = self.wait(key, now_ns)
        if wait == 0:
            self.spend(key, now_ns)
        return wait

    def spend(self, key: str, now_ns: int) -> None:
        """Take one request from `key`'s bucket, which `wait` said may pass."""
        now = now_ns * self._refill
        self._due[key] = max(self._due.get(key, now), now) + self._cost
        self._due.move_to_end(key)
        self._forget(now)

    def _forget(self, now: int) -> None:
        """Drop the least recently seen buckets that are full again (the same as none), and any past the cap."""
        for _ in range(2):  # amortized O(1): every key is dropped at most once per time it was added
            oldest = next(iter(self._due.items()), None)
            if oldest is None or oldest[1] > now:
                break
            del self._due[oldest[0]]
        while len(self._due) > self.entries_max:
            self._due.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a budget: which one, and how long to wait."""

    budget_name: str
    budget: Budget
    wait_ns: int

    @property
    def retry_after_s(self) -> int:
        """Return the wait in whole seconds, rounded up (at least 1), as `Retry-After` carries it."""
        return max(1, -(-self.wait_ns // NS_PER_SECOND))

    def response(self) -> Response:
        """Return Backpack's 429 body with `Retry-After`."""
        message = (
            f"Too many requests: the {self.budget_name} budget allows {self.budget.limit} requests "
            f"in any {self.budget.window_s} s, {self.budget.burst} at once; retry after {self.retry_after_s} s"
        )
        return Response(
            encode_json({"code": "TOO_MANY_REQUESTS", "message": message}),
            status_code=TOO_MANY_REQUESTS,
            media_type=JSON_MEDIA_TYPE,
            headers={"Retry-After": str(self.retry_after_s)},
        )


class RateLimiter:
    """The three budgets of `RateLimitSettings`, checked for one request from its address and headers."""

    def __init__(
        self, settings: RateLimitSettings, admin_token: str | None = None, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        """Build empty buckets; requests bearing `admin_token` pass unlimited."""
        self.settings = settings
        self.public = TokenBuckets(settings.public, settings.entries_max)
        self.signed = TokenBuckets(settings.signed, settings.entries_max)
        self.signed_ip = TokenBuckets(settings.signed_ip, settings.entries_max)
        self._operator = f"Bearer {admin_token}".encode() if admin_token else None
        self._clock = clock

    def check(self, scope: Scope) -> Refusal | None:
        """Count one request (HTTP or a WebSocket connection); return the refusal if it is over a budget."""
        if scope["type"] == "http":
            path = scope.get("path", "")
            if path.startswith(STATIC_PREFIX) or path in WEB_PATHS:
                return None
        api_key: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                api_key = value[:KEY_CHARS_MAX]
            elif name == b"authorization" and self._operator is not None and hmac.compare_digest(value, self._operator):
                return None
        client = scope.get("client")
        address = client[0] if client else ""
        now = self._clock()
        if api_key is None:
            wait = self.public.take(address, now)
            return Refusal("public (per IP)", self.settings.public, wait) if wait else None
        key = api_key.decode("latin-1")
        by_key = self.signed.wait(key, now)
        if by_key:
            return Refusal("signed (per API key)", self.settings.signed, by_key)
        by_address = self.signed_ip.wait(address, now)
        if by_address:
            return Refusal("signed (per IP)", self.settings.signed_ip, by_address)
        self.signed.spend(key, now)
        self.signed_ip.spend(address, now)
        return None


class RateLimit:
    """Answer 429 to an HTTP request or WebSocket connection over a budget; pass on the rest untouched."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: count HTTP requests and WebSocket connections, pass through the rest."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.limiter.check(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
            await refusal.response()(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
