"""The operator API's credentials: its bearer token, and the key pairs it hands out.

Every `/admin/v1` route checks `Authorization: Bearer <admin token>` first (compared in constant
time); a missing or wrong token is a 401 `ApiError`. New accounts, subaccounts and keys come with a
fresh ED25519 key pair: the public key is journaled with the subaccount, the 32-byte seed is
returned once and never stored.
"""

from __future__ import annotations

import base64
import hmac

from nacl.signing import SigningKey
from starlette.requests import Request

from crossmargin.api.errors import unauthorized


def require_operator(request: Request, admin_token: str) -> None:
    """Refuse a request that does not carry the operator's bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), admin_token.encode()):
        raise unauthorized("The operator API needs 'Authorization: Bearer <admin token>'")


def new_key_pair() -> tuple[str, str]:
    """Return a fresh ED25519 key pair as base64: the public key and the 32-byte seed."""
    key = SigningKey.generate()
    return base64.b64encode(bytes(key.verify_key)).decode(), base64.b64encode(bytes(key)).decode()
