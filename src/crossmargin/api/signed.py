"""Signed endpoints: parse parameters, verify the Backpack signature, find the caller's subaccount.

`signed(context, instruction, handler)` turns a handler of (request, subaccount id, parameters)
into a Starlette endpoint. The work a request can cost before it is known to be signed is
bounded, in this order: the signature headers are parsed (each of bounded length); the API key is
looked up, and an unknown key is refused at once, without any ED25519 verification; the
parameters are read (query string for GET, else the JSON body: at most `PARAMETERS_MAX` of them,
nested at most `JSON_DEPTH_MAX` deep, the body's size already bounded by `body_limit.py`); then
the signature is checked against at most `VERIFICATIONS_MAX` texts (`auth.py`). A write (any
method but GET) is then claimed in the service's replay guard: a signature used before is refused
(401, saying what came of the first copy), and the handler passes `signed_write(request)` with the
command it runs, so the sequencer journals the signature with its answer (INV-REPLAY-2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from crossmargin.api.auth import SignedHeaders, authenticate, parse_signed_headers, signing_texts
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError, unauthorized
from crossmargin.api.inputs import require_object, require_parameter_count
from crossmargin.api.json_body import JsonInputError, decode_json
from crossmargin.app.replay_guard import DuplicateRequestError, SignedRequest
from crossmargin.core.ids import SubaccountId

SignedHandler = Callable[[Request, SubaccountId, dict[str, object]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def decode_body(body: bytes) -> object:
    """Return a request body's JSON, or refuse it (400) saying what is wrong."""
    try:
        return decode_json(body)
    except JsonInputError as error:
        raise ApiError(f"The request body is not valid JSON: {error}") from None


async def read_parameters(request: Request) -> dict[str, object]:
    """Return the request's parameters: the query for GET, else the JSON body (may be empty)."""
    if request.method != "GET":
        body = await request.body()
        if body.strip():
            return require_object(decode_body(body))
    require_parameter_count(len(request.query_params.multi_items()))
    return dict(request.query_params)


def signer_of(context: ApiContext, request: Request) -> tuple[SignedHeaders, SubaccountId]:
    """Return a request's signature headers and the subaccount its API key signs for; refuse an unknown key.

    Nothing is verified yet: the key is looked up first, so a made-up key costs no verification.
    """
    headers = parse_signed_headers(dict(request.headers))
    subaccount_id = context.service.peek(lambda state: state.api_keys.get(headers.api_key))
    if subaccount_id is None:
        raise unauthorized("Unknown API key: create one with POST /admin/v1/accounts")
    return headers, subaccount_id


def claim_signed_write(context: ApiContext, headers: SignedHeaders) -> SignedRequest:
    """Refuse a verified write whose signature was used before; remember this one until it expires."""
    signed_request = SignedRequest(headers.signature, headers.timestamp_ms + headers.window_ms)
    try:
        context.service.replay_guard.claim(signed_request)
    except DuplicateRequestError as error:
        raise unauthorized(str(error)) from None
    return signed_request


def signed_write(request: Request) -> SignedRequest:
    """Return the signed request a write endpoint claimed, to run its command with."""
    claimed = request.state.signed_write
    assert isinstance(claimed, SignedRequest), "signed() claims every write before its handler runs"
    return claimed


def signed(context: ApiContext, instruction: str, handler: SignedHandler) -> Endpoint:
    """Wrap a handler so it runs only for a correctly signed request of a known API key."""

    async def endpoint(request: Request) -> Response:
        request.state.instruction = instruction  # for the access log (`access_log.py`)
        # The headers and the key first: a request without a well-formed signature of a known key
        # learns nothing about its input and costs no verification.
        headers, subaccount_id = signer_of(context, request)
        parameters = await read_parameters(request)
        texts = signing_texts(instruction, parameters, headers.timestamp_ms, headers.window_ms)
        authenticate(headers, texts, None)
        # A replayed write could move money twice, so writes are single-use; a replayed read changes
        # nothing and tells the replayer only what the captured response already did.
        if request.method != "GET":
            request.state.signed_write = claim_signed_write(context, headers)
        return await handler(request, subaccount_id, parameters)

    return endpoint
