"""The web page: one HTML shell for every page path, and its static assets under /static.

The page routes itself (History API), so every path in `PAGE_PATHS` serves the same shell; the
files and how they are sent (in memory, gzip, ETag, security headers) are `web_assets.py`'s, the
shell of each page (what it preloads, the answers of its first reads it carries) `web_shell.py`'s.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from crossmargin.api.context import ApiContext
from crossmargin.api.web_assets import static_response
from crossmargin.api.web_shell import shell_response

PAGE_PATHS: Final = ("/", "/lend", "/models/margin", "/futures", "/spot")
"""Paths the page routes itself (History API); each serves the same shell."""


def web_routes(context: ApiContext) -> list[BaseRoute]:
    """Return the page routes and the asset route."""

    async def page(request: Request) -> Response:
        return shell_response(context, request)

    async def static(request: Request) -> Response:
        return static_response(request, request.path_params["name"])

    return [
        *(Route(path, page, methods=["GET", "HEAD"]) for path in PAGE_PATHS),
        # A Mount, not a Route: the files are not API operations (the OpenAPI description lists Routes).
        Mount("/static", routes=[Route("/{name:path}", static, methods=["GET", "HEAD"])]),
    ]
