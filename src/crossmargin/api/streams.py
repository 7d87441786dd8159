"""Placeholder: filled in by the WebSocket streams work."""

from __future__ import annotations

from starlette.routing import BaseRoute

from crossmargin.api.context import ApiContext


def stream_routes(context: ApiContext) -> list[BaseRoute]:
    """Return the WebSocket routes."""
    del context
    return []
