"""Where `--prices backpack` finds Backpack and how often it asks: the source's options, without its network code.

Kept apart from `backpack.py` so that building the command line does not import an HTTP and a
WebSocket client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_REST_URL: Final = "https://api.backpack.exchange"
DEFAULT_WS_URL: Final = "wss://ws.backpack.exchange"
REST_URL_VARIABLE: Final = "CROSSMARGIN_BACKPACK_URL"
WS_URL_VARIABLE: Final = "CROSSMARGIN_BACKPACK_WS_URL"
WS_OFF: Final = "off"
MARK_PRICES_PATH: Final = "/api/v1/markPrices"
TICKERS_PATH: Final = "/api/v1/tickers"
BACKPACK_PRICE_MAX_AGE_MS: Final = 60_000
"""`serve --prices backpack` refuses new risk against a price older than this, unless told otherwise."""


@dataclass(frozen=True, slots=True)
class BackpackOptions:
    """Where Backpack is and how often to ask; `ws_url` None reads REST only."""

    rest_url: str = DEFAULT_REST_URL
    ws_url: str | None = DEFAULT_WS_URL
    poll_seconds: float = 5.0
    request_timeout_seconds: float = 10.0
    stream_idle_seconds: float = 30.0
    backoff_first_seconds: float = 1.0
    backoff_max_seconds: float = 30.0

    def __post_init__(self) -> None:
        for name in ("poll_seconds", "request_timeout_seconds", "stream_idle_seconds", "backoff_first_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be greater than zero")
        if self.backoff_max_seconds < self.backoff_first_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_first_seconds")
        for url, schemes in ((self.rest_url, ("http://", "https://")), (self.ws_url, ("ws://", "wss://"))):
            if url is not None and not url.startswith(schemes):
                raise ValueError(f"{url!r} must start with {' or '.join(schemes)}")


def backpack_options(
    environment: Mapping[str, str] = os.environ, *, rest_url: str | None = None, ws_url: str | None = None
) -> BackpackOptions:
    """Return the options `--backpack-url` / `--backpack-ws-url` (or their environment variables) ask for.

    Flags win over `CROSSMARGIN_BACKPACK_URL` / `CROSSMARGIN_BACKPACK_WS_URL`, which win over
    Backpack's own addresses; a WebSocket URL of `off` polls REST only.
    """
    rest = rest_url or environment.get(REST_URL_VARIABLE) or DEFAULT_REST_URL
    ws = ws_url or environment.get(WS_URL_VARIABLE) or DEFAULT_WS_URL
    return BackpackOptions(rest_url=rest.rstrip("/"), ws_url=None if ws == WS_OFF else ws)


def serve_price_max_age_ms(requested_ms: int | None, *, wall_clock: bool) -> int | None:
    """Return the price age limit for `serve --prices backpack`: the one asked for, else one minute.

    On a manual clock none is set unless asked for (serve refuses one there: time jumps by hours).
    """
    if requested_ms is not None or not wall_clock:
        return requested_ms
    return BACKPACK_PRICE_MAX_AGE_MS
