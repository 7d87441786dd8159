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
running server keeps what it read; edits to the files show after a restart. The shell's four
stylesheets are also served as one file (`COMBINED_CSS`), which the shell links instead
(`web_shell.py` builds the shell).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

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


STYLESHEET: Final = re.compile(r'<link rel="stylesheet" href="/static/(css/[\w.-]+\.css)">\n?')
"""A stylesheet link of the HTML shell."""
COMBINED_CSS: Final = "css/page.css"
"""The shell's stylesheets in one file, in their order: one request instead of four (CSS concatenates safely)."""


def asset_of(name: str, body: bytes) -> Asset:
    """Return an asset of `body` (its type from `name`), compressed when that is worth it, with its ETag."""
    compressed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= GZIP_MINIMUM_BYTES else None
    media_type = TYPES.get(Path(name).suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Asset(body, compressed, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


@functools.cache
def assets() -> dict[str, Asset]:
    """Return every asset by its path under /static (e.g. `js/main.js`), read once, and `COMBINED_CSS`."""
    root = static_directory()
    files = {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}
    sheets = STYLESHEET.findall(files["index.html"].decode())
    files[COMBINED_CSS] = b"\n".join(files[name] for name in sheets)
    return {name: asset_of(name, body) for name, body in files.items()}


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


def static_response(request: Request, name: str) -> Response:
    """Answer with the asset at `name` under /static, or 404 when the page has no such file."""
    asset = assets().get(name)
    if asset is None:
        return error_response(404, "RESOURCE_NOT_FOUND", f"The page has no file {name!r}")
    return asset_response(request, asset)
