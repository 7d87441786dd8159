"""The HTML shell of each page loads what that page needs first, and only that (issue 16, "Faster").

A browser opens six connections to a host, so the shell lists the bundled files the page at its
path needs (main.js, its page's file and the chunks they share), one combined stylesheet, and
carries the answers of the page's first public reads, each what the API answers for it (a read the
API refuses is preloaded instead, for the page to ask and show the refusal). Not the chart
library: the book comes first. A `market` that is not a symbol is never written into the page,
and nothing in the carried JSON can close its script element.
"""

from __future__ import annotations

import json
import re

import pytest
from signing_client import Exchange
from tests.e2e.trading_exchange import funded, placed, trading_exchange

from crossmargin.api import web_initial
from crossmargin.api.responses import encode_json
from crossmargin.api.web_assets import COMBINED_CSS, static_directory
from crossmargin.api.web_initial import initial_data_element
from crossmargin.api.web_shell import module_closure

MODULE = re.compile(r'<link rel="modulepreload" href="/static/dist/([\w.-]+\.js)">')
SCRIPTS = re.compile(r'<script type="module" src="/static/dist/([\w.-]+\.js)"></script>')
INITIAL = re.compile(r'<script type="application/json" id="initial-data">(.*?)</script>', re.DOTALL)
DATA = re.compile(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)">')
VENDOR = '<link rel="modulepreload" href="/static/vendor/'


def _shell(exchange: Exchange, address: str) -> str:
    response = exchange.client.get(address)
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def _initial(html: str) -> dict[str, object]:
    found = INITIAL.search(html)
    assert found is not None, "the shell carries the page's first reads"
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_lend_shell_preloads_the_lend_bundle_and_carries_its_pools(exchange: Exchange) -> None:
    html = _shell(exchange, "/lend")
    modules = MODULE.findall(html)

    assert modules[0] == "main.js"
    assert "lend.js" in modules
    assert set(modules) == set(module_closure("main.js")) | set(module_closure("lend.js"))
    assert not any(name in modules for name in ("futures.js", "spot.js", "models.js", "operator.js")), modules
    assert len(modules) == len(set(modules)) <= 5
    assert DATA.findall(html) == [], "the pools come with the page, not from a second request"
    reads = ["/api/v1/borrowLend/markets", "/api/v1/assets", "/api/v1/markets"]
    assert _initial(html) == {read: exchange.client.get(read).json() for read in reads}
    assert list(_initial(html)) == reads
    assert VENDOR not in html
    assert html.count('rel="stylesheet"') == 1
    assert SCRIPTS.findall(html) == ["main.js", "lend.js"], "the page's file runs right after main.js"


def test_a_trading_view_carries_its_markets_reads_as_the_api_answers_them() -> None:
    with trading_exchange() as exchange:
        maker = funded(exchange, USDC="100000")
        placed(exchange, maker, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="0.5", price="59990")
        html = _shell(exchange, "/futures?market=BTC_USDC_PERP")
        answers = {address: exchange.client.get(address).json() for address in _initial(html)}
    modules = MODULE.findall(html)
    initial = _initial(html)

    assert set(module_closure("futures.js")) <= set(modules)
    assert VENDOR not in html, "the chart library loads after the book is shown"
    assert list(initial) == [
        "/api/v1/borrowLend/markets",
        "/api/v1/markets",
        "/api/v1/depth?symbol=BTC_USDC_PERP",
        "/api/v1/trades?symbol=BTC_USDC_PERP",
        "/api/v1/markPrices?symbol=BTC_USDC_PERP",
    ]
    assert initial == answers
    assert initial["/api/v1/depth?symbol=BTC_USDC_PERP"]["bids"] == [["59990", "0.5"]]  # type: ignore[index]
    assert DATA.findall(html) == []


def test_reads_the_api_refuses_are_preloaded_for_the_page_to_ask(exchange: Exchange) -> None:
    html = _shell(exchange, "/spot?market=NOPE_USDC")

    assert list(_initial(html)) == ["/api/v1/borrowLend/markets", "/api/v1/markets"]
    assert DATA.findall(html) == [
        "/api/v1/depth?symbol=NOPE_USDC",
        "/api/v1/trades?symbol=NOPE_USDC",
        "/api/v1/markPrices?symbol=NOPE_USDC",
    ]


def test_a_market_that_is_not_a_symbol_is_not_written_into_the_page(exchange: Exchange) -> None:
    html = _shell(exchange, '/spot?market="><script>alert(1)</script>')

    assert "alert" not in html
    assert list(_initial(html)) == ["/api/v1/borrowLend/markets", "/api/v1/markets"]
    assert DATA.findall(html) == []
    assert VENDOR not in html


def test_carried_json_cannot_close_its_script_element() -> None:
    hostile = {"name": "</script><script>alert(1)</script><!-- & \u2028\u2029 >"}
    element = initial_data_element({"/x": encode_json(hostile)})
    inner = element.removeprefix('<script type="application/json" id="initial-data">').removesuffix("</script>\n")

    assert not any(character in inner for character in "<>&\u2028\u2029"), inner
    assert json.loads(inner) == {"/x": hostile}


def test_the_combined_stylesheet_is_the_four_in_their_order(exchange: Exchange) -> None:
    css = static_directory() / "css"
    expected = b"\n".join((css / name).read_bytes() for name in ("app.css", "lend.css", "models.css", "trade.css"))
    response = exchange.client.get(f"/static/{COMBINED_CSS}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.content == expected


def test_an_answer_over_the_size_bound_is_preloaded_instead(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_initial, "INLINE_MAX_BYTES", 16)
    html = _shell(exchange, "/lend")

    assert INITIAL.search(html) is None
    assert DATA.findall(html) == ["/api/v1/borrowLend/markets", "/api/v1/assets", "/api/v1/markets"]
