"""Routes bots call around trading and funding: max order quantity, APY, wallets, deposit addresses, positions.

The bodies are `views/capital_extras.py`'s and `views/position_history.py`'s.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs, order_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.paging import paged_response
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views import capital_extras, position_history
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]


def capital_extra_routes(context: ApiContext) -> list[Route]:
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
    ]
