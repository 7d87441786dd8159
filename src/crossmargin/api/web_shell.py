"""The web page's HTML shell, built per page so its first requests all leave at once.

ES modules load as a waterfall (main.js, then what it imports, then what those import), and a
page's first reads of the API wait for the modules. The shell lists, for the page at its path:

- a `modulepreload` link for each module it needs before it can show anything: main.js' static
  imports and those of the page module main.js' ROUTES table loads for the path (both read from
  the modules' source, `module_imports`). Only those: a browser opens 6 connections to a host, so
  each needless file delays the others (the Lend page needs 24 of the 37 modules). The chart
  library (200 KB) is not preloaded: a trading view imports it once its book is on its way, and
  preloading it made the book show later (about 390 ms against 290 ms, in-page, on the bench);
- one stylesheet, `web_assets.COMBINED_CSS`, instead of four;
- a `preload` (`as="fetch"`) of each public read the page makes first (`data_preloads`): the
  page's own `fetch` of the same address takes the preloaded answer, and `js/api.js` shares a
  read in flight, so nothing is asked twice.

Shells are cached per path and market (at most `SHELLS_MAX`); only a market that looks like a
symbol gets its reads preloaded, so nothing the request names is written into the page unchecked.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crossmargin.api.web_assets import COMBINED_CSS, SECURITY_HEADERS, STYLESHEET, static_directory

MODULE_ENTRY: Final = '<script type="module" src="/static/js/main.js"></script>'
STATIC_IMPORT: Final = re.compile(
    r'^(?:import|export)\s[^;]*?\bfrom\s+"\./([\w.-]+\.js)"|^import\s+"\./([\w.-]+\.js)"', re.MULTILINE
)
"""A module's static imports of its siblings (`import {x} from "./x.js"`), not its `import()` calls."""
PAGE_ROUTE: Final = re.compile(r'"(/[\w/]*)":\s*\{[^}]*?import\("\./([\w.-]+\.js)"\)')
"""A route of main.js' ROUTES table: the path and the page module it loads on demand."""
SHELLS_MAX: Final = 256
TRADING_PATHS: Final = ("/futures", "/spot")
PAGE_DATA: Final[dict[str, tuple[str, ...]]] = {"/futures": ("/api/v1/markets",), "/spot": ("/api/v1/markets",)}
"""The public reads a page makes first besides the pools (main.js reads them for the engine clock)."""
MARKET_DATA: Final = ("/api/v1/depth", "/api/v1/trades", "/api/v1/markPrices")
"""The public reads a trading view makes first, for its market."""
MARKET_SYMBOL: Final = re.compile(r"[A-Z0-9]{1,20}(?:_[A-Z0-9]{1,20}){1,3}")


@functools.cache
def module_imports() -> dict[str, frozenset[str]]:
    """Return each module of `js/` with the sibling modules it imports statically."""
    found: dict[str, frozenset[str]] = {}
    for path in (static_directory() / "js").glob("*.js"):
        matches = STATIC_IMPORT.findall(path.read_text(encoding="utf-8"))
        found[path.name] = frozenset(name for pair in matches for name in pair if name)
    return found


def module_closure(entry: str) -> list[str]:
    """Return `entry` and every module it needs before it runs, depth first (what to preload for it)."""
    graph, seen, order = module_imports(), set[str](), list[str]()

    def visit(name: str) -> None:
        if name in seen or name not in graph:
            return
        seen.add(name)
        order.append(name)
        for imported in sorted(graph[name]):
            visit(imported)

    visit(entry)
    return order


@functools.cache
def page_modules() -> dict[str, str]:
    """Return the page module main.js loads for each path (its ROUTES table, read from its source)."""
    main = (static_directory() / "js" / "main.js").read_text(encoding="utf-8")
    return dict(PAGE_ROUTE.findall(main))


def data_preloads(path: str, market: str | None) -> list[str]:
    """Return the public reads the page at `path` (a trading view when `market` names one) makes at once."""
    reads = ["/api/v1/borrowLend/markets", *PAGE_DATA.get(path, ())]
    if market is not None and path in TRADING_PATHS:
        reads += [f"{read}?symbol={market}" for read in MARKET_DATA]
    return reads


def module_preloads(path: str) -> list[str]:
    """Return the addresses of the modules the page at `path` needs first, main.js' graph first."""
    modules = module_closure("main.js")
    page = page_modules().get(path)
    modules += [name for name in module_closure(page) if name not in modules] if page else []
    return [f"/static/js/{name}" for name in modules]


@functools.lru_cache(maxsize=SHELLS_MAX)
def shell(path: str = "/", market: str | None = None) -> bytes:
    """Return the HTML shell of the page at `path` (a trading view of `market`, a checked symbol, if given)."""
    html = (static_directory() / "index.html").read_text(encoding="utf-8")
    assert MODULE_ENTRY in html, "the shell loads the page through js/main.js"
    sheets = STYLESHEET.findall(html)
    assert sheets, "the shell links its stylesheets"
    html = STYLESHEET.sub("", html).replace(
        MODULE_ENTRY, f'<link rel="stylesheet" href="/static/{COMBINED_CSS}">\n{MODULE_ENTRY}'
    )
    links = [f'<link rel="modulepreload" href="{href}">\n' for href in module_preloads(path)]
    links += [f'<link rel="preload" as="fetch" crossorigin href="{href}">\n' for href in data_preloads(path, market)]
    return html.replace(MODULE_ENTRY, "".join(links) + MODULE_ENTRY).encode()


def shell_response(request: Request) -> Response:
    """Answer with the shell for the request's path (a trading view with `?market=<symbol>`), with security headers."""
    market = request.query_params.get("market")
    known = market if market is not None and MARKET_SYMBOL.fullmatch(market) else None
    return HTMLResponse(shell(request.url.path, known), headers=SECURITY_HEADERS)
