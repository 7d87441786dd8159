"""The first view of a page, drawn by the server into its HTML shell, for the page's scripts to take over.

Before its scripts have run, a page shows what the shell's HTML draws. For `/lend` (and `/`) the
shell draws the pools table, and for a trading view (`/futures?market=…`, `/spot?market=…`) its
title, ticker, order book and recent trades: what a visitor waits for. Each is drawn from the
answers the shell carries for the page's first reads (`web_initial.py`), element for element and
attribute for attribute as the scripts draw them from those same answers (`js/lend.js`,
`js/lend_pools.js`, `js/trade.js`, `js/trade_book.js`, `js/dom.js`' `table`), with format.js'
number formats (`web_format.py`): the scripts then draw the same rows in their place. Only the
utilization bars' widths wait for the scripts: the Content-Security-Policy allows no inline style.

The drawn view sits in `<main>` inside an element marked `data-first-view`; main.js leaves it
there while the page's module loads, and the page moves the drawn tables into its own layout
until its first render replaces them (tests/browser/test_first_view.py compares both, row for
row). Every text and attribute is HTML-escaped. A value the Python formats cannot write exactly as
the scripts would (`UndrawableError`) leaves the page to its scripts, as does a read the shell did not
carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cmp_to_key
from html import escape
from typing import Any, Final

from crossmargin.api.web_format import JS_SPACE, UndrawableError, amount, percent, price, time

LEVELS: Final = 12
TRADES: Final = 30
GROUPS: Final = (1, 10, 100, 1000)
DEFAULT_SYMBOL: Final = "USDC"
POOLS_READ: Final = "/api/v1/borrowLend/markets"
POOL_COLUMNS: Final = ("Asset", "Total lent", "Total borrowed", "Utilization", "Lend APR", "Borrow APR")
LEND_INTRO: Final = "Select an asset to borrow or lend it. Rates are yearly (APR); interest is charged every hour."
TRADING_LISTS: Final = {"/futures": ("Futures", "PERP"), "/spot": ("Spot", "SPOT")}
"""The page of each kind of market: its title and the `marketType` it lists (trade.js' `list`)."""
Attrs = dict[str, str | None]


def element(tag: str, attrs: Attrs | None = None, *children: str, text: str | None = None) -> str:
    """Return an element as dom.js' `h` builds it: attributes in order (None left out), escaped text or children."""
    written = "".join(f' {name}="{escape(value)}"' for name, value in (attrs or {}).items() if value is not None)
    inner = escape(text, quote=False) if text is not None else "".join(children)
    return f"<{tag}{written}>{inner}</{tag}>"


def table(columns: Iterable[tuple[str, bool]], rows: list[tuple[str, list[str]]], empty: str) -> str:
    """Return dom.js' `table`: a header of (label, numeric) columns and rows of (testid, drawn cells)."""
    columns = list(columns)
    head = element(
        "tr",
        None,
        *(element("th", {"scope": "col", "class": "num" if num else None}, text=label) for label, num in columns),
    )
    body = [
        element(
            "tr",
            {"data-testid": testid},
            *(element("td", {"class": "num" if columns[i][1] else None}, cell) for i, cell in enumerate(cells)),
        )
        for testid, cells in rows
    ] or [element("tr", None, element("td", {"class": "empty", "colspan": str(len(columns))}, text=empty))]
    return element("table", {"class": "table"}, element("thead", None, head), element("tbody", None, *body))


def scroll_box(label: str, testid: str | None, extra: str, *children: str) -> str:
    """Return dom.js' `scrollBox` (its attributes in the order it sets them)."""
    attrs: Attrs = {"data-testid": testid, "class": f"table-scroll{extra}", "role": "group", "aria-label": label}
    return element("div", attrs, *children)


def _loaded(answers: dict[str, bytes], address: str) -> Any:  # noqa: ANN401 -- a JSON answer
    return json.loads(answers[address])


def pool_row(pool: dict[str, Any], selected: bool) -> str:
    """Return lend_pools.js' `poolRow` (the utilization bar's width is set by the script)."""
    symbol = _string(pool.get("symbol"))
    state = pool.get("state")
    closed = element("span", {"class": "lend-tag"}, text=_string(state)) if state and state != "Open" else ""
    button = element(
        "button",
        {
            "type": "button",
            "class": "lend-asset",
            "aria-pressed": "true" if selected else "false",
            "data-focus-key": f"pool-{symbol}",
        },
        text=symbol,
    )
    bar = element("span", {"class": "lend-bar", "aria-hidden": "true"}, element("span", {"class": "lend-bar-fill"}))
    return element(
        "tr",
        {"data-testid": f"pool-{symbol}", "class": "lend-pool selected" if selected else "lend-pool"},
        element("th", {"scope": "row"}, button, closed),
        element("td", {"class": "num"}, text=amount(pool.get("lentQuantity"))),
        element("td", {"class": "num"}, text=amount(pool.get("borrowedQuantity"))),
        element(
            "td", {"class": "num"}, element("span", {"class": "lend-util"}, text=percent(pool.get("utilization"))), bar
        ),
        element("td", {"class": "num lend-apr"}, text=percent(pool.get("lendInterestRate"))),
        element("td", {"class": "num"}, text=percent(pool.get("borrowInterestRate"))),
    )


def _string(value: object) -> str:
    """Return JavaScript's `String(value)` of a string (anything else is left to the scripts)."""
    if not isinstance(value, str):
        raise UndrawableError(f"no exact JavaScript text for {value!r}")
    return value


def selected_pool(pools: list[dict[str, Any]], wanted: str | None) -> str:
    """Return the asset lend.js selects: the address's `symbol` if it has a pool, else USDC, else the first pool."""
    symbols = [_string(pool.get("symbol")) for pool in pools]
    chosen = (wanted or "").strip(JS_SPACE).upper() or DEFAULT_SYMBOL
    if not symbols or chosen in symbols:
        return chosen
    return DEFAULT_SYMBOL if DEFAULT_SYMBOL in symbols else symbols[0]


def lend_view(answers: dict[str, bytes], wanted: str | None) -> str:
    """Return the Lend page's first view: its title and pools table, as lend.js lays them out."""
    pools = _loaded(answers, POOLS_READ)
    if not isinstance(pools, list) or not all(isinstance(pool, dict) for pool in pools):
        raise UndrawableError("the pools are not a list of pools")
    selected = selected_pool(pools, wanted)
    head = element(
        "tr",
        None,
        *(
            element("th", {"scope": "col", "class": "num" if i else None}, text=label)
            for i, label in enumerate(POOL_COLUMNS)
        ),
    )
    rows = "".join(pool_row(pool, pool["symbol"] == selected) for pool in pools)
    pools_table = element(
        "table",
        {"class": "table lend-table lend-pools", "data-testid": "pools"},
        element("caption", {"class": "lend-sr-only"}, text="Borrow-lend pools"),
        element("thead", None, head),
        element("tbody", None, rows),
    )
    title_id = "lend-lend-pools-title"
    section = element(
        "section",
        {"class": "card lend-section", "aria-labelledby": title_id, "data-testid": "lend-pools"},
        element("h2", {"id": title_id}, text="Borrow and lend"),
        element("div", {"class": "lend-section-lead"}, element("p", {"class": "lend-intro"}, text=LEND_INTRO)),
        scroll_box("Pools table", None, " lend-section-body", pools_table),
    )
    main = element("div", {"class": "lend-main"}, element("h1", {"class": "lend-title"}, text="Lend"), section)
    side = element("aside", {"class": "lend-side", "aria-label": "Cross-margin overview"})
    return element("div", {"class": "lend-page", "data-first-view": "lend"}, main, side)


def _decimal(text: object) -> tuple[str, str]:
    """Return the whole and fraction digits of a non-negative decimal string (trade_book.js' prices and sizes)."""
    value = _string(text)
    whole, _, fraction = value.partition(".")
    if not (whole + fraction).isascii() or not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise UndrawableError(f"{value!r} is not a plain decimal")
    return whole, fraction


def compare_decimal(a: str, b: str) -> int:
    """Return trade_book.js' `compareDecimal` of two non-negative decimal strings."""
    (ai, af), (bi, bf) = _decimal(a), _decimal(b)
    if len(ai) != len(bi):
        return len(ai) - len(bi)
    if ai != bi:
        return -1 if ai < bi else 1
    width = max(len(af), len(bf))
    x, y = af.ljust(width, "0"), bf.ljust(width, "0")
    return 0 if x == y else -1 if x < y else 1


def group_steps(tick: str) -> list[str]:
    """Return the book's grouping steps for a market's tick size (1, 10, 100 and 1,000 ticks)."""
    whole, fraction = _decimal(tick)
    digits, scaled = len(fraction), int(whole + fraction)
    steps = []
    for times in GROUPS:
        text = str(scaled * times).rjust(digits + 1, "0")
        kept = text[-digits:].rstrip("0") if digits else ""
        steps.append(f"{text[:-digits] if digits else text}{'.' + kept if kept else ''}")
    return steps


def _side(levels: Any, sign: int) -> list[tuple[str, str]]:  # noqa: ANN401 -- a JSON answer's levels
    """Return a side's first LEVELS levels in book order (trade_book.js' `side`, ungrouped: the first step)."""
    merged: dict[str, str] = {}
    for level in levels or []:
        level_price, quantity = level
        merged[_string(level_price)] = _string(quantity)

    def order(a: tuple[str, str], b: tuple[str, str]) -> int:
        return sign * compare_decimal(a[0], b[0])

    ordered = sorted(merged.items(), key=cmp_to_key(order))
    return ordered[:LEVELS]


def book_tables(depth: dict[str, Any], recent: list[Any]) -> tuple[str, str]:
    """Return the order book's and the recent trades' tables as trade_book.js' `render` draws a snapshot."""

    def level(kind: str, level_price: str, quantity: str) -> tuple[str, list[str]]:
        shown = price(level_price)
        button = element(
            "button",
            {
                "type": "button",
                "class": f"link {'neg' if kind == 'ask' else 'pos'}",
                "aria-label": f"Use price {shown}",
            },
            text=shown,
        )
        return f"book-{kind}", [button, escape(amount(quantity), quote=False)]

    rows = [level("ask", *pair) for pair in reversed(_side(depth.get("asks"), 1))]
    rows += [level("bid", *pair) for pair in _side(depth.get("bids"), -1)]
    book = table((("Price", True), ("Size", True)), rows, "The book is empty.")
    trades = []
    for trade in list(reversed(recent))[:TRADES]:
        buyer_maker = trade.get("isBuyerMaker")
        if not isinstance(buyer_maker, bool):
            raise UndrawableError(f"isBuyerMaker {buyer_maker!r}")
        shown = element("span", {"class": "neg" if buyer_maker else "pos"}, text=price(trade.get("price")))
        trades.append(
            (
                "trade-row",
                [
                    shown,
                    escape(amount(trade.get("quantity")), quote=False),
                    escape(time(trade.get("timestamp")), quote=False),
                ],
            )
        )
    columns = (("Price", True), ("Size", True), ("Time", False))
    return book, table(columns, trades, "No trades yet.")


def ticker(market_type: str, marks: list[Any], recent: list[Any]) -> str:
    """Return trade.js' ticker line after the first snapshot: last, mark and index prices, a perp's funding."""
    mark = marks[0] if marks and isinstance(marks[0], dict) else {}
    last = _string(recent[-1].get("price")) if recent else None
    parts = [f"Mark {price(mark.get('markPrice'))}", f"Index {price(mark.get('indexPrice'))}"]
    if last:
        parts.insert(0, f"Last {price(last)}")
    if market_type == "PERP":
        parts.append(f"Funding {percent(mark.get('fundingRate'), 4)}")
    attrs: Attrs = {"class": "ticker", "data-testid": "trade-ticker", "aria-live": "off", "data-last": last}
    return element("p", attrs, text=" · ".join(parts))


def trade_view(answers: dict[str, bytes], path: str, symbol: str) -> str:
    """Return a trading view's first view: its head (title, ticker) and its book and trades, in trade.js' grid."""
    title, market_type = TRADING_LISTS[path]
    markets = _loaded(answers, "/api/v1/markets")
    market = next((m for m in markets if m.get("symbol") == symbol and m.get("marketType") == market_type), None)
    if market is None:
        raise UndrawableError(f"no {market_type} market {symbol}")
    depth = _loaded(answers, f"/api/v1/depth?symbol={symbol}")
    recent = _loaded(answers, f"/api/v1/trades?symbol={symbol}")
    marks = _loaded(answers, f"/api/v1/markPrices?symbol={symbol}")
    if not isinstance(depth, dict) or not isinstance(recent, list) or not isinstance(marks, list):
        raise UndrawableError("a market read is not what the trading view expects")
    tick = market.get("filters", {}).get("price", {}).get("tickSize", "0.01")
    options = "".join(element("option", {"value": step}, text=price(step)) for step in group_steps(tick))
    group = element(
        "div",
        {"class": "book-group"},
        element("label", {"for": "book-group"}, text="Group"),
        element("select", {"id": "book-group", "data-testid": "book-group"}, options),
    )
    book, trades = book_tables(depth, recent)
    book_card = element(
        "section",
        {"class": "card", "aria-label": "Order book"},
        element("div", {"class": "card-head"}, element("h2", None, text="Order book"), group),
        scroll_box("Order book table", "order-book", "", book),
    )
    trades_card = element(
        "section",
        {"class": "card", "aria-label": "Recent trades"},
        element("h2", None, text="Recent trades"),
        scroll_box("Recent trades table", "recent-trades", "", trades),
    )
    back = element("a", {"href": path, "class": "back"}, text=f"← All {title.lower()} markets")
    head = element(
        "div", {"class": "trade-head"}, back, element("h1", None, text=symbol), ticker(market_type, marks, recent)
    )
    chart = element(
        "section",
        {"class": "card chart-card", "aria-label": "Price chart"},
        element("h2", None, text="Price (1 minute candles)"),
    )
    form = element(
        "section", {"class": "card", "aria-label": "Place an order"}, element("h2", None, text="Place an order")
    )
    return element(
        "div",
        {"class": "trade-grid", "data-first-view": "trade"},
        head,
        element("div", {"class": "trade-card"}),
        chart,
        element("aside", {"class": "trade-side", "aria-label": "Order entry"}, form),
        element("div", {"class": "book-area"}, book_card, trades_card),
        element("div", {"class": "account-area"}),
    )


def first_view(answers: dict[str, bytes], path: str, query: Callable[[str], str | None]) -> str | None:
    """Return the first view of the page at `path` (`query` gives its parameters), or None: the scripts draw it."""
    try:
        if path in ("/", "/lend") and POOLS_READ in answers:
            return lend_view(answers, query("symbol"))
        market = query("market")
        if path in TRADING_LISTS and market is not None and f"/api/v1/depth?symbol={market}" in answers:
            return trade_view(answers, path, market)
    except (UndrawableError, AttributeError, TypeError, ValueError, KeyError):
        return None
    return None
