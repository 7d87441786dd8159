"""The web page: one HTML shell for every page path, and its static assets under /static.

Everything the page needs ships inside the package (`crossmargin/web/static`): our own ES modules
and CSS, no third-party code and nothing fetched from elsewhere, so the page works offline and on
loopback. The shell is sent with a Content-Security-Policy that allows only this origin, so no
inline script can run. Assets are gzip-compressed and revalidated by ETag (Starlette's `StaticFiles`), so a reload
after an upgrade never runs stale code.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path
from typing import Final

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

PAGE_PATHS: Final = ("/", "/lend", "/models/margin", "/futures", "/spot")
"""Paths the page routes itself (History API); each serves the same shell."""

GZIP_MINIMUM_BYTES: Final = 1024
"""Assets at least this big are sent gzip-compressed to a browser that accepts it (about a quarter of the size)."""

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def static_directory() -> Path:
    """Return the folder of the page's assets inside the installed package."""
    return Path(str(resources.files("crossmargin.web") / "static"))


@functools.cache
def shell() -> bytes:
    """Return the page's HTML shell, read once."""
    return (static_directory() / "index.html").read_bytes()


class RevalidatedFiles(StaticFiles):
    """`StaticFiles` whose answers tell the browser to revalidate (cheap: a 304 by ETag) before reuse."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """Add `Cache-Control: no-cache` and `nosniff` to each file sent."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def web_routes() -> list[BaseRoute]:
    """Return the page routes and the static mount."""

    async def page(_: Request) -> Response:
        return HTMLResponse(shell(), headers=SECURITY_HEADERS)

    assets = GZipMiddleware(RevalidatedFiles(directory=static_directory()), minimum_size=GZIP_MINIMUM_BYTES)
    return [*(Route(path, page, methods=["GET", "HEAD"]) for path in PAGE_PATHS), Mount("/static", assets)]
