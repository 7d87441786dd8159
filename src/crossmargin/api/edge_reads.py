"""Reads an edge worker parses and verifies itself, answered from the sequencer's state over the command channel.

With `crossmargin serve --edge-workers N`, a worker serves the reads in `EDGE_READS` in two halves.
In the worker (`edge_read_routes`): the signature headers, the API key's subaccount, the query and
the ED25519 signature, by the very same `signed()` wrapper as in one process, then the query's
fields, parsed into plain values. What crosses the channel is compact and already trusted: the
path (which read), its arguments (the subaccount first, for a signed read) and the page asked for.
In the sequencer process (`answer_read`, on its event loop): one `Service.read` runs the view on
the state, and the body is encoded to JSON there, so the worker only wraps bytes in a response.

A read answered after a write was acknowledged sees it (read-your-writes): the acknowledgement
leaves the sequencer only once the write's batch is applied and durable, and the read runs later on
that same state. The answer is the one the full application gives, byte for byte (the same views,
encoder and paging headers); the one difference is the order of two complaints about one request:
`limit`/`offset` are checked here before the view runs, so a request that is wrong in both ways is
told about its paging first. Reads not listed (the statement, the withdrawal and borrow-lend
histories, market data with cache headers, the operator API) are forwarded whole (`api/edge.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any, Final, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs, order_inputs, views
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.responses import JSON_MEDIA_TYPE, encode_json
from crossmargin.api.signed import signed
from crossmargin.api.views.orders import view_fills, view_open_order, view_open_orders, view_order_history
from crossmargin.api.views.perps import view_positions
from crossmargin.app.service import Service, ServiceUnavailableError
from crossmargin.core.ids import SubaccountId

LOG = logging.getLogger("crossmargin.api")
Parameters = dict[str, object]
Paging = tuple[int | None, int | None]
ReadAnswer = tuple[int, bytes, dict[str, str] | None]
"""What the sequencer answers a read with: HTTP status, JSON body, extra headers (the paging ones)."""
FetchRead = Callable[[str, tuple[Any, ...], Paging | None], Awaitable[ReadAnswer]]


@dataclass(frozen=True, slots=True)
class EdgeRead:
    """One read: its signing instruction (None: public), its query parser (worker) and its view (sequencer)."""

    instruction: str | None
    parse: Callable[[Request, Parameters], tuple[Any, ...]]
    view: Callable[..., views.JsonValue]
    """Called as `view(state, *arguments)`; a signed read's arguments start with the subaccount."""
    _: KW_ONLY
    paged: bool = False


def _none(_: Request, __: Parameters) -> tuple[Any, ...]:
    return ()


def _text(parameters: Parameters, name: str) -> str | None:
    return inputs.optional_text(parameters, name)


def _optional_int(parameters: Parameters, name: str) -> int | None:
    return None if parameters.get(name) is None else inputs.integer(parameters, name)


def _paging(parameters: Parameters) -> Paging:
    limit = None if parameters.get("limit") is None else inputs.integer(parameters, "limit", maximum=views.LIMIT_MAX)
    return limit, _optional_int(parameters, "offset")


def _max_withdrawal_query(_: Request, p: Parameters) -> tuple[Any, ...]:
    return inputs.text(p, "symbol"), inputs.optional_bool(p, "autoBorrow"), inputs.optional_bool(p, "autoLendRedeem")


def _open_order_query(_: Request, p: Parameters) -> tuple[Any, ...]:
    return inputs.text(p, "symbol"), order_inputs.order_id(p), order_inputs.client_id(p)


def _open_orders_query(_: Request, p: Parameters) -> tuple[Any, ...]:
    return tuple(None if p.get(name) is None else str(p[name]) for name in ("symbol", "marketType"))


def _order_history_query(request: Request, p: Parameters) -> tuple[Any, ...]:
    symbol, order, direction = _text(p, "symbol"), order_inputs.order_id(p), _text(p, "sortDirection")
    return symbol, order, request.query_params.getlist("marketType") or None, direction


def _fills_query(request: Request, p: Parameters) -> tuple[Any, ...]:
    symbol, fill_type, direction = _text(p, "symbol"), _text(p, "fillType"), _text(p, "sortDirection")
    start, end, order = _optional_int(p, "from"), _optional_int(p, "to"), order_inputs.order_id(p)
    return symbol, start, end, fill_type, order, request.query_params.getlist("marketType") or None, direction


def _fills(state: Any, sub: SubaccountId, *query: Any) -> views.JsonValue:  # noqa: ANN401 -- the state, untyped in the table
    symbol, start, end, fill_type, order, types, direction = query
    return view_fills(
        state,
        sub,
        symbol=symbol,
        from_ms=start,
        to_ms=end,
        fill_type=fill_type,
        order_id=order,
        market_types=types,
        sort_direction=direction,
    )


