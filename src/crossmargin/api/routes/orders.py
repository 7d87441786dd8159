"""Signed order endpoints: place, query, cancel one order or all, and place a batch.

`POST /api/v1/order` runs one `PlaceOrder` and answers with the order as it ended up (resting,
filled, or expired with its reason). The engine reports every order a command touched as
`OrderChanged` events; the one the command placed is the subaccount's order with the highest id
(a self-trade prevention may also close an older order of the same subaccount, and due work that
ran first only touches older orders), and its last event is its final state.

`POST /api/v1/orders` takes a JSON array of order payloads, signed as Backpack signs batches (each
item its own `instruction=orderExecute&...` run, then timestamp and window). Each item is its own
command; they run in order in one sequencer batch and one durable transaction with the request's
signature (`ApiContext.run_all`), so a crash keeps all of them or none, and a replay or retry of
the same request places nothing more (INV-REPLAY-2). The answer lists, per item, the order
(`"operation": "Ok"`) or the error that refused it (`"operation": "Err"`, `code`, `message`), as
Backpack's `BatchCommandOrderResult`.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crossmargin.api import inputs, order_inputs
from crossmargin.api.auth import authenticate, batch_signing_texts
from crossmargin.api.context import ApiContext, ApiRefusalError, accepted_or_refused
from crossmargin.api.inputs import InputError, require_parameter_count
from crossmargin.api.responses import json_response
from crossmargin.api.signed import claim_signed_write, decode_body, signed, signed_write, signer_of
from crossmargin.api.views import JsonObject, JsonValue
from crossmargin.api.views.orders import view_open_order, view_open_orders, view_order
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.engine import Accepted
from crossmargin.core.events import Event, OrderChanged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import Order, OrderStatus

BATCH_ORDERS_MAX: Final = 50
Parameters = dict[str, object]


def placed_order(events: tuple[Event, ...], subaccount_id: SubaccountId) -> Order:
    """Return the final state of the order a `PlaceOrder` command placed, from its accepted events."""
    changed = [event.order for event in events if isinstance(event, OrderChanged)]
    own = [order for order in changed if order.subaccount_id == subaccount_id]
    assert own, "an accepted order placement reports the order it placed"
    newest = max(order.order_id for order in own)
    return [order for order in own if order.order_id == newest][-1]


def cancelled_orders(events: tuple[Event, ...], subaccount_id: SubaccountId, market: str) -> list[Order]:
    """Return the orders a cancel command cancelled, in the order it cancelled them."""
    return [
        event.order
        for event in events
        if isinstance(event, OrderChanged)
        and event.order.subaccount_id == subaccount_id
        and event.order.market == market
        and event.order.status is OrderStatus.CANCELLED
    ]


def _batch_items(body: bytes) -> list[Parameters]:
    decoded = decode_body(body)
    if not isinstance(decoded, list) or not decoded:
        raise InputError("The request body must be a non-empty JSON array of orders")
    if len(decoded) > BATCH_ORDERS_MAX:
        raise InputError(f"A batch holds at most {BATCH_ORDERS_MAX} orders, not {len(decoded)}")
    if not all(isinstance(item, dict) for item in decoded):
        raise InputError("Every item of the batch must be a JSON object (one order payload)")
    for index, item in enumerate(decoded):
        require_parameter_count(len(item), f"Order {index} of the batch")
    return decoded


def order_routes(context: ApiContext) -> list[BaseRoute]:  # noqa: C901 -- one small closure per route
    """Return the signed order routes bound to a context."""
    read = context.service.read

    def markets() -> dict[str, MarketSpec]:
        return context.service.peek(lambda state: dict(state.markets))

    def view_placed(result: Accepted, subaccount_id: SubaccountId) -> JsonObject:
        order = placed_order(result.events, subaccount_id)
        return view_order(order, markets()[order.market])

    async def execute(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.place_order(sub, parameters, markets())
        return json_response(view_placed(await context.run(command, signed_write(request)), sub))

    async def query(_: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol = inputs.text(parameters, "symbol")
        by_id, by_client = order_inputs.order_id(parameters), order_inputs.client_id(parameters)
        return json_response(read(lambda state: view_open_order(state, sub, symbol, by_id, by_client)))

    async def cancel(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.cancel_order(sub, parameters, markets())
        result = await context.run(command, signed_write(request))
        (order,) = cancelled_orders(result.events, sub, command.market)
        return json_response(view_order(order, markets()[order.market]))

    async def query_all(_: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol, market_type = (
            None if parameters.get(name) is None else str(parameters[name]) for name in ("symbol", "marketType")
        )
        return json_response(read(lambda state: view_open_orders(state, sub, symbol, market_type)))

    async def cancel_all(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        command = order_inputs.cancel_all_orders(sub, parameters, markets())
        result = await context.run(command, signed_write(request))
        spec = markets()[command.market]
        return json_response(
            [view_order(order, spec) for order in cancelled_orders(result.events, sub, command.market)]
        )

    async def execute_batch(request: Request) -> Response:
        headers, sub = signer_of(context, request)
        items = _batch_items(await request.body())
        texts = batch_signing_texts("orderExecute", items, headers.timestamp_ms, headers.window_ms)
        authenticate(headers, texts, None)
        claimed = claim_signed_write(context, headers)
        parsed: list[PlaceOrder | InputError] = []
        for item in items:
            try:
                parsed.append(order_inputs.place_order(sub, item, markets()))
            except InputError as error:
                parsed.append(error)
        commands = [command for command in parsed if isinstance(command, PlaceOrder)]
        ran = iter(await context.run_all(commands, claimed) if commands else ())
        results: list[JsonValue] = []
        for command in parsed:
            if isinstance(command, InputError):
                results.append({"operation": "Err", **command.error.body()})
                continue
            try:
                results.append({"operation": "Ok", **view_placed(accepted_or_refused(next(ran)), sub)})
            except ApiRefusalError as error:
                results.append({"operation": "Err", "code": error.code, "message": error.message})
        return json_response(results)

    return [
        Route("/api/v1/order", signed(context, "orderExecute", execute), methods=["POST"]),
        Route("/api/v1/order", signed(context, "orderQuery", query), methods=["GET"]),
        Route("/api/v1/order", signed(context, "orderCancel", cancel), methods=["DELETE"]),
        Route("/api/v1/orders", signed(context, "orderQueryAll", query_all), methods=["GET"]),
        Route("/api/v1/orders", signed(context, "orderCancelAll", cancel_all), methods=["DELETE"]),
        Route("/api/v1/orders", execute_batch, methods=["POST"]),
    ]
