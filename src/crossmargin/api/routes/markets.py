"""Public market routes: /api/v1/markets, /api/v1/market, /api/v1/ticker, /api/v1/tickers (to be filled)."""

from __future__ import annotations

from starlette.routing import Route

from crossmargin.api.context import ApiContext


def market_routes(context: ApiContext) -> list[Route]:
    """Return the public market routes."""
    del context
    return []
