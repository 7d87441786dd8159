"""A subaccount's own API keys: list, register and revoke them, signed by a key it already has.

A crossmargin extension (Backpack makes keys on its website). The web page uses it for its
"Remember on this device" session: it generates a non-extractable ED25519 key in the browser,
registers the public key here signed with the key and secret the user pasted, then forgets the
secret; signing out revokes the device key (docs/ARCHITECTURE.md, "The web page's session").

- `GET /wapi/v1/apiKeys` (instruction `apiKeyQueryAll`): `{subaccountId, apiKeys: [...]}`.
- `POST /wapi/v1/apiKeys` (`apiKeyCreate`, body `{publicKey}`): `AddApiKey`, at most
  `API_KEYS_PER_SUBACCOUNT_MAX` keys per subaccount; answers `{subaccountId, apiKey}`.
- `DELETE /wapi/v1/apiKeys` (`apiKeyRevoke`, body `{publicKey}`): `RevokeApiKey`, any key of the
  same subaccount, the signing one included, but never its last; answers `{subaccountId, apiKey}`.

Both writes are journaled commands like every other, so a key added or revoked survives a restart.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed, signed_write
from crossmargin.core.commands import AddApiKey, RevokeApiKey
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]
PUBLIC_KEY_BYTES: Final = 32
PUBLIC_KEY_CHARS_MAX: Final = 64


def public_key(parameters: Parameters) -> str:
    """Return `publicKey` if it is the base64 of a 32-byte ED25519 public key, as `X-API-Key` carries it."""
    text = inputs.text(parameters, "publicKey", max_chars=PUBLIC_KEY_CHARS_MAX)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("publicKey must be a base64 ED25519 public key") from None
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ApiError(f"publicKey must be a base64 ED25519 public key of {PUBLIC_KEY_BYTES} bytes, not {len(raw)}")
    return text


def api_key_routes(context: ApiContext) -> list[Route]:
    """Return the routes bound to a context."""

    async def list_keys(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        keys = context.service.read(lambda state: list(state.subaccounts[sub].api_keys))
        return json_response({"subaccountId": sub, "apiKeys": keys})

    async def add_key(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        key = public_key(parameters)
        await context.run(AddApiKey(sub, key), signed_write(request))
        return json_response({"subaccountId": sub, "apiKey": key})

    async def revoke_key(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        key = public_key(parameters)
        await context.run(RevokeApiKey(sub, key), signed_write(request))
        return json_response({"subaccountId": sub, "apiKey": key})

    return [
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyQueryAll", list_keys), methods=["GET"]),
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyCreate", add_key), methods=["POST"]),
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyRevoke", revoke_key), methods=["DELETE"]),
    ]
