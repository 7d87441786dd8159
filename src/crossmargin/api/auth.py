"""ED25519 request signing exactly as Backpack does it.

A signed request carries `X-API-Key` (base64 ED25519 public key), `X-Signature` (base64 signature),
`X-Timestamp` (ms) and `X-Window` (ms, default 5000, at most 60000). The signed text is
`instruction=<name>&<parameters sorted by key, k=v>&timestamp=<ms>&window=<ms>` with the parameters
from the query string (GET, DELETE with a query) or the JSON body (POST, PATCH, DELETE). A batch
signs each item as its own `instruction=...` run, joined by '&'. Clients differ in how they print
values (booleans as `true` or `True`; values percent-encoded or not), so every known variant of
the text is tried. Time windows use the wall clock even when the engine runs on a manual clock:
clients sign with their real time.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Final
from urllib.parse import quote

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

WINDOW_MS_DEFAULT: Final = 5_000
WINDOW_MS_MAX: Final = 60_000
CLOCK_SKEW_MS_MAX: Final = 1_000
API_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64

Parameters = Mapping[str, object]


class AuthError(Exception):
    """A request's signature headers are missing, malformed, stale, replayed or wrong."""


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The four signature headers, parsed."""

    api_key: str
    signature: bytes
    timestamp_ms: int
    window_ms: int


def parse_signed_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """Parse and check the signature headers (names are case-insensitive)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in ("x-api-key", "x-signature", "x-timestamp") if not lowered.get(name)]
    if missing:
        raise AuthError(
            f"Missing header {missing[0].upper()}: signed requests need X-API-Key, X-Signature and X-Timestamp"
        )
    api_key = lowered["x-api-key"]
    signature = _base64(lowered["x-signature"], "X-Signature")
    if len(signature) != SIGNATURE_BYTES:
        raise AuthError("X-Signature must be a base64 ED25519 signature of 64 bytes")
    timestamp_ms = _integer(lowered["x-timestamp"], "X-Timestamp")
    window_ms = _integer(lowered.get("x-window") or str(WINDOW_MS_DEFAULT), "X-Window")
    if not 0 < window_ms <= WINDOW_MS_MAX:
        raise AuthError(f"X-Window must be between 1 and {WINDOW_MS_MAX} ms")
    return SignedHeaders(api_key, signature, timestamp_ms, window_ms)


def _base64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise AuthError(f"{name} is not valid base64") from error


def _integer(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise AuthError(f"{name} must be a whole number of milliseconds")
    return int(text)


@lru_cache(maxsize=65_536)
def verify_key(api_key: str) -> VerifyKey:
    """Return the verifier of a base64 ED25519 public key (cached: keys are few and reused)."""
    raw = _base64(api_key, "X-API-Key")
    if len(raw) != API_KEY_BYTES:
        raise AuthError("X-API-Key must be a base64 ED25519 public key of 32 bytes")
    return VerifyKey(raw)


def _value_variants(value: object) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true", "True") if value else ("false", "False")
    text = str(value)
    variants = [text]
    if text in ("True", "False", "true", "false"):
        variants.append(text.lower() if text[0].isupper() else text.capitalize())
    encoded = quote(text, safe="")
    if encoded != text:
        variants.append(encoded)
    return tuple(variants)


def signing_texts(instruction: str, parameters: Parameters, timestamp_ms: int, window_ms: int) -> list[str]:
    """Return every accepted form of the text a client signs for one instruction."""
    keys = sorted(key for key, value in parameters.items() if value is not None)
    choices = [[f"{key}={variant}" for variant in _value_variants(parameters[key])] for key in keys]
    suffix = f"timestamp={timestamp_ms}&window={window_ms}"
    texts = []
    for combination in product(*choices):
        body = "&".join((f"instruction={instruction}", *combination))
        texts.append(f"{body}&{suffix}")
    return texts


def batch_signing_texts(
    instruction: str, items: Sequence[Parameters], timestamp_ms: int, window_ms: int
) -> Iterable[str]:
    """Return the text a client signs for a batch: each item as its own instruction run."""
    runs = [
        "&".join((f"instruction={instruction}", *(f"{k}={_value_variants(v)[0]}" for k, v in sorted(item.items()))))
        for item in items
    ]
    yield "&".join((*runs, f"timestamp={timestamp_ms}&window={window_ms}"))


class ReplayGuard:
    """Remembers signatures inside their window, so a captured request cannot be sent twice."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._seen: OrderedDict[bytes, int] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def check_and_remember(self, signature: bytes, expires_ms: int, now_ms: int) -> bool:
        """Return False if this signature was already used and has not expired; remember it."""
        with self._lock:
            while self._seen:
                oldest_signature, oldest_expiry = next(iter(self._seen.items()))
                if oldest_expiry >= now_ms and len(self._seen) < self._capacity:
                    break
                del self._seen[oldest_signature]
            if signature in self._seen:
                return False
            self._seen[signature] = expires_ms
            return True


def authenticate(
    headers: SignedHeaders,
    texts: Iterable[str],
    guard: ReplayGuard | None,
    now_ms: int | None = None,
) -> None:
    """Check the time window, the signature over any accepted text, and (with a guard) that it is new."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if headers.timestamp_ms > now + CLOCK_SKEW_MS_MAX:
        raise AuthError("X-Timestamp is in the future: check your clock")
    if now > headers.timestamp_ms + headers.window_ms:
        raise AuthError(
            f"Request expired: X-Timestamp is {now - headers.timestamp_ms} ms old, past X-Window {headers.window_ms}"
        )
    key = verify_key(headers.api_key)
    for text in texts:
        try:
            key.verify(text.encode(), headers.signature)
        except BadSignatureError:
            continue
        # Expiry order matters for the guard's pruning; windows are short, so insertion order is near enough.
        expires_ms = headers.timestamp_ms + headers.window_ms
        if guard is not None and not guard.check_and_remember(headers.signature, expires_ms, now):
            raise AuthError("This signed request was already used: sign each request anew")
        return
    raise AuthError("Invalid signature: sign instruction, sorted parameters, timestamp and window with the API secret")