EDGE_READS: Final[dict[str, EdgeRead]] = {
    # Signed: the same instruction and view as `routes/reads.py`, `routes/orders.py`, `routes/trading_reads.py`.
    "/api/v1/account": EdgeRead("accountQuery", _none, views.view_account),
    "/api/v1/account/limits/borrow": EdgeRead(
        "maxBorrowQuantity", lambda _, p: (inputs.text(p, "symbol"),), views.view_max_borrow
    ),
    "/api/v1/account/limits/withdrawal": EdgeRead(
        "maxWithdrawalQuantity",
        _max_withdrawal_query,
        lambda state, sub, symbol, borrow, redeem: views.view_max_withdrawal(
            state, sub, symbol, auto_borrow=borrow, auto_lend_redeem=redeem
        ),
    ),
    "/api/v1/borrowLend/positions": EdgeRead("borrowLendPositionQuery", _none, views.view_borrow_lend_positions),
    "/api/v1/capital": EdgeRead("balanceQuery", _none, views.view_capital),
    "/api/v1/capital/collateral": EdgeRead("collateralQuery", _none, views.view_capital_collateral),
    "/wapi/v1/capital/deposits": EdgeRead(
        "depositQueryAll",
        lambda _, p: (_optional_int(p, "from"), _optional_int(p, "to")),
        views.view_deposits,
        paged=True,
    ),
    "/api/v1/position": EdgeRead(
        "positionQuery", lambda _, p: (_text(p, "symbol"), _text(p, "marketType")), view_positions
    ),
    "/api/v1/order": EdgeRead("orderQuery", _open_order_query, view_open_order),
    "/api/v1/orders": EdgeRead("orderQueryAll", _open_orders_query, view_open_orders),
    "/wapi/v1/history/orders": EdgeRead("orderHistoryQueryAll", _order_history_query, view_order_history, paged=True),
    "/wapi/v1/history/fills": EdgeRead("fillHistoryQueryAll", _fills_query, _fills, paged=True),
    # Public: the same views as `routes/reads.py`.
    "/api/v1/assets": EdgeRead(None, _none, views.view_assets),
    "/api/v1/collateral": EdgeRead(None, _none, views.view_collateral),
    "/api/v1/borrowLend/markets": EdgeRead(None, _none, views.view_borrow_lend_markets),
    "/api/v1/markPrices": EdgeRead(
        None,
        lambda request, _: (request.query_params.get("symbol"), request.query_params.get("marketType")),
        views.view_mark_prices,
    ),
}
"""GET requests a worker serves through the channel, by path."""


# ---------------------------------------------------------------------------------------------
# The worker


def edge_read_routes(context: ApiContext, fetch: FetchRead) -> list[Route]:
    """Return a worker's routes for `EDGE_READS`: verify and parse here, `fetch` the answer from the sequencer."""
    return [Route(path, _endpoint(context, path, read, fetch), methods=["GET"]) for path, read in EDGE_READS.items()]


def _endpoint(
    context: ApiContext, path: str, read: EdgeRead, fetch: FetchRead
) -> Callable[[Request], Awaitable[Response]]:
    async def answer(arguments: tuple[Any, ...], paging: Paging | None) -> Response:
        status, body, headers = await fetch(path, arguments, paging)
        return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE, headers=headers)

    if read.instruction is None:

        async def public(request: Request) -> Response:
            return await answer(read.parse(request, {}), None)

        return public

    async def private(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        arguments = (sub, *read.parse(request, parameters))
        return await answer(arguments, _paging(parameters) if read.paged else None)

    return signed(context, read.instruction, private)


# ---------------------------------------------------------------------------------------------
# The sequencer process


def answer_read(service: Service, request: tuple[str, tuple[Any, ...], Paging | None]) -> ReadAnswer:
    """Run one read a worker verified and parsed; return its status, JSON body and paging headers.

    A journal fault (`ServiceUnavailableError`) is raised to the channel, which answers it as the
    503 it is; a refusal of the query is its Backpack error body, as the full application's.
    """
    path, arguments, paging = request
    read = EDGE_READS[path]
    try:
        found = service.read(lambda state: read.view(state, *arguments))
        if paging is None:
            return 200, encode_json(found), None
        page = views.page(cast("list[views.JsonValue]", found), *paging)  # a paged read's view returns rows
        return 200, encode_json(page.rows), page.headers()
    except ApiError as error:
        return error.status, encode_json(error.body()), None
    except ServiceUnavailableError:
        raise
    except Exception:  # as the full application's handler does: a bug, logged, answered 500
        LOG.exception("unexpected error")
        body = {"code": "SERVER_ERROR", "message": "Internal server error: the operator's log has the details"}
        return 500, encode_json(body), None
