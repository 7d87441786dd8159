"""Our own OpenAPI description at /openapi.json and its reading page at /docs (to be filled)."""

from __future__ import annotations

from starlette.routing import Route

from crossmargin.api.context import ApiContext


def docs_routes(context: ApiContext) -> list[Route]:
    """Return the documentation routes."""
    del context
    return []
