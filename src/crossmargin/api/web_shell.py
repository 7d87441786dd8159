"""The web page's HTML shell, built per page so its first view needs as few round trips as it can.

The page's ES modules (`js/`) are bundled by esbuild (`make web-bundle`) into `dist/`: main.js,
one file per page module main.js' ROUTES table loads on demand, and the chunks they share. The
shell lists, for the page at its path:

- a `modulepreload` link for each bundled file it needs before it can show anything: main.js'
  static imports and those of the page's file (read from the files, `module_imports`), four or five
  files where the modules were 25 to 35, and the page's file as a module script after main.js'. The
  chart library (200 KB) is not preloaded: a trading view imports it once its book is shown;
- one stylesheet, `web_assets.COMBINED_CSS`, instead of four;
- the answers of the public reads the page makes first (`data_preloads`), carried in the shell
  (`web_initial.py`): the page shows without another round trip. A read the shell cannot carry
  gets a `preload` (`as="fetch"`) instead, which the page's own `fetch` of the same address takes;
- the page's first view drawn from those answers into `<main>` (`web_first_view.py`: the Lend
  page's pools table, a trading view's ticker, book and trades), so it shows before the scripts
  have run, and the scripts draw the same rows in their place.

The static part of each shell is cached per path (at most `SHELLS_MAX`); the answers are read per
request. Only a market that looks like a symbol gets its reads, so nothing the request names is
written into the page unchecked; a query parameter is read as the page reads it (its first value).
"""

from __future__ import annotations

import functools
import re
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crossmargin.api.context import ApiContext
from crossmargin.api.web_assets import COMBINED_CSS, SECURITY_HEADERS, STYLESHEET, static_directory
from crossmargin.api.web_first_view import first_view
from crossmargin.api.web_initial import initial_answers, initial_data_element

BUNDLE: Final = "dist"
"""The folder of the bundled modules under /static (`make web-bundle`, from the sources in `js/`)."""
MODULE_ENTRY: Final = f'<script type="module" src="/static/{BUNDLE}/main.js"></script>'
STATIC_IMPORT: Final = re.compile(r'\b(?:from|import)\s*"\./([\w.-]+\.js)"')
"""A bundled file's static imports of its siblings (`import{a}from"./chunk-X.js"`), not its `import()` calls."""
PAGE_ROUTE: Final = re.compile(r'"(/[\w/]*)":\s*\{[^}]*?import\("\./([\w.-]+\.js)"\)')
"""A route of main.js' ROUTES table: the path and the page module it loads on demand."""
SHELLS_MAX: Final = 256
TRADING_PATHS: Final = ("/futures", "/spot")
LEND_DATA: Final = ("/api/v1/assets", "/api/v1/markets")
"""The Lend page's money card's reads (money.js): carried too, so its first render needs no request."""
PAGE_DATA: Final[dict[str, tuple[str, ...]]] = {
    "/": LEND_DATA,
    "/lend": LEND_DATA,
    "/futures": ("/api/v1/markets",),
    "/spot": ("/api/v1/markets",),
}
"""The public reads a page makes first besides the pools (main.js reads them for the engine clock)."""
MARKET_DATA: Final = ("/api/v1/depth", "/api/v1/trades", "/api/v1/markPrices")
"""The public reads a trading view makes first, for its market."""
MARKET_SYMBOL: Final = re.compile(r"[A-Z0-9]{1,20}(?:_[A-Z0-9]{1,20}){1,3}")
MAIN: Final = '<main id="main" tabindex="-1">'
PLACEHOLDER: Final = f"{MAIN}Loading…</main>"
"""The shell's `<main>` before the scripts draw the page: the first view goes in its place."""


@functools.cache
def module_imports() -> dict[str, frozenset[str]]:
    """Return each bundled file with the sibling files it imports statically."""
    files = (static_directory() / BUNDLE).glob("*.js")
    return {path.name: frozenset(STATIC_IMPORT.findall(path.read_text(encoding="utf-8"))) for path in files}


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
    return [f"/static/{BUNDLE}/{name}" for name in modules]


@functools.lru_cache(maxsize=SHELLS_MAX)
def shell_parts(path: str = "/") -> tuple[str, str]:
    """Return the HTML shell of the page at `path`, cut where its first reads go (before the module entry)."""
    html = (static_directory() / "index.html").read_text(encoding="utf-8")
    assert MODULE_ENTRY in html, "the shell loads the page through the bundle's main.js"
    assert PLACEHOLDER in html, "the shell's <main> says it is loading until a first view is drawn there"
    sheets = STYLESHEET.findall(html)
    assert sheets, "the shell links its stylesheets"
    html = STYLESHEET.sub("", html).replace(
        MODULE_ENTRY, f'<link rel="stylesheet" href="/static/{COMBINED_CSS}">\n{MODULE_ENTRY}'
    )
    links = "".join(f'<link rel="modulepreload" href="{href}">\n' for href in module_preloads(path))
    head, tail = html.split(MODULE_ENTRY)
    page = page_modules().get(path)
    # The page's own file as a second module script: it runs right after main.js, so main.js'
    # `import()` of it finds it evaluated instead of waiting on a later task (about 30-50 ms here).
    entry = MODULE_ENTRY + (f'\n<script type="module" src="/static/{BUNDLE}/{page}"></script>' if page else "")
    return head + links, entry + tail


def shell(context: ApiContext, path: str = "/", market: str | None = None, symbol: str | None = None) -> bytes:
    """Return the HTML shell of the page at `path` (a trading view of `market`, a checked symbol, if given).

    It carries the answers of the page's first reads (`web_initial.py`), preloads those it could not
    carry, and draws the page's first view from them (`symbol`: the Lend page's `?symbol=`).
    """
    head, tail = shell_parts(path)
    reads = data_preloads(path, market)
    answers = initial_answers(context, reads)
    preloads = "".join(
        f'<link rel="preload" as="fetch" crossorigin href="{href}">\n' for href in reads if href not in answers
    )
    data = initial_data_element(answers) if answers else ""
    query = {"market": market, "symbol": symbol}
    view = first_view(answers, path, query.get)
    if view is not None:
        tail = tail.replace(PLACEHOLDER, f"{MAIN}{view}</main>")
    return (head + preloads + data + tail).encode()


def shell_response(context: ApiContext, request: Request) -> Response:
    """Answer with the shell for the request's path (a trading view with `?market=<symbol>`), with security headers."""
    market = next(iter(request.query_params.getlist("market")), None)  # URLSearchParams.get: the first
    symbol = next(iter(request.query_params.getlist("symbol")), None)
    known = market if market is not None and MARKET_SYMBOL.fullmatch(market) else None
    return HTMLResponse(shell(context, request.url.path, known, symbol), headers=SECURITY_HEADERS)
