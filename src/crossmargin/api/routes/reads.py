"""GET routes: public market data and the signed account, capital, history and statement queries.

Each handler reads the state once through `Service.read` and renders it with a view; histories
are paged with `limit`/`offset` and answer with Backpack's X-PAGE/X-TOTAL headers. The statement
(`GET /wapi/v1/statement`, a crossmargin extension) is cut by time instead (`from`/`to`), so that
each window's closing ties out to the next one's opening.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crossmargin.api import capital_inputs, inputs, read_inputs, views
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.health import not_serving
from crossmargin.api.paging import paged_response
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed, signed_write
from crossmargin.api.views.statement import view_statement
from crossmargin.app.service import ServiceUnavailableError
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId

Parameters = dict[str, object]


def public_read_routes(context: ApiContext) -> list[Route]:  # noqa: C901 -- one small closure per route
    """Return the public GET routes."""
    read = context.service.read

    async def assets(_: Request) -> Response:
        return json_response(read(views.view_assets))

    async def collateral(_: Request) -> Response:
        return json_response(read(views.view_collateral))

    async def markets(_: Request) -> Response:
        return json_response(read(views.view_borrow_lend_markets))

    async def markets_history(request: Request) -> Response:
        interval = request.query_params.get("interval")
        if interval is None:
            raise ApiError("interval is required (1d, 1w, 1month or 1year)")
        symbol = request.query_params.get("symbol")
        history = context.pool_history
        return json_response(
            read(lambda state: views.view_borrow_lend_markets_history(state, interval, symbol, history))
        )

    async def mark_prices(request: Request) -> Response:
        symbol, market_type = read_inputs.mark_prices(request, request.query_params)
        return json_response(read(lambda state: views.view_mark_prices(state, symbol, market_type)))

    async def server_time(_: Request) -> Response:
        # The engine's time (an accelerated or manual clock's), as every timestamp the exchange writes.
        return PlainTextResponse(views.view_time(context.service.now_ms()))

    async def status(_: Request) -> Response:
        # Maintenance during a journal fault, with a stopped sequencer or a dead worker; else Ok, naming
        # stale prices. A replica adds its lag.
        replica = None if context.replica is None else context.replica.describe()
        down = not_serving(context.service, context.watched)
        if down is not None:
            return json_response(views.view_status(down, replica=replica))
        now_ms = context.service.clock.now_ms()
        try:
            stale = read(lambda state: views.view_stale_prices(state, now_ms))
        except ServiceUnavailableError as error:  # a fault began since the check above
            down = not_serving(context.service, context.watched) or error.message
            return json_response(views.view_status(down, replica=replica))
        return json_response(views.view_status(None, stale, replica=replica))

    async def ping(_: Request) -> Response:
        return PlainTextResponse("pong")

    return [
        Route("/api/v1/assets", assets, methods=["GET"]),
        Route("/api/v1/collateral", collateral, methods=["GET"]),
        Route("/api/v1/borrowLend/markets", markets, methods=["GET"]),
        Route("/api/v1/borrowLend/markets/history", markets_history, methods=["GET"]),
        Route("/api/v1/markPrices", mark_prices, methods=["GET"]),
        Route("/api/v1/time", server_time, methods=["GET"]),
        Route("/api/v1/status", status, methods=["GET"]),
        Route("/api/v1/ping", ping, methods=["GET"]),
    ]


def private_read_routes(context: ApiContext) -> list[Route]:  # noqa: C901 -- one small closure per route
    """Return the signed GET routes and the withdrawal request."""
    read = context.service.read

    async def account(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(read(lambda state: views.view_account(state, sub)))

    async def max_borrow(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        (symbol,) = read_inputs.max_borrow(request, parameters)
        return json_response(read(lambda state: views.view_max_borrow(state, sub, symbol)))

    async def max_withdrawal(request: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol, borrow, redeem = read_inputs.max_withdrawal(request, parameters)
        return json_response(
            read(
                lambda state: views.view_max_withdrawal(state, sub, symbol, auto_borrow=borrow, auto_lend_redeem=redeem)
            )
        )

    async def positions(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(read(lambda state: views.view_borrow_lend_positions(state, sub)))

    async def capital(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(read(lambda state: views.view_capital(state, sub)))

    async def capital_collateral(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(read(lambda state: views.view_capital_collateral(state, sub)))

    async def deposits(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        start, end = read_inputs.deposits(request, p)
        return paged_response(read(lambda state: views.view_deposits(state, sub, start, end)), p)

    async def withdrawals(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        ident, client, start, end = (
            inputs.optional_integer(p, "id"),
            inputs.optional_text(p, "clientId", max_chars=inputs.WITHDRAWAL_CLIENT_ID_CHARS_MAX),
            inputs.optional_integer(p, "from"),
            inputs.optional_integer(p, "to"),
        )
        return paged_response(read(lambda state: views.view_withdrawals(state, sub, ident, client, start, end)), p)

    async def borrow_lend_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        kind, sources, position, symbol, order = (
            inputs.optional_text(p, name) for name in ("type", "sources", "positionId", "symbol", "sortDirection")
        )
        return paged_response(
            read(lambda state: views.view_borrow_lend_history(state, sub, kind, sources, position, symbol, order)), p
        )

    async def interest_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        asset, symbol, position, source, order = (
            inputs.optional_text(p, name) for name in ("asset", "symbol", "positionId", "source", "sortDirection")
        )
        return paged_response(
            read(lambda state: views.view_interest_history(state, sub, asset, symbol, position, source, order)), p
        )

    async def position_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, side, state_filter, order = (
            inputs.optional_text(p, name) for name in ("symbol", "side", "state", "sortDirection")
        )
        return paged_response(
            read(
                lambda state: views.view_borrow_lend_position_history(state, sub, symbol, side, state_filter, order),
            ),
            p,
        )

    async def statement(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, start, end = (
            inputs.optional_text(p, "symbol"),
            inputs.optional_integer(p, "from"),
            inputs.optional_integer(p, "to"),
        )
        return json_response(read(lambda state: view_statement(state, sub, symbol, start, end)))

    async def request_withdrawal(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        command = capital_inputs.withdraw(sub, p, context.service.peek(lambda state: dict(state.specs)))
        result: Accepted = await context.run(command, signed_write(request))
        assert result.events, "an accepted withdrawal has events"
        newest = read(lambda state: views.view_withdrawals(state, sub))[0]
        return json_response(newest)

    return [
        Route("/api/v1/account", signed(context, "accountQuery", account), methods=["GET"]),
        Route("/api/v1/account/limits/borrow", signed(context, "maxBorrowQuantity", max_borrow), methods=["GET"]),
        Route(
            "/api/v1/account/limits/withdrawal",
            signed(context, "maxWithdrawalQuantity", max_withdrawal),
            methods=["GET"],
        ),
        Route("/api/v1/borrowLend/positions", signed(context, "borrowLendPositionQuery", positions), methods=["GET"]),
        Route("/api/v1/capital", signed(context, "balanceQuery", capital), methods=["GET"]),
        Route("/api/v1/capital/collateral", signed(context, "collateralQuery", capital_collateral), methods=["GET"]),
        Route("/wapi/v1/capital/deposits", signed(context, "depositQueryAll", deposits), methods=["GET"]),
        Route("/wapi/v1/capital/withdrawals", signed(context, "withdrawalQueryAll", withdrawals), methods=["GET"]),
        Route("/wapi/v1/capital/withdrawals", signed(context, "withdraw", request_withdrawal), methods=["POST"]),
        Route(
            "/wapi/v1/history/borrowLend",
            signed(context, "borrowHistoryQueryAll", borrow_lend_history),
            methods=["GET"],
        ),
        Route(
            "/wapi/v1/history/interest", signed(context, "interestHistoryQueryAll", interest_history), methods=["GET"]
        ),
        Route(
            "/wapi/v1/history/borrowLend/positions",
            signed(context, "borrowPositionHistoryQueryAll", position_history),
            methods=["GET"],
        ),
        Route("/wapi/v1/statement", signed(context, "statementQuery", statement), methods=["GET"]),
    ]
