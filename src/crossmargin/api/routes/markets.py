"""Public market routes: /api/v1/markets, /api/v1/market, /api/v1/ticker, /api/v1/tickers, /api/v1/securities.

Spot markets only, one `<ASSET>_USDC` per listed asset, with tickers made from mark prices (see
`views/markets.py`); order books, trades and perpetual markets come in a later issue. The spec
requires a CACHE-CONTROL header on markets and tickers: the answers change whenever the operator
sets a price or advances the clock, so nothing may be cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs, views
from crossmargin.api.context import ApiContext
from crossmargin.api.responses import NO_CACHE, json_response


def market_routes(context: ApiContext) -> list[Route]:
    """Return the public market routes."""
    read = context.service.read

    def now_ms() -> int:
        return context.service.clock.now_ms()

    async def markets(request: Request) -> Response:
        types = request.query_params.getlist("marketType") or None
        return json_response(read(lambda state: views.view_markets(state, types, now_ms())), headers=NO_CACHE)

    async def market(request: Request) -> Response:
        symbol = inputs.given_text(request.query_params, "symbol")
        return json_response(read(lambda state: views.view_market(state, symbol, now_ms())))

    async def ticker(request: Request) -> Response:
        symbol, interval = inputs.given_text(request.query_params, "symbol"), request.query_params.get("interval")
        found = read(lambda state: views.view_ticker(state, symbol, interval))
        if found is None:
            return Response(status_code=204, headers=NO_CACHE)
        return json_response(found, headers=NO_CACHE)

    async def tickers(request: Request) -> Response:
        interval = request.query_params.get("interval")
        return json_response(read(lambda state: views.view_tickers(state, interval)), headers=NO_CACHE)

    async def securities(_: Request) -> Response:
        return json_response(read(views.view_securities))

    return [
        Route("/api/v1/markets", markets, methods=["GET"]),
        Route("/api/v1/market", market, methods=["GET"]),
        Route("/api/v1/ticker", ticker, methods=["GET"]),
        Route("/api/v1/tickers", tickers, methods=["GET"]),
        Route("/api/v1/securities", securities, methods=["GET"]),
    ]
