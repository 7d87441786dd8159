"""The first view the shell draws (issue 16, "Faster"): escaped, in format.js' formats, else left to the scripts.

The Lend page's shell draws the pools table and a trading view's its ticker, book and trades from
the answers it carries; tests/browser/test_first_view.py checks in the browser that the scripts then
draw the same rows. Here: the Python formats give format.js' own browser cases, what the server
draws holds nothing unescaped, and a value the Python formats cannot write as the scripts would
leaves the page to its scripts ("Loading…").
"""

from __future__ import annotations

import json
import re

import pytest
from signing_client import Exchange
from tests.browser.test_format import CASES
from tests.e2e.trading_exchange import funded, placed, trading_exchange

from crossmargin.api import web_format
from crossmargin.api.web_first_view import first_view, group_steps, lend_view, trade_view
from crossmargin.api.web_format import UndrawableError

MAIN = re.compile(r'<main id="main" tabindex="-1">(.*)</main>', re.DOTALL)
PORTED = {"amount", "percent", "price", "time"}


def _main(exchange: Exchange, address: str) -> str:
    response = exchange.client.get(address)
    assert response.status_code == 200, response.text
    found = MAIN.search(response.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(("name", "args", "expected"), [case for case in CASES if case[0] in PORTED])
def test_the_python_formats_answer_format_js_cases(name: str, args: list[object], expected: str) -> None:
    function = getattr(web_format, name)
    if name == "time" and isinstance(args[0], str):  # a date string: parsed by the browser, not drawn here
        with pytest.raises(UndrawableError):
            function(*args)
        return
    assert function(*args) == expected


def test_values_the_python_formats_cannot_write_as_javascript_would_are_refused() -> None:
    for value in (1.5, float("nan"), 2**53):  # 2**53 + 1 would reach the page as 2**53
        with pytest.raises(UndrawableError):
            web_format.amount(value)
    with pytest.raises(UndrawableError):
        web_format.time(-1)
    assert web_format.amount(value=True) == web_format.DASH  # format.js: not a string, number or bigint
    assert web_format.amount("\u00a012.5\ufeff") == "12.5"  # JavaScript's trim, not Python's strip
    assert web_format.amount("\u0661") == web_format.DASH  # an Arabic-Indic one is no digit to \d


def test_the_lend_shell_draws_the_pools_table_with_usdc_selected(exchange: Exchange) -> None:
    main = _main(exchange, "/lend")
    pools = exchange.client.get("/api/v1/borrowLend/markets").json()

    assert 'data-first-view="lend"' in main
    for pool in pools:
        selected = pool["symbol"] == "USDC"
        row = f'<tr data-testid="pool-{pool["symbol"]}" class="lend-pool{" selected" if selected else ""}">'
        assert row in main
        assert f'aria-pressed="{"true" if selected else "false"}" data-focus-key="pool-{pool["symbol"]}"' in main
    assert f'<td class="num lend-apr">{web_format.percent(pools[0]["lendInterestRate"])}</td>' in main


@pytest.mark.parametrize(("query", "selected"), [("?symbol=%20sol", "SOL"), ("?symbol=NOPE", "USDC"), ("", "USDC")])
def test_the_lend_shell_selects_the_pool_the_page_selects(exchange: Exchange, query: str, selected: str) -> None:
    main = _main(exchange, f"/lend{query}")

    assert re.findall(r'data-testid="pool-(\w+)" class="lend-pool selected"', main) == [selected]


def test_a_trading_view_shell_draws_its_book_trades_and_ticker() -> None:
    with trading_exchange() as exchange:
        maker = funded(exchange, USDC="100000")
        placed(exchange, maker, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="0.5", price="59990")
        main = _main(exchange, "/futures?market=BTC_USDC_PERP")
        wrong_page = _main(exchange, "/spot?market=BTC_USDC_PERP")

    bid = '<button type="button" class="link pos" aria-label="Use price $59,990.00">$59,990.00</button>'
    assert f'<tr data-testid="book-bid"><td class="num">{bid}</td><td class="num">0.5</td></tr>' in main
    assert '<td class="empty" colspan="3">No trades yet.</td>' in main
    assert re.search(r'<p class="ticker" data-testid="trade-ticker" aria-live="off">Mark \$[\d,.]+ · ', main)
    assert "Funding " in main
    assert '<option value="0.1">$0.10</option>' in main
    assert wrong_page == "Loading…", "a perp is not drawn on the Spot page: its scripts say so"


def test_the_book_levels_and_steps_are_ordered_as_trade_book_js_orders_them() -> None:
    depth = {"asks": [["10.5", "1"], ["9.99", "2"], ["100", "3"]], "bids": [["9", "1"], ["8.5", "2"], ["9.5", "3"]]}
    answers = {
        "/api/v1/markets": json.dumps(
            [{"symbol": "X_Y", "marketType": "SPOT", "filters": {"price": {"tickSize": "0.05"}}}]
        ),
        "/api/v1/depth?symbol=X_Y": json.dumps(depth),
        "/api/v1/trades?symbol=X_Y": "[]",
        "/api/v1/markPrices?symbol=X_Y": "[]",
    }
    view = trade_view({key: value.encode() for key, value in answers.items()}, "/spot", "X_Y")

    prices = re.findall(r'data-testid="book-(ask|bid)"><td class="num"><button[^>]*>([^<]+)<', view)
    asks = [("ask", "$100.00"), ("ask", "$10.50"), ("ask", "$9.99")]
    assert prices == [*asks, ("bid", "$9.50"), ("bid", "$9.00"), ("bid", "$8.50")]
    assert group_steps("0.05") == ["0.05", "0.5", "5", "50"]
    assert group_steps("1") == ["1", "10", "100", "1000"]


def test_what_the_server_draws_is_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">&'
    pools = [{"symbol": hostile, "state": hostile, "lentQuantity": "1", "utilization": "0.5"}]
    view = lend_view({"/api/v1/borrowLend/markets": json.dumps(pools).encode()}, hostile)

    assert "<img" not in view
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in view  # in attributes
    assert '&lt;img src=x onerror="alert(1)"&gt;&amp;</span>' in view  # in text


@pytest.mark.parametrize(
    "pools", [[{"symbol": "USDC", "lentQuantity": 1.5}], [{"symbol": 7}], {"symbol": "USDC"}, ["USDC"]]
)
def test_answers_the_python_formats_cannot_draw_exactly_leave_the_page_to_its_scripts(pools: object) -> None:
    answers = {"/api/v1/borrowLend/markets": json.dumps(pools).encode()}

    assert first_view(answers, "/lend", lambda _: None) is None
