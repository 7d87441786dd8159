"""The web page's files, read once and kept in memory, and the answers that send them.

Everything the page needs ships inside the package (`crossmargin/web/static`): our own ES modules
and CSS, and one vendored library (`vendor/lightweight-charts`, the trading view's charts, pinned in
package.json; see its README); nothing is fetched from elsewhere, so the page works offline and on
loopback. The shell is sent with a Content-Security-Policy that allows only this origin, so no
inline script can run.

The assets are read once, on the first request, and kept in memory with their gzip-compressed
form and a content hash as ETag: serving one is a dictionary lookup, with no file read, thread hop
or compression per request (the page is about 40 KiB compressed). Each answer says `no-cache`, so
the browser revalidates by ETag (a 304) and a reload after an upgrade never runs stale code. A
running server keeps what it read; edits to the files show after a restart.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crossmargin.api.responses import error_response

GZIP_MINIMUM_BYTES: Final = 1024
"""Assets at least this big are sent gzip-compressed to a browser that accepts it."""

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

MODULE_ENTRY: Final = '<script type="module" src="/static/js/main.js"></script>'
TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the page, ready to send."""

    body: bytes
    compressed: bytes | None
    media_type: str
    etag: str


def static_directory() -> Path:
    """Return the folder of the page's assets inside the installed package."""
    return Path(str(resources.files("crossmargin.web") / "static"))


@functools.cache
def shell() -> bytes:
    """Return the page's HTML shell, read once, with a `modulepreload` link for every module.

    ES modules load as a waterfall (main.js, then what it imports, then what those import); the
    preload links let the browser ask for all of them at once (they are small and compressed).
    """
    html = (static_directory() / "index.html").read_text(encoding="utf-8")
    assert MODULE_ENTRY in html, "the shell loads the page through js/main.js"
    modules = sorted(path.name for path in (static_directory() / "js").glob("*.js"))
    links = "".join(f'<link rel="modulepreload" href="/static/js/{name}">\n' for name in modules)
    return html.replace(MODULE_ENTRY, links + MODULE_ENTRY).encode()


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    compressed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= GZIP_MINIMUM_BYTES else None
    media_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Asset(body, compressed, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


@functools.cache
def assets() -> dict[str, Asset]:
    """Return every asset by its path under /static (e.g. `js/main.js`), read once."""
    root = static_directory()
    return {path.relative_to(root).as_posix(): _asset(path) for path in root.rglob("*") if path.is_file()}


def asset_response(request: Request, asset: Asset) -> Response:
    """Answer with the asset: 304 when the browser's copy is current, gzip when it accepts it."""
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    headers["Vary"] = "Accept-Encoding"
    if asset.compressed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.compressed, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def shell_response() -> Response:
    """Answer with the page's HTML shell and its security headers."""
    return HTMLResponse(shell(), headers=SECURITY_HEADERS)


def static_response(request: Request, name: str) -> Response:
    """Answer with the asset at `name` under /static, or 404 when the page has no such file."""
    asset = assets().get(name)
    if asset is None:
        return error_response(404, "RESOURCE_NOT_FOUND", f"The page has no file {name!r}")
    return asset_response(request, asset)
