"""Private write endpoints of the borrow-lend flow: POST /api/v1/borrowLend, PATCH /api/v1/account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.signed import signed, signed_write
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend, UpdateSettings
from crossmargin.core.ids import SubaccountId


def borrow_lend_routes(context: ApiContext) -> list[Route]:
    """Return the signed borrow-lend write routes bound to a context."""

    async def execute_borrow_lend(
        request: Request, subaccount_id: SubaccountId, parameters: dict[str, object]
    ) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        spec = inputs.asset(parameters, "symbol", specs)
        side_text = inputs.text(parameters, "side")
        if side_text not in (BorrowLendSide.BORROW, BorrowLendSide.LEND):
            raise inputs.InputError(f"side {side_text!r} must be Borrow or Lend")
        atoms = inputs.quantity(parameters, "quantity", spec)
        await context.run(
            ExecuteBorrowLend(subaccount_id, spec.symbol, BorrowLendSide(side_text), atoms), signed_write(request)
        )
        return Response(status_code=200)

    async def update_account(request: Request, subaccount_id: SubaccountId, parameters: dict[str, object]) -> Response:
        known = {"autoBorrowSettlements", "autoLend", "autoRepayBorrows", "leverageLimit"}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise inputs.InputError(f"{unknown[0]} is not an account setting; settings are {', '.join(sorted(known))}")
        command = UpdateSettings(
            subaccount_id,
            leverage_limit=inputs.optional_ratio(parameters, "leverageLimit"),
            auto_lend=inputs.optional_bool(parameters, "autoLend"),
            auto_repay_borrows=inputs.optional_bool(parameters, "autoRepayBorrows"),
            auto_borrow_settlements=inputs.optional_bool(parameters, "autoBorrowSettlements"),
        )
        await context.run(command, signed_write(request))
        return Response(status_code=200)

    return [
        Route("/api/v1/borrowLend", signed(context, "borrowLendExecute", execute_borrow_lend), methods=["POST"]),
        Route("/api/v1/account", signed(context, "accountUpdate", update_account), methods=["PATCH"]),
    ]
