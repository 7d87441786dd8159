"""ED25519 request signing exactly as Backpack does it, in bounded work.

A signed request carries `X-API-Key` (base64 ED25519 public key), `X-Signature` (base64 signature),
`X-Timestamp` (ms) and `X-Window` (ms, default 5000, at most 60000). The signed text is
`instruction=<name>&<parameters sorted by key, k=v>&timestamp=<ms>&window=<ms>` with the parameters
from the query string (GET, DELETE with a query) or the JSON body (POST, PATCH, DELETE). A batch
signs each item as its own `instruction=...` run, joined by '&'. Time windows use the wall clock
even when the engine runs on a manual clock: clients sign with their real time.

Clients differ in how they print values, so a request is checked against a short, fixed list of
*signing variants* (`SIGNING_VARIANTS`), each one rule applied to every parameter at once: the
values as sent (Backpack's documented form), booleans printed `true`/`false`, booleans printed
`True`/`False`, and every value percent-encoded as ccxt signs it. So a request costs at most
`len(SIGNING_VARIANTS)` ED25519 verifications whatever its parameters, and the callers look the
API key up before any (`signed.py`): an unknown key is refused without one. Every problem with the
signature headers, the time window or the signature itself is a 401 `ApiError` (`unauthorized`).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Final
from urllib.parse import quote

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from crossmargin.api.errors import unauthorized

WINDOW_MS_DEFAULT: Final = 5_000
WINDOW_MS_MAX: Final = 60_000
CLOCK_SKEW_MS_MAX: Final = 1_000
API_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
API_KEY_CHARS_MAX: Final = 64
"""X-API-Key is 44 base64 characters; anything longer is refused unread."""
SIGNATURE_CHARS_MAX: Final = 128
"""X-Signature is 88 base64 characters; anything longer is refused unread."""
MILLISECONDS_DIGITS_MAX: Final = 16
"""X-Timestamp and X-Window have at most this many digits (a ms timestamp has 13 until 2286)."""

Parameters = Mapping[str, object]
PrintValue = Callable[[object], str]


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The four signature headers, parsed."""

    api_key: str
    signature: bytes
    timestamp_ms: int
    window_ms: int


def parse_signed_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """Parse and check the signature headers (names are case-insensitive), each within its length."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in ("x-api-key", "x-signature", "x-timestamp") if not lowered.get(name)]
    if missing:
        raise unauthorized(
            f"Missing header {missing[0].upper()}: signed requests need X-API-Key, X-Signature and X-Timestamp"
        )
    api_key = lowered["x-api-key"]
    if len(api_key) > API_KEY_CHARS_MAX:
        raise unauthorized(f"X-API-Key must be a base64 ED25519 public key of at most {API_KEY_CHARS_MAX} characters")
    if len(lowered["x-signature"]) > SIGNATURE_CHARS_MAX:
        raise unauthorized(
            f"X-Signature must be a base64 ED25519 signature of at most {SIGNATURE_CHARS_MAX} characters"
        )
    signature = _base64(lowered["x-signature"], "X-Signature")
    if len(signature) != SIGNATURE_BYTES:
        raise unauthorized("X-Signature must be a base64 ED25519 signature of 64 bytes")
    timestamp_ms = _milliseconds(lowered["x-timestamp"], "X-Timestamp")
    window_ms = _milliseconds(lowered.get("x-window") or str(WINDOW_MS_DEFAULT), "X-Window")
    if not 0 < window_ms <= WINDOW_MS_MAX:
        raise unauthorized(f"X-Window must be between 1 and {WINDOW_MS_MAX} ms")
    return SignedHeaders(api_key, signature, timestamp_ms, window_ms)


def _base64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise unauthorized(f"{name} is not valid base64") from error


def _milliseconds(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > MILLISECONDS_DIGITS_MAX:
        raise unauthorized(f"{name} must be a whole number of milliseconds, at most {MILLISECONDS_DIGITS_MAX} digits")
    return int(text)


@lru_cache(maxsize=65_536)
def verify_key(api_key: str) -> VerifyKey:
    """Return the verifier of a base64 ED25519 public key (cached: keys are few and reused)."""
    raw = _base64(api_key, "X-API-Key")
    if len(raw) != API_KEY_BYTES:
        raise unauthorized("X-API-Key must be a base64 ED25519 public key of 32 bytes")
    return VerifyKey(raw)


BOOLEAN_WORDS: Final = {"true": True, "True": True, "false": False, "False": False}


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    return BOOLEAN_WORDS.get(value) if isinstance(value, str) else None


def as_sent(value: object) -> str:
    """Backpack's documented form: the value as the request carries it, JSON booleans as `true`/`false`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def booleans_lowercase(value: object) -> str:
    """Booleans, also the words `True`/`False`, as `true`/`false` (bpx-py, backpack-exchange-sdk).

    They sign `true` but hand the boolean to `requests`, which puts `True` in the query string.
    """
    boolean = _boolean(value)
    return as_sent(value) if boolean is None else ("true" if boolean else "false")


