"""Placeholder: filled in by the trading API work."""

from __future__ import annotations

from starlette.routing import BaseRoute

from crossmargin.api.context import ApiContext


def trading_read_routes(context: ApiContext) -> list[BaseRoute]:
    """Return the routes of this module."""
    del context
    return []
