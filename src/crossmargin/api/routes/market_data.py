"""Public market data routes: depth, trades, K-lines, open interest and funding rates.

Each handler reads the state once through `Service.read` and renders it with a view
(`views/market_data.py`, `views/perps.py`); trades, K-lines and the open-interest history also read
the service's market history in that same read. `/api/v1/markPrices` is served with the other
public reads. Nothing here may be cached: every answer changes with the next order.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.paging import paged_response
from crossmargin.api.responses import NO_CACHE, json_response
from crossmargin.api.views.market_data import (
    view_depth,
    view_klines,
    view_open_interest_history,
    view_trades,
    view_trades_history,
)
from crossmargin.api.views.perps import view_funding_rates, view_open_interest


def market_data_routes(context: ApiContext) -> list[BaseRoute]:
    """Return the public market data routes."""
    service = context.service
    read = service.read

    async def depth(request: Request) -> Response:
        symbol, limit = (
            inputs.text(request.query_params, "symbol"),
            inputs.optional_integer(request.query_params, "limit"),
        )
        return json_response(read(lambda state: view_depth(state, symbol, limit)), headers=NO_CACHE)

    async def trades(request: Request) -> Response:
        symbol, limit = (
            inputs.text(request.query_params, "symbol"),
            inputs.optional_integer(request.query_params, "limit"),
        )
        return json_response(
            read(lambda state: view_trades(state, service.market_history, symbol, limit)), headers=NO_CACHE
        )

    async def trades_history(request: Request) -> Response:
        query = request.query_params
        symbol, limit = inputs.text(query, "symbol"), inputs.optional_integer(query, "limit")
        offset = inputs.optional_integer(query, "offset")
        return json_response(
            read(lambda state: view_trades_history(state, service.market_history, symbol, limit, offset)),
            headers=NO_CACHE,
        )

    async def klines(request: Request) -> Response:
        query = request.query_params
        symbol, interval = inputs.text(query, "symbol"), inputs.text(query, "interval")
        start, end = inputs.integer(query, "startTime"), inputs.optional_integer(query, "endTime")
        price_type = query.get("priceType")
        return json_response(
            read(lambda state: view_klines(state, service.market_history, symbol, interval, start, end, price_type)),
            headers=NO_CACHE,
        )

    async def open_interest(request: Request) -> Response:
        symbol = request.query_params.get("symbol")
        return json_response(read(lambda state: view_open_interest(state, symbol)), headers=NO_CACHE)

    async def open_interest_history(request: Request) -> Response:
        symbol = inputs.text(request.query_params, "symbol")
        rows = read(lambda state: view_open_interest_history(state, service.market_history, symbol))
        return paged_response(rows, request.query_params)

    async def funding_rates(request: Request) -> Response:
        symbol = inputs.text(request.query_params, "symbol")
        return paged_response(read(lambda state: view_funding_rates(state, symbol)), request.query_params)

    return [
        Route("/api/v1/depth", depth, methods=["GET"]),
        Route("/api/v1/trades", trades, methods=["GET"]),
        Route("/api/v1/trades/history", trades_history, methods=["GET"]),
        Route("/api/v1/klines", klines, methods=["GET"]),
        Route("/api/v1/openInterest", open_interest, methods=["GET"]),
        Route("/api/v1/openInterest/history", open_interest_history, methods=["GET"]),
        Route("/api/v1/fundingRates", funding_rates, methods=["GET"]),
    ]
