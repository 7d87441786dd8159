"""Signed order endpoints: place, query, cancel one order or all, and place a batch.

`POST /api/v1/order` runs one `PlaceOrder` and answers with the order as it ended up (resting,
filled, or expired with its reason). The engine reports every order a command touched as
`OrderChanged` events; the one the command placed is the subaccount's order with the highest id
(a self-trade prevention may also close an older order of the same subaccount, and due work that
ran first only touches older orders, and a stop loss / take profit placed for it is left out), and
its last event is its final state (`views/orders.py`). `DELETE /api/v1/order` answers with the
order it named, though a parent's pending stop loss / take profit is cancelled with it.

`POST /api/v1/orders` takes a JSON array of order payloads, signed as Backpack signs batches (each
item its own `instruction=orderExecute&...` run, then timestamp and window). Each item is its own
command; they run in order in one sequencer batch and one durable transaction with the request's
signature (`ApiContext.run_all`), so a crash keeps all of them or none, and a replay or retry of
the same request places nothing more (INV-REPLAY-2). The answer lists, per item, the order
(`"operation": "Ok"`) or the error that refused it (`"operation": "Err"`, `code`, `message`), as
Backpack's `BatchCommandOrderResult`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crossmargin.api import order_inputs, read_inputs
from crossmargin.api.auth import authenticate, batch_signing_texts
from crossmargin.api.context import ApiContext, accepted_or_refused
from crossmargin.api.errors import ApiError
from crossmargin.api.responses import json_response
from crossmargin.api.signed import claim_signed_write, decode_body, signed, signed_write, signer_of
from crossmargin.api.views import JsonValue
from crossmargin.api.views.orders import (
    cancelled_order,
    view_batch_item,
    view_cancelled_orders,
    view_open_order,
    view_open_orders,
    view_order,
    view_placed_order,
)
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec

Parameters = dict[str, object]


def order_routes(context: ApiContext) -> list[BaseRoute]:  # noqa: C901 -- one small closure per route
    """Return the signed order routes bound to a context."""
    read = context.service.read

    def markets() -> dict[str, MarketSpec]:
        return context.service.peek(lambda state: dict(state.markets))

    async def execute(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.place_order(sub, parameters, markets())
        result = await context.run(command, signed_write(request))
        return json_response(view_placed_order(result.events, sub, markets()))

    async def query(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol, by_id, by_client = read_inputs.open_order(request, parameters)
        return json_response(read(lambda state: view_open_order(state, sub, symbol, by_id, by_client)))

    async def cancel(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.cancel_order(sub, parameters, markets())
        result = await context.run(command, signed_write(request))
        order = cancelled_order(result.events, command)
        return json_response(view_order(order, markets()[order.market]))

    async def query_all(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol, market_type = read_inputs.open_orders(request, parameters)
        return json_response(read(lambda state: view_open_orders(state, sub, symbol, market_type)))

    async def cancel_all(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.cancel_all_orders(sub, parameters, markets())
        result = await context.run(command, signed_write(request))
        return json_response(view_cancelled_orders(result.events, sub, markets()[command.market]))

    async def execute_batch(request: Request) -> Response:
        request.state.instruction = "orderExecute"  # for the access log, as signed() notes it
        headers, sub = signer_of(context, request)
        items = order_inputs.batch(decode_body(await request.body()))
        texts = batch_signing_texts("orderExecute", items, headers.timestamp_ms, headers.window_ms)
        authenticate(headers, texts, None)
        claimed = claim_signed_write(context, headers)
        parsed: list[PlaceOrder | ApiError] = []
        for item in items:
            try:
                parsed.append(order_inputs.place_order(sub, item, markets()))
            except ApiError as error:
                parsed.append(error)
        commands = [command for command in parsed if isinstance(command, PlaceOrder)]
        ran = iter(await context.run_all(commands, claimed) if commands else ())
        results: list[JsonValue] = []
        for command in parsed:
            if isinstance(command, ApiError):
                results.append(view_batch_item(command))
                continue
            try:
                accepted = accepted_or_refused(next(ran))
            except ApiError as error:
                results.append(view_batch_item(error))
                continue
            results.append(view_batch_item(view_placed_order(accepted.events, sub, markets())))
        return json_response(results)

    return [
        Route("/api/v1/order", signed(context, "orderExecute", execute), methods=["POST"]),
        Route("/api/v1/order", signed(context, "orderQuery", query), methods=["GET"]),
        Route("/api/v1/order", signed(context, "orderCancel", cancel), methods=["DELETE"]),
        Route("/api/v1/orders", signed(context, "orderQueryAll", query_all), methods=["GET"]),
        Route("/api/v1/orders", signed(context, "orderCancelAll", cancel_all), methods=["DELETE"]),
        Route("/api/v1/orders", execute_batch, methods=["POST"]),
    ]
