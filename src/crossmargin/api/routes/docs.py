"""Our own OpenAPI description at /openapi.json and its reading page at /docs.

Both are built elsewhere: the description by `scripts/build_openapi.py` (shipped as
`crossmargin/data/openapi.json`), the page from it by `views/docs_page.py`; these routes only
send them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from crossmargin.api.context import ApiContext
from crossmargin.api.views.docs_page import description_bytes, docs_page


def docs_routes(context: ApiContext) -> list[Route]:
    """Return the documentation routes."""
    del context

    async def openapi(_: Request) -> Response:
        return Response(description_bytes(), media_type="application/json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(docs_page())

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
    ]