def booleans_capitalized(value: object) -> str:
    """Booleans, also the words `true`/`false`, as Python prints them: `True`/`False`."""
    boolean = _boolean(value)
    return as_sent(value) if boolean is None else str(boolean)


def percent_encoded(value: object) -> str:
    """Every value percent-encoded as ccxt signs its urlencoded query (`Manual%2CAutoLend`); booleans `true`/`false`."""
    return quote(booleans_lowercase(value), safe="/")


SIGNING_VARIANTS: Final[tuple[PrintValue, ...]] = (as_sent, booleans_lowercase, booleans_capitalized, percent_encoded)
"""How a value may be printed in the signed text; each variant prints every parameter its own way."""
VERIFICATIONS_MAX: Final = len(SIGNING_VARIANTS)
"""The most ED25519 verifications one request may cost."""


def _run(instruction: str, parameters: Parameters, print_value: PrintValue) -> str:
    pairs = (f"{key}={print_value(value)}" for key, value in sorted(parameters.items()) if value is not None)
    return "&".join((f"instruction={instruction}", *pairs))


def _distinct(texts: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for text in texts:
        if text not in seen:
            seen.add(text)
            yield text


def signing_texts(instruction: str, parameters: Parameters, timestamp_ms: int, window_ms: int) -> Iterator[str]:
    """Yield the accepted forms of the text a client signs for one instruction: one per signing variant, at most.

    Lazily: a form is printed only when the ones before it did not verify (the first usually does).
    """
    suffix = f"timestamp={timestamp_ms}&window={window_ms}"
    return _distinct(f"{_run(instruction, parameters, variant)}&{suffix}" for variant in SIGNING_VARIANTS)


def batch_signing_texts(
    instruction: str, items: Sequence[Parameters], timestamp_ms: int, window_ms: int
) -> Iterator[str]:
    """Yield the accepted forms of the text a client signs for a batch, lazily: each item as its own instruction run."""
    suffix = f"timestamp={timestamp_ms}&window={window_ms}"
    return _distinct(
        "&".join((*(_run(instruction, item, variant) for item in items), suffix)) for variant in SIGNING_VARIANTS
    )


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


def signature_verifies(key: VerifyKey, text: str, signature: bytes) -> bool:
    """Return whether `signature` is the key's ED25519 signature of `text` (one verification)."""
    try:
        key.verify(text.encode(), signature)
    except BadSignatureError:
        return False
    return True


def authenticate(
    headers: SignedHeaders,
    texts: Iterable[str],
    guard: ReplayGuard | None,
    now_ms: int | None = None,
) -> None:
    """Check the time window, the signature over any accepted text, and (with a guard) that it is new.

    At most `VERIFICATIONS_MAX` texts are tried, whatever the caller passes.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if headers.timestamp_ms > now + CLOCK_SKEW_MS_MAX:
        raise unauthorized("X-Timestamp is in the future: check your clock")
    if now > headers.timestamp_ms + headers.window_ms:
        raise unauthorized(
            f"Request expired: X-Timestamp is {now - headers.timestamp_ms} ms old, past X-Window {headers.window_ms}"
        )
    key = verify_key(headers.api_key)
    for text in islice(texts, VERIFICATIONS_MAX):
        if not signature_verifies(key, text, headers.signature):
            continue
        # Expiry order matters for the guard's pruning; windows are short, so insertion order is near enough.
        expires_ms = headers.timestamp_ms + headers.window_ms
        if guard is not None and not guard.check_and_remember(headers.signature, expires_ms, now):
            raise unauthorized("This signed request was already used: sign each request anew")
        return
    raise unauthorized(
        "Invalid signature: sign instruction, sorted parameters, timestamp and window with the API secret"
    )
