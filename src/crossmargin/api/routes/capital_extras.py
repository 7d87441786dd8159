"""Routes bots call around trading and funding: limits, APY, wallets, addresses, positions, dust, withdrawal delay.

The bodies are `views/capital_extras.py`'s and `views/position_history.py`'s; the writes are
`ConvertDust` and `SetWithdrawalDelay` (`capital_inputs.py`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import capital_inputs, inputs, order_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.paging import paged_response
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed, signed_write
from crossmargin.api.views import capital_extras, position_history
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]


def capital_extra_routes(context: ApiContext) -> list[Route]:  # noqa: C901 -- one small closure per route
    """Return the routes bound to a context."""
    read = context.service.read

    async def max_order(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        order = order_inputs.max_order_quantity(sub, p, context.service.peek(lambda state: dict(state.markets)))
        return json_response(read(lambda state: capital_extras.view_max_order(state, order)))

    async def deposit_address(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        chain = inputs.choice(p, "blockchain", inputs.BLOCKCHAINS)
        return json_response(read(lambda state: capital_extras.view_deposit_address(state, sub, chain)))

    async def positions(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, state_filter, order = (inputs.optional_text(p, name) for name in ("symbol", "state", "sortDirection"))
        kinds = request.query_params.getlist("marketType") or None
        return paged_response(
            read(lambda state: position_history.view_position_history(state, sub, symbol, state_filter, kinds, order)),
            p,
        )

    async def convert_dust(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        await context.run(capital_inputs.convert_dust(sub, p), signed_write(request))
        return Response(status_code=200)

    async def dust_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        ident = inputs.optional_integer(p, "id")
        symbol, order = inputs.optional_text(p, "symbol"), inputs.optional_text(p, "sortDirection")
        return paged_response(read(lambda state: capital_extras.view_dust_history(state, sub, ident, symbol, order)), p)

    async def withdrawal_delay(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        body = read(lambda state: capital_extras.view_withdrawal_delay(state, sub))
        return Response(status_code=204) if body is None else json_response(body)

    async def create_withdrawal_delay(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        await context.run(capital_inputs.set_withdrawal_delay(sub, p, create=True), signed_write(request))
        return Response(status_code=200)

    async def update_withdrawal_delay(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        await context.run(capital_inputs.set_withdrawal_delay(sub, p, create=False), signed_write(request))
        body = read(lambda state: capital_extras.view_withdrawal_delay(state, sub))
        return json_response(body)

    async def apy(request: Request) -> Response:
        inputs.optional_integer(dict(request.query_params), "tierId")
        return json_response(read(capital_extras.view_apy))

    async def wallets(_: Request) -> Response:
        return json_response(read(capital_extras.view_wallets))

    return [
        Route("/api/v1/account/limits/order", signed(context, "maxOrderQuantity", max_order), methods=["GET"]),
        Route(
            "/wapi/v1/capital/deposit/address",
            signed(context, "depositAddressQuery", deposit_address),
            methods=["GET"],
        ),
        Route("/wapi/v1/history/position", signed(context, "positionHistoryQueryAll", positions), methods=["GET"]),
        Route("/api/v1/borrowLend/apy", apy, methods=["GET"]),
        Route("/api/v1/wallets", wallets, methods=["GET"]),
        Route("/api/v1/account/convertDust", signed(context, "convertDust", convert_dust), methods=["POST"]),
        Route("/wapi/v1/history/dust", signed(context, "dustHistoryQueryAll", dust_history), methods=["GET"]),
        Route(
            "/wapi/v1/capital/withdrawals/delay",
            signed(context, "withdrawalDelayQuery", withdrawal_delay),
            methods=["GET"],
        ),
        Route(
            "/wapi/v1/capital/withdrawals/delay",
            signed(context, "withdrawalDelayCreate", create_withdrawal_delay),
            methods=["POST"],
        ),
        Route(
            "/wapi/v1/capital/withdrawals/delay",
            signed(context, "withdrawalDelayUpdate", update_withdrawal_delay),
            methods=["PATCH"],
        ),
    ]
