"""Signed trading reads: open perp positions and the order, fill, funding and settlement histories.

Histories are paged with `limit`/`offset` and answer with Backpack's X-PAGE/X-TOTAL headers, the
same way as the borrow-lend histories (`routes/reads.py`, through `paging.py`). A repeated
`marketType` query parameter filters by several market types.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crossmargin.api import inputs, read_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.paging import paged_response
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views.orders import view_fills, view_order_history
from crossmargin.api.views.perps import view_funding_history, view_positions, view_settlement_history
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]


def trading_read_routes(context: ApiContext) -> list[BaseRoute]:
    """Return the signed trading read routes bound to a context."""
    read = context.service.read

    async def positions(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, market_type = read_inputs.positions(request, p)
        return json_response(read(lambda state: view_positions(state, sub, symbol, market_type)))

    async def order_history(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, order, types, direction = read_inputs.order_history(request, p)
        return paged_response(read(lambda state: view_order_history(state, sub, symbol, order, types, direction)), p)

    async def fills(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        query = read_inputs.fills(request, p)
        return paged_response(read(lambda state: view_fills(state, sub, *query)), p)

    async def funding(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, direction = inputs.optional_text(p, "symbol"), inputs.optional_text(p, "sortDirection")
        return paged_response(read(lambda state: view_funding_history(state, sub, symbol, direction)), p)

    async def settlement(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        source, direction = inputs.optional_text(p, "source"), inputs.optional_text(p, "sortDirection")
        return paged_response(read(lambda state: view_settlement_history(state, sub, source, direction)), p)

    return [
        Route("/api/v1/position", signed(context, "positionQuery", positions), methods=["GET"]),
        Route("/wapi/v1/history/orders", signed(context, "orderHistoryQueryAll", order_history), methods=["GET"]),
        Route("/wapi/v1/history/fills", signed(context, "fillHistoryQueryAll", fills), methods=["GET"]),
        Route("/wapi/v1/history/funding", signed(context, "fundingHistoryQueryAll", funding), methods=["GET"]),
        Route("/wapi/v1/history/settlement", signed(context, "settlementHistoryQueryAll", settlement), methods=["GET"]),
    ]
