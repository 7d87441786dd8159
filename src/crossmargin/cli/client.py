"""The CLI's HTTP client: one running crossmargin server, reached the way any Backpack client reaches it.

Three kinds of request: *public* ones need nothing, *operator* ones carry the admin token as a
bearer token (`/admin/v1/...`), and *signed* ones carry a subaccount's ED25519 signature in
Backpack's four headers. The signed text is `instruction=<name>&<parameters sorted by key,
k=v>&timestamp=<ms>&window=<ms>`, booleans printed `true`/`false`, with the parameters taken from
the query string (GET) or the JSON body (POST, PATCH). The client knows nothing of commands or
tables: it returns decoded JSON or raises `ServerError` (the server said no, with Backpack's
`{code, message}`) or `UnreachableError` (no server answered).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Self

import httpx
from nacl.signing import SigningKey

DEFAULT_URL: Final = "http://127.0.0.1:8080"
WINDOW_MS: Final = 5_000
TIMEOUT_S: Final = 60.0
SECRET_BYTES: Final = 32

JsonValue = object
Parameters = Mapping[str, str | int | bool]


class ServerError(Exception):
    """The server refused a request: HTTP status, Backpack error `code` and its `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class UnreachableError(Exception):
    """No server answered at the URL (refused, unresolvable or timed out)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach a crossmargin server at {url}: {reason}")
        self.url = url
        self.reason = reason


class CredentialsError(ValueError):
    """An API secret that is not the base64 of a 32-byte ED25519 seed."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A subaccount's API key (base64 ED25519 public key) and secret (base64 32-byte seed)."""

    api_key: str
    api_secret: str

    def signing_key(self) -> SigningKey:
        """Return the ED25519 key the secret encodes."""
        try:
            seed = base64.b64decode(self.api_secret, validate=True)
        except (binascii.Error, ValueError) as error:
            raise CredentialsError("the API secret is not valid base64") from error
        if len(seed) != SECRET_BYTES:
            raise CredentialsError(f"the API secret must encode {SECRET_BYTES} bytes, not {len(seed)}")
        return SigningKey(seed)


def printed(value: str | int | bool) -> str:
    """Return a parameter as it appears in the signed text (and in a query string)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def signing_text(instruction: str, parameters: Parameters, timestamp_ms: int, window_ms: int) -> str:
    """Return the text Backpack signs for one instruction."""
    pairs = [f"{key}={printed(value)}" for key, value in sorted(parameters.items())]
    return "&".join((f"instruction={instruction}", *pairs, f"timestamp={timestamp_ms}", f"window={window_ms}"))


def signed_headers(credentials: Credentials, instruction: str, parameters: Parameters) -> dict[str, str]:
    """Return the four signature headers of a request signed now."""
    timestamp_ms = int(time.time() * 1000)
    text = signing_text(instruction, parameters, timestamp_ms, WINDOW_MS)
    signature = credentials.signing_key().sign(text.encode()).signature
    return {
        "X-API-Key": credentials.api_key,
        "X-Signature": base64.b64encode(signature).decode(),
        "X-Timestamp": str(timestamp_ms),
        "X-Window": str(WINDOW_MS),
    }


class Client:
    """Talks to one server; `admin_token` and `credentials` are needed only by the requests that use them."""

    def __init__(
        self,
        url: str,
        admin_token: str | None = None,
        credentials: Credentials | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token
        self.credentials = credentials
        # A plain http:// server never sees TLS, so its client loads no certificate authorities
        # (22 ms of every command); an https:// one is verified as always.
        verify = not self.url.lower().startswith("http://")
        self._http = httpx.Client(base_url=self.url, timeout=TIMEOUT_S, transport=transport, verify=verify)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def public(self, path: str, query: Parameters | None = None) -> JsonValue:
        """GET a public route."""
        params = {key: printed(value) for key, value in (query or {}).items()}
        return self._send("GET", path, params=params)

    def admin(self, method: str, path: str, body: Mapping[str, object] | None = None) -> JsonValue:
        """Send an operator request with the admin token."""
        assert self.admin_token is not None, "the command checks for an admin token before it sends"
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return self._send(method, path, headers=headers, body=body if method != "GET" else None)

    def signed(self, method: str, path: str, instruction: str, parameters: Parameters | None = None) -> JsonValue:
        """Send a request signed as the subaccount of the credentials."""
        assert self.credentials is not None, "the command checks for credentials before it sends"
        given = dict(parameters or {})
        headers = signed_headers(self.credentials, instruction, given)
        if method == "GET":
            return self._send(method, path, headers=headers, params={k: printed(v) for k, v in given.items()})
        return self._send(method, path, headers=headers, body=given)

    def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> JsonValue:
        try:
            response = self._http.request(method, path, headers=headers, params=params, json=body)
        except httpx.ConnectError as error:
            raise UnreachableError(self.url, _reason(error)) from None
        except httpx.TimeoutException:
            raise UnreachableError(self.url, f"no answer within {TIMEOUT_S:.0f} s") from None
        return _decode(response)


def _reason(error: httpx.ConnectError) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() or "errno 111" in text.lower() else text


def _decode(response: httpx.Response) -> JsonValue:
    """Return the body (None when empty) of a success, or raise the server's error."""
    try:
        body: JsonValue = response.json() if response.content.strip() else None
    except json.JSONDecodeError:
        body = response.text
    if response.is_success:
        return body
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        raise ServerError(response.status_code, str(body["code"]), str(body.get("message", "")))
    raise ServerError(response.status_code, f"HTTP_{response.status_code}", str(body or response.reason_phrase))
