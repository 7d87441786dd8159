"""`GET /api/v1/borrowLend/position/liquidationPrice`: the estimated liquidation price after a planned borrow.

`borrow` is the standard base64 of a `BorrowLendExecutePayload` JSON (`{"quantity", "side",
"symbol"}`), read by the parser of `POST /api/v1/borrowLend` (`borrow_lend_inputs.py`). Backpack's spec lists no
signature headers and no instruction for this endpoint, yet answers 401 without one; crossmargin
signs it like the other account queries with the instruction `borrowLendPositionLiquidationPrice`
(the name community clients use). `subaccountId`, if sent, must be the signing key's subaccount.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import borrow_lend_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import from_rejection
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views.liquidation_price import view_planned_liquidation_price
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import Rejection

INSTRUCTION: Final = "borrowLendPositionLiquidationPrice"
PATH: Final = "/api/v1/borrowLend/position/liquidationPrice"


def liquidation_price_routes(context: ApiContext) -> list[Route]:
    """Return the signed what-if route bound to a context."""

    async def liquidation_price(_: Request, subaccount_id: SubaccountId, parameters: dict[str, object]) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        command = borrow_lend_inputs.planned_borrow_lend(subaccount_id, parameters, specs)
        answer = context.service.read(lambda state: view_planned_liquidation_price(state, command))
        if isinstance(answer, Rejection):
            raise from_rejection(answer.reason, answer.message)
        return json_response(answer)

    return [Route(PATH, signed(context, INSTRUCTION, liquidation_price), methods=["GET"])]
