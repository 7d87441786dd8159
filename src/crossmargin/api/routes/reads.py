"""GET routes: public market data and the signed account, capital, history and statement queries.

Each handler reads the state once through `Service.read` and renders it with a view; histories
are paged with `limit`/`offset` and answer with Backpack's X-PAGE/X-TOTAL headers. The statement
(`GET /wapi/v1/statement`, a crossmargin extension) is cut by time instead (`from`/`to`), so that
each window's closing ties out to the next one's opening.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crossmargin.api import inputs, views
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed, signed_write
from crossmargin.api.views.statement import view_statement
from crossmargin.app.service import ServiceUnavailableError
from crossmargin.core.commands import Withdraw
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.oracle import describe_stale_prices, stale_prices
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

Parameters = dict[str, object]


def _text(parameters: Parameters, name: str) -> str | None:
    return inputs.optional_text(parameters, name)


def _optional_int(parameters: Parameters, name: str) -> int | None:
    return None if parameters.get(name) is None else inputs.integer(parameters, name)


def _optional_limit(parameters: Parameters) -> int | None:
    if parameters.get("limit") is None:
        return None
    return inputs.integer(parameters, "limit", maximum=views.LIMIT_MAX)


def _status(context: ApiContext) -> views.JsonObject:
    """Return the status: Maintenance during a journal fault, else Ok, naming any stale index price."""
    fault = context.service.fault
    if fault is not None:
        return views.view_status(fault.message)
    try:
        stale = context.service.read(_stale_message(context.service.clock.now_ms()))
    except ServiceUnavailableError:  # a fault began since the check above
        fault = context.service.fault
        return views.view_status(None if fault is None else fault.message)
    return views.view_status(None, stale)


def _stale_message(now_ms: int) -> Callable[[EngineState], str | None]:
    """Return a read naming the index prices stale at `now_ms`, or None when none is."""

    def stale(state: EngineState) -> str | None:
        limit = state.oracle.price_max_age_ms
        if limit is None:
            return None
        found = stale_prices(Transaction(state, max(now_ms, state.now_ms)))
        return describe_stale_prices(found, limit) if found else None

    return stale


def public_read_routes(context: ApiContext) -> list[Route]:
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
        return json_response(read(lambda state: views.view_borrow_lend_markets_history(state, interval, symbol)))

    async def mark_prices(request: Request) -> Response:
        symbol, market_type = request.query_params.get("symbol"), request.query_params.get("marketType")
        return json_response(read(lambda state: views.view_mark_prices(state, symbol, market_type)))

    async def server_time(_: Request) -> Response:
        return PlainTextResponse(views.view_time(int(time.time() * 1000)))

    async def status(_: Request) -> Response:
        return json_response(_status(context))

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


def _paged(
    context: ApiContext, parameters: Parameters, rows: Callable[[EngineState], list[views.JsonValue]]
) -> Response:
    found = context.service.read(rows)
    page = views.page(found, _optional_limit(parameters), _optional_int(parameters, "offset"))
    return json_response(page.rows, headers=page.headers())


def private_read_routes(context: ApiContext) -> list[Route]:  # noqa: C901 -- one small closure per route
    """Return the signed GET routes and the withdrawal request."""
    read = context.service.read

    async def account(_: Request, sub: SubaccountId, __: Parameters) -> Response:
        return json_response(read(lambda state: views.view_account(state, sub)))

    async def max_borrow(_: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol = inputs.text(parameters, "symbol")
        return json_response(read(lambda state: views.view_max_borrow(state, sub, symbol)))

    async def max_withdrawal(_: Request, sub: SubaccountId, parameters: Parameters) -> Response:
        symbol = inputs.text(parameters, "symbol")
        borrow = inputs.optional_bool(parameters, "autoBorrow")
        redeem = inputs.optional_bool(parameters, "autoLendRedeem")
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

    async def deposits(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        start, end = _optional_int(p, "from"), _optional_int(p, "to")
        return _paged(context, p, lambda state: views.view_deposits(state, sub, start, end))

    async def withdrawals(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        ident, client, start, end = (
            _optional_int(p, "id"),
            inputs.optional_text(p, "clientId", max_chars=inputs.WITHDRAWAL_CLIENT_ID_CHARS_MAX),
            _optional_int(p, "from"),
            _optional_int(p, "to"),
        )
        return _paged(context, p, lambda state: views.view_withdrawals(state, sub, ident, client, start, end))

    async def borrow_lend_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        kind, sources, position, symbol, order = (
            _text(p, name) for name in ("type", "sources", "positionId", "symbol", "sortDirection")
        )
        return _paged(
            context, p, lambda state: views.view_borrow_lend_history(state, sub, kind, sources, position, symbol, order)
        )

    async def interest_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        asset, symbol, position, source, order = (
            _text(p, name) for name in ("asset", "symbol", "positionId", "source", "sortDirection")
        )
        return _paged(
            context, p, lambda state: views.view_interest_history(state, sub, asset, symbol, position, source, order)
        )

    async def position_history(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, side, state_filter, order = (_text(p, name) for name in ("symbol", "side", "state", "sortDirection"))
        return _paged(
            context,
            p,
            lambda state: views.view_borrow_lend_position_history(state, sub, symbol, side, state_filter, order),
        )

    async def statement(_: Request, sub: SubaccountId, p: Parameters) -> Response:
        symbol, start, end = _text(p, "symbol"), _optional_int(p, "from"), _optional_int(p, "to")
        return json_response(read(lambda state: view_statement(state, sub, symbol, start, end)))

    async def request_withdrawal(request: Request, sub: SubaccountId, p: Parameters) -> Response:
        spec = inputs.asset(p, "symbol", context.service.peek(lambda state: dict(state.specs)))
        command = Withdraw(
            sub,
            spec.symbol,
            inputs.quantity(p, "quantity", spec, stepped=False),
            auto_borrow=bool(inputs.optional_bool(p, "autoBorrow")),
            auto_lend_redeem=bool(inputs.optional_bool(p, "autoLendRedeem")),
            address=inputs.text(p, "address", max_chars=inputs.ADDRESS_CHARS_MAX),
            blockchain=inputs.choice(p, "blockchain", inputs.BLOCKCHAINS),
            client_id=inputs.optional_text(p, "clientId", max_chars=inputs.WITHDRAWAL_CLIENT_ID_CHARS_MAX) or "",
        )
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
