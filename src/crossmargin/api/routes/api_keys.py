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

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import api_key_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed, signed_write
from crossmargin.api.views.api_keys import view_api_key, view_api_keys
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]


def api_key_routes(context: ApiContext) -> list[Route]:
    """Return the routes bound to a context."""

    async def list_keys(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(context.service.read(lambda state: view_api_keys(state, sub)))

    async def add_key(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = api_key_inputs.add_api_key(sub, parameters)
        await context.run(command, signed_write(request))
        return json_response(view_api_key(sub, command.api_key))

    async def revoke_key(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = api_key_inputs.revoke_api_key(sub, parameters)
        await context.run(command, signed_write(request))
        return json_response(view_api_key(sub, command.api_key))

    return [
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyQueryAll", list_keys), methods=["GET"]),
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyCreate", add_key), methods=["POST"]),
        Route("/wapi/v1/apiKeys", signed(context, "apiKeyRevoke", revoke_key), methods=["DELETE"]),
    ]
