"""`GET /api/v1/borrowLend/position/liquidationPrice`: the estimated liquidation price after a planned borrow.

`borrow` is the standard base64 of a `BorrowLendExecutePayload` JSON (`{"quantity", "side",
"symbol"}`), checked as `POST /api/v1/borrowLend` checks its body. Backpack's spec lists no
signature headers and no instruction for this endpoint, yet answers 401 without one; crossmargin
signs it like the other account queries with the instruction `borrowLendPositionLiquidationPrice`
(the name community clients use). `subaccountId`, if sent, must be the signing key's subaccount.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext, ApiRefusalError
from crossmargin.api.errors import from_rejection
from crossmargin.api.json_body import JsonInputError, decode_json
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views.liquidation_price import view_planned_liquidation_price
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import Rejection

INSTRUCTION: Final = "borrowLendPositionLiquidationPrice"
PATH: Final = "/api/v1/borrowLend/position/liquidationPrice"
SIDES: Final = (BorrowLendSide.BORROW.value, BorrowLendSide.LEND.value)
BORROW_CHARS_MAX: Final = 1024
"""The longest `borrow` parameter: base64 of a three-field payload is about 100 characters."""


def decode_borrow(encoded: str) -> dict[str, object]:
    """Return the `borrow` parameter's JSON object, or refuse it naming what is wrong."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise inputs.InputError("borrow must be standard base64 of a JSON object") from None
    try:
        decoded = decode_json(raw)
    except JsonInputError:
        raise inputs.InputError(
            'borrow must encode JSON such as {"quantity":"1","side":"Borrow","symbol":"BTC"}'
        ) from None
    if not isinstance(decoded, dict):
        raise inputs.InputError("borrow must encode a JSON object with quantity, side and symbol")
    return decoded


def planned_command(
    subaccount_id: SubaccountId, parameters: dict[str, object], specs: dict[str, AssetSpec]
) -> ExecuteBorrowLend:
    """Return the borrow or lend that the query's parameters plan, checked as POST /api/v1/borrowLend checks."""
    asked = parameters.get("subaccountId")
    if asked is not None and inputs.integer(parameters, "subaccountId") != subaccount_id:
        message = f"subaccountId {asked} is not this API key's subaccount ({subaccount_id}): sign with that key"
        raise inputs.InputError(message)
    borrow = decode_borrow(inputs.text(parameters, "borrow", max_chars=BORROW_CHARS_MAX))
    spec = inputs.asset(borrow, "symbol", specs)
    side = inputs.choice(borrow, "side", SIDES)
    return ExecuteBorrowLend(
        subaccount_id, spec.symbol, BorrowLendSide(side), inputs.quantity(borrow, "quantity", spec)
    )


def liquidation_price_routes(context: ApiContext) -> list[Route]:
    """Return the signed what-if route bound to a context."""

    async def liquidation_price(_: Request, subaccount_id: SubaccountId, parameters: dict[str, object]) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        command = planned_command(subaccount_id, parameters, specs)
        answer = context.service.read(lambda state: view_planned_liquidation_price(state, command))
        if isinstance(answer, Rejection):
            error = from_rejection(answer.reason, answer.message)
            raise ApiRefusalError(error.status, error.code, error.message)
        return json_response(answer)

    return [Route(PATH, signed(context, INSTRUCTION, liquidation_price), methods=["GET"])]
