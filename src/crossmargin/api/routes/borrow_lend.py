"""Private write endpoints of the borrow-lend flow: POST /api/v1/borrowLend, PATCH /api/v1/account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import borrow_lend_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.signed import signed, signed_write
from crossmargin.core.ids import SubaccountId


def borrow_lend_routes(context: ApiContext) -> list[Route]:
    """Return the signed borrow-lend write routes bound to a context."""

    async def execute_borrow_lend(
        request: Request, subaccount_id: SubaccountId, parameters: dict[str, object]
    ) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        command = borrow_lend_inputs.execute_borrow_lend(subaccount_id, parameters, specs)
        await context.run(command, signed_write(request))
        return Response(status_code=200)

    async def update_account(request: Request, subaccount_id: SubaccountId, parameters: dict[str, object]) -> Response:
        await context.run(borrow_lend_inputs.update_settings(subaccount_id, parameters), signed_write(request))
        return Response(status_code=200)

    return [
        Route("/api/v1/borrowLend", signed(context, "borrowLendExecute", execute_borrow_lend), methods=["POST"]),
        Route("/api/v1/account", signed(context, "accountUpdate", update_account), methods=["PATCH"]),
    ]
