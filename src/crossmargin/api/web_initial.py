r"""The page's first public reads, carried in its HTML shell so that it shows without another round trip.

A page's first view waits on a few public reads (the pools; the Lend page's assets and markets; a
trading view's markets, book, trades and mark price). The shell carries their answers in
`<script type="application/json" id="initial-data">`, an object from each read's address (as the
page asks it) to its answer, which `js/api.js` hands to the page's first reads of those addresses.
Each answer is made by the same view as the API route, from one read of the state, so it is what
the API would answer at that moment, to the byte. A read whose view refuses (an unknown market) or whose answer is over
`INLINE_MAX_BYTES` is left out, and the shell preloads it instead (`web_shell.py`).

The JSON is written so that nothing in it can end the script element or start markup: `<`, `>`,
`&` and the two JavaScript line separators are written as `\u` escapes, which JSON.parse reads
back as the same characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from crossmargin.api import views
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.responses import encode_json
from crossmargin.api.views.market_data import view_depth, view_trades
from crossmargin.app.service import ServiceUnavailableError
from crossmargin.core.state import EngineState

INLINE_MAX_BYTES: Final = 64 * 1024
"""The largest answer the shell carries; a bigger one is preloaded instead."""
ELEMENT_ID: Final = "initial-data"
ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
View = Callable[[EngineState], object]


def _market_view(context: ApiContext, read: str, symbol: str) -> View | None:
    """Return the view of a trading view's read of `symbol` (`read` is its path), if the shell carries it."""
    history = context.service.market_history
    market_views: dict[str, View] = {
        "/api/v1/depth": lambda state: view_depth(state, symbol),
        "/api/v1/trades": lambda state: view_trades(state, history, symbol),
        "/api/v1/markPrices": lambda state: views.view_mark_prices(state, symbol, None),
    }
    return market_views.get(read)


def _views(context: ApiContext, addresses: list[str]) -> dict[str, View]:
    """Return the view that answers each address the shell knows how to answer (the others are left out)."""
    clock = context.service.clock
    page_views: dict[str, View] = {
        "/api/v1/borrowLend/markets": views.view_borrow_lend_markets,
        "/api/v1/assets": views.view_assets,
        "/api/v1/markets": lambda state: views.view_markets(state, None, clock.now_ms()),
    }
    found: dict[str, View] = {}
    for address in addresses:
        read, _, symbol = address.partition("?symbol=")
        view = _market_view(context, read, symbol) if symbol else page_views.get(address)
        if view is not None:
            found[address] = view
    return found


def initial_answers(context: ApiContext, addresses: list[str]) -> dict[str, bytes]:
    """Return the JSON answer of each address the shell can carry, all from one read of the state."""
    chosen = _views(context, addresses)

    def answer(state: EngineState) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for address, view in chosen.items():
            try:
                body = encode_json(view(state))
            except ApiError:  # e.g. no such market: the page asks, and shows the API's refusal
                continue
            if len(body) <= INLINE_MAX_BYTES:
                found[address] = body
        return found

    try:
        return context.service.read(answer)
    except ServiceUnavailableError:  # the page's own reads will say so
        return {}


def script_safe(text: str) -> str:
    """Return JSON text with nothing that could close the script element or open markup."""
    for character, escape in ESCAPES.items():
        text = text.replace(character, escape)
    return text


def initial_data_element(answers: dict[str, bytes]) -> str:
    """Return the script element that carries `answers` (address to JSON answer) into the page."""
    entries = ",".join(f"{encode_json(address).decode()}:{body.decode()}" for address, body in answers.items())
    return f'<script type="application/json" id="{ELEMENT_ID}">{script_safe("{" + entries + "}")}</script>\n'
