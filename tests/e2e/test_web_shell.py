"""The HTML shell of each page preloads what that page needs first, and only that (issue 16, "Faster").

A browser opens six connections to a host, so the shell lists the modules the page at its path
needs (main.js' graph and its page module's), one combined stylesheet, and the page's first public
reads; a trading view also gets its market's reads (not the chart library: the book comes first). A `market` that is not a
symbol is never written into the page.
"""

from __future__ import annotations

import re

from signing_client import Exchange

from crossmargin.api.web_assets import COMBINED_CSS, static_directory
from crossmargin.api.web_shell import module_closure

MODULE = re.compile(r'<link rel="modulepreload" href="/static/js/([\w.-]+\.js)">')
DATA = re.compile(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)">')
VENDOR = '<link rel="modulepreload" href="/static/vendor/'


def _shell(exchange: Exchange, address: str) -> str:
    response = exchange.client.get(address)
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def test_the_lend_shell_preloads_the_lend_modules_and_its_pools_only(exchange: Exchange) -> None:
    html = _shell(exchange, "/lend")
    modules = MODULE.findall(html)

    assert modules[0] == "main.js"
    assert {"lend.js", "lend_data.js", "session.js", "device_key.js"} <= set(modules)
    assert not any(name.startswith(("trade", "models", "chart")) for name in modules), modules
    assert len(modules) == len(set(modules)) < len(list((static_directory() / "js").glob("*.js")))
    assert DATA.findall(html) == ["/api/v1/borrowLend/markets"]
    assert VENDOR not in html
    assert html.count('rel="stylesheet"') == 1


def test_a_trading_view_preloads_its_modules_and_its_markets_reads(exchange: Exchange) -> None:
    html = _shell(exchange, "/futures?market=BTC_USDC_PERP")
    modules = MODULE.findall(html)

    assert set(module_closure("trade.js")) <= set(modules)
    assert VENDOR not in html, "the chart library loads after the book is on its way"
    assert DATA.findall(html) == [
        "/api/v1/borrowLend/markets",
        "/api/v1/markets",
        "/api/v1/depth?symbol=BTC_USDC_PERP",
        "/api/v1/trades?symbol=BTC_USDC_PERP",
        "/api/v1/markPrices?symbol=BTC_USDC_PERP",
    ]


def test_a_market_that_is_not_a_symbol_is_not_written_into_the_page(exchange: Exchange) -> None:
    html = _shell(exchange, '/spot?market="><script>alert(1)</script>')

    assert "alert" not in html
    assert DATA.findall(html) == ["/api/v1/borrowLend/markets", "/api/v1/markets"]
    assert VENDOR not in html


def test_the_combined_stylesheet_is_the_four_in_their_order(exchange: Exchange) -> None:
    css = static_directory() / "css"
    expected = b"\n".join((css / name).read_bytes() for name in ("app.css", "lend.css", "models.css", "trade.css"))
    response = exchange.client.get(f"/static/{COMBINED_CSS}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.content == expected
