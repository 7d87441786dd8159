"""What a WebSocket client may ask: Backpack's SUBSCRIBE / UNSUBSCRIBE frames, parsed and checked.

A client sends `{"method": "SUBSCRIBE", "params": ["depth.BTC_USDC", ...]}`; private streams
(`account.*`) need `"signature": [apiKey, signature, timestamp, window]`, an ED25519 signature of
`instruction=subscribe&timestamp=<ms>&window=<ms>` exactly as ccxt and Backpack's own clients send
it, checked by `crossmargin.api.auth`. Public streams are `depth.`, `depth.200ms.`, `depth.600ms.`,
`depth.1000ms.`, `bookTicker.`, `trade.`, `ticker.` and `markPrice.` followed by a listed market,
`kline.<interval>.<market>`, `openInterest.` followed by a perp market, `liquidation`, and
`engine.update` (ours); private ones are `account.orderUpdate`, `account.positionUpdate` (each
optionally `.<market>`) and
`account.balanceUpdate`.
`account.rfqUpdate[.<market>]` is accepted and stays silent (there are no RFQs here), because ccxt
subscribes to it alongside the order updates. An optional `"id"` (our addition, as in other
exchanges' APIs) asks for an acknowledgement `{"id": ..., "result": null}` once the request took
effect; without it, only refusals are answered.

Refusals are Backpack's error frame, `{"id": ..., "error": {"code": ..., "message": ...}}`, with
the codes its server sends (4006 "Invalid stream", 4003 "Invalid signature", as recorded from
Backpack's socket by ccxt and bbgo); our messages start with Backpack's words and then say what
to do. Each stream of a request stands alone: a refused one is answered with an error frame and
the others still take effect (a client such as ccxt, which rejects every pending subscription of
a socket on any error frame, then loses nothing it could have had).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from crossmargin.api.auth import authenticate, parse_signed_headers, signing_texts
from crossmargin.api.errors import ApiError
from crossmargin.api.json_body import JsonInputError, decode_json
from crossmargin.api.views.common import JsonValue
from crossmargin.app.market_history import KLINE_INTERVALS

PUBLIC_PREFIXES: Final = ("depth", "trade", "ticker", "markPrice", "bookTicker")
DEPTH_AGGREGATED: Final = ("depth.200ms", "depth.600ms", "depth.1000ms")
PERP_PREFIXES: Final = ("openInterest",)
PUBLIC_WHOLE: Final = ("engine.update", "liquidation")
KLINE: Final = "kline"
PRIVATE_PER_MARKET: Final = ("account.orderUpdate", "account.positionUpdate", "account.rfqUpdate")
PRIVATE_ACCOUNT_WIDE: Final = ("account.balanceUpdate", *PRIVATE_PER_MARKET)
SILENT: Final = "account.rfqUpdate"

INVALID_REQUEST: Final = 4000
UNAUTHORIZED: Final = 4003
UNKNOWN_STREAM: Final = 4006


class Method(StrEnum):
    """The two requests a client can make."""

    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"


class StreamRequestError(Exception):
    """A request that cannot be honoured; `code` goes back to the client with the message."""

    def __init__(self, code: int, message: str, request_id: JsonValue = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A parsed request: its method, streams, optional id and signature fields."""

    method: Method
    streams: tuple[str, ...]
    request_id: JsonValue
    signature: tuple[str, str, str, str] | None


def parse_request(text: str | bytes) -> StreamRequest:
    """Parse one client frame; refuse anything but a well-formed SUBSCRIBE or UNSUBSCRIBE."""
    try:
        body = decode_json(text)
    except JsonInputError as error:
        raise StreamRequestError(INVALID_REQUEST, f"The request is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise StreamRequestError(INVALID_REQUEST, 'The request must be an object like {"method":"SUBSCRIBE",...}')
    request_id = body.get("id")
    method = str(body.get("method", "")).upper()
    if method not in Method.__members__:
        raise StreamRequestError(INVALID_REQUEST, "method must be SUBSCRIBE or UNSUBSCRIBE", request_id)
    params = body.get("params")
    if not isinstance(params, list) or not params or not all(isinstance(name, str) for name in params):
        raise StreamRequestError(INVALID_REQUEST, "params must be a non-empty list of stream names", request_id)
    signature = body.get("signature")
    if signature is not None and (
        not isinstance(signature, list)
        or len(signature) != 4
        or not all(isinstance(part, str | int) for part in signature)
    ):
        raise StreamRequestError(
            INVALID_REQUEST, "signature must be [apiKey, signature, timestamp, window]", request_id
        )
    parts = None if signature is None else (str(signature[0]), str(signature[1]), str(signature[2]), str(signature[3]))
    return StreamRequest(Method(method), tuple(params), request_id, parts)


def is_private(stream: str) -> bool:
    """Return whether a stream name is an account stream (it needs a signature)."""
    return stream.startswith("account.")


def check_stream(
    stream: str, markets: frozenset[str] | set[str], perps: frozenset[str] | set[str] = frozenset()
) -> None:
    """Refuse a stream name we do not serve, naming what we do; `perps` are the perp markets among `markets`."""
    if stream in PRIVATE_ACCOUNT_WIDE or stream in PUBLIC_WHOLE:
        return
    prefix, _, market = stream.rpartition(".")
    per_market = prefix in PUBLIC_PREFIXES or prefix in DEPTH_AGGREGATED or prefix in PRIVATE_PER_MARKET
    if (per_market and market in markets) or (prefix in PERP_PREFIXES and market in perps):
        return
    kind, _, interval = prefix.partition(".")
    if kind == KLINE and interval in KLINE_INTERVALS and market in markets:
        return
    if prefix in PERP_PREFIXES and market in markets:
        raise StreamRequestError(
            UNKNOWN_STREAM,
            f"Invalid stream {stream!r}: {market} is a spot market, and open "
            "interest is for perpetual markets (symbols ending in _PERP)",
        )
    raise StreamRequestError(
        UNKNOWN_STREAM,
        f"Invalid stream {stream!r}: use depth.<symbol>, depth.<200ms|600ms|1000ms>.<symbol>, bookTicker.<symbol>, "
        "trade.<symbol>, ticker.<symbol>, markPrice.<symbol>, "
        f"kline.<interval>.<symbol> (interval one of {', '.join(KLINE_INTERVALS)}) with a listed market symbol, "
        "openInterest.<perp symbol>, liquidation, engine.update, "
        "or account.orderUpdate[.<symbol>], account.positionUpdate[.<symbol>], account.balanceUpdate",
    )


def verify_subscription(signature: tuple[str, str, str, str] | None, now_ms: int | None = None) -> str:
    """Check a private subscription's signature; return its API key."""
    if signature is None:
        raise StreamRequestError(
            UNAUTHORIZED, "Private streams need signature: [apiKey, signature, timestamp, window] of 'subscribe'"
        )
    api_key, signed, timestamp, window = signature
    try:
        headers = parse_signed_headers(
            {"X-API-Key": api_key, "X-Signature": signed, "X-Timestamp": timestamp, "X-Window": window}
        )
        authenticate(headers, signing_texts("subscribe", {}, headers.timestamp_ms, headers.window_ms), None, now_ms)
    except ApiError as error:
        raise StreamRequestError(UNAUTHORIZED, error.message) from None
    return api_key
