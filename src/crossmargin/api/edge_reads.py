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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Final, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import read_inputs, views
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError, server_error
from crossmargin.api.paging import Paging, page_query
from crossmargin.api.responses import JSON_MEDIA_TYPE, encode_json
from crossmargin.api.signed import signed
from crossmargin.api.views.orders import view_fills, view_open_order, view_open_orders, view_order_history
from crossmargin.api.views.perps import view_positions
from crossmargin.app.service import Service, ServiceUnavailableError
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState

LOG = logging.getLogger("crossmargin.api")
Parameters = Mapping[str, object]
ReadAnswer = tuple[int, bytes, dict[str, str] | None]
"""What the sequencer answers a read with: HTTP status, JSON body, extra headers (the paging ones)."""
FetchRead = Callable[[str, tuple[Any, ...], Paging | None], Awaitable[ReadAnswer]]


@dataclass(frozen=True, slots=True)
class EdgeRead:
    """One read: its signing instruction (None: public), its query parser (worker) and its view (sequencer).

    The parser is the route's own (`read_inputs.py`), so a worker parses a query as one process does.
    """

    instruction: str | None
    parse: Callable[[Request, Parameters], tuple[Any, ...]]
    view: Callable[..., views.JsonValue]
    """Called as `view(state, *arguments)`; a signed read's arguments start with the subaccount."""
    _: KW_ONLY
    paged: bool = False


def _max_withdrawal(  # the view takes its two flags by keyword
    state: EngineState, sub: SubaccountId, symbol: str, auto_borrow: bool | None, auto_lend_redeem: bool | None
) -> views.JsonValue:
    return views.view_max_withdrawal(state, sub, symbol, auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem)


EDGE_READS: Final[dict[str, EdgeRead]] = {
    # Signed: the same instruction, parser and view as `routes/reads.py`, `routes/orders.py`, `routes/trading_reads.py`.
    "/api/v1/account": EdgeRead("accountQuery", read_inputs.no_query, views.view_account),
    "/api/v1/account/limits/borrow": EdgeRead("maxBorrowQuantity", read_inputs.max_borrow, views.view_max_borrow),
    "/api/v1/account/limits/withdrawal": EdgeRead("maxWithdrawalQuantity", read_inputs.max_withdrawal, _max_withdrawal),
    "/api/v1/borrowLend/positions": EdgeRead(
        "borrowLendPositionQuery", read_inputs.no_query, views.view_borrow_lend_positions
    ),
    "/api/v1/capital": EdgeRead("balanceQuery", read_inputs.no_query, views.view_capital),
    "/api/v1/capital/collateral": EdgeRead("collateralQuery", read_inputs.no_query, views.view_capital_collateral),
    "/wapi/v1/capital/deposits": EdgeRead("depositQueryAll", read_inputs.deposits, views.view_deposits, paged=True),
    "/api/v1/position": EdgeRead("positionQuery", read_inputs.positions, view_positions),
    "/api/v1/order": EdgeRead("orderQuery", read_inputs.open_order, view_open_order),
    "/api/v1/orders": EdgeRead("orderQueryAll", read_inputs.open_orders, view_open_orders),
    "/wapi/v1/history/orders": EdgeRead(
        "orderHistoryQueryAll", read_inputs.order_history, view_order_history, paged=True
    ),
    "/wapi/v1/history/fills": EdgeRead("fillHistoryQueryAll", read_inputs.fills, view_fills, paged=True),
    # Public: the same parser and views as `routes/reads.py`.
    "/api/v1/assets": EdgeRead(None, read_inputs.no_query, views.view_assets),
    "/api/v1/collateral": EdgeRead(None, read_inputs.no_query, views.view_collateral),
    "/api/v1/borrowLend/markets": EdgeRead(None, read_inputs.no_query, views.view_borrow_lend_markets),
    "/api/v1/markPrices": EdgeRead(None, read_inputs.mark_prices, views.view_mark_prices),
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
            return await answer(read.parse(request, request.query_params), None)

        return public

    async def private(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        arguments = (sub, *read.parse(request, parameters))
        return await answer(arguments, page_query(parameters) if read.paged else None)

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
        return _error_answer(error)
    except ServiceUnavailableError:
        raise
    except Exception:  # as the full application's handler does: a bug, logged, answered 500
        LOG.exception("unexpected error")
        return _error_answer(server_error())


def _error_answer(error: ApiError) -> ReadAnswer:
    return error.status, encode_json(error.body()), None
