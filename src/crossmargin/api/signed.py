"""Signed endpoints: parse parameters, verify the Backpack signature, find the caller's subaccount.

`signed(context, instruction, handler)` turns a handler of (request, subaccount id, parameters)
into a Starlette endpoint. Parameters come from the query string for GET and from the JSON body
otherwise; the body is limited in size and must be a JSON object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from crossmargin.api.auth import AuthError, authenticate, parse_signed_headers, signing_texts
from crossmargin.api.context import ApiContext
from crossmargin.api.inputs import BODY_BYTES_MAX, InputError, require_object
from crossmargin.core.ids import SubaccountId

SignedHandler = Callable[[Request, SubaccountId, dict[str, object]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


async def read_parameters(request: Request) -> dict[str, object]:
    """Return the request's parameters: the query for GET, else the JSON body (may be empty)."""
    if request.method == "GET":
        return dict(request.query_params)
    body = await request.body()
    if len(body) > BODY_BYTES_MAX:
        raise InputError(f"The request body is larger than {BODY_BYTES_MAX} bytes")
    if not body.strip():
        return dict(request.query_params)
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise InputError(f"The request body is not valid JSON: {error}") from None
    return require_object(decoded)


def signed(context: ApiContext, instruction: str, handler: SignedHandler) -> Endpoint:
    """Wrap a handler so it runs only for a correctly signed request of a known API key."""

    async def endpoint(request: Request) -> Response:
        # The headers first: a request without a well-formed signature learns nothing about its input.
        headers = parse_signed_headers(dict(request.headers))
        parameters = await read_parameters(request)
        texts = signing_texts(instruction, parameters, headers.timestamp_ms, headers.window_ms)
        # A replayed write could move money twice, so writes are single-use; a replayed read changes
        # nothing and tells the replayer only what the captured response already did.
        authenticate(headers, texts, None if request.method == "GET" else context.guard)
        subaccount_id = context.service.peek(lambda state: state.api_keys.get(headers.api_key))
        if subaccount_id is None:
            raise AuthError("Unknown API key: create one with POST /admin/v1/accounts")
        return await handler(request, subaccount_id, parameters)

    return endpoint
