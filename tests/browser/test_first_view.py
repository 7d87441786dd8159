"""The first view the server draws into the shell (web_first_view.py) is what the page's scripts draw.

Rows are taken as the browser parsed them from the shell, before any script ran (when the
document's readyState turns "interactive", module scripts have not run yet); then the scripts take
the page over and draw their own rows in the same places. Both lists must be equal, element for
element, attribute for attribute and digit for digit, and the rows shown at the end must be the
scripts' (not the server's left in place). The one difference allowed: the pools' utilization
bars get their width from the script (the Content-Security-Policy allows no inline style).
The server-drawn view alone (the bundle answered empty, so no script runs) is audited by axe-core.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from web_harness import Server

BOOK = '[data-testid="order-book"] tbody tr'
TRADES = '[data-testid="recent-trades"] tbody tr'
TICKER = '[data-testid="trade-ticker"]'
POOLS = '[data-testid="pools"] tbody tr'
PAGES = {
    "/lend": (POOLS,),
    "/futures?market=BTC_USDC_PERP": (BOOK, TRADES, TICKER),
    "/spot?market=SOL_USDC": (BOOK, TRADES, TICKER),
}

# Before any script: the server's elements for each selector, kept with their HTML as parsed.
CAPTURE = """(selectors) => document.addEventListener("readystatechange", () => {
  if (document.readyState !== "interactive" || window.__drawn) return;
  window.__drawn = Object.fromEntries(selectors.map((s) => [s, [...document.querySelectorAll(s)]]));
  window.__drawnHtml = Object.fromEntries(selectors.map((s) => [s, window.__drawn[s].map((e) => e.outerHTML)]));
})"""
# Shown now, by the scripts: none of the server's elements is left and there are as many.
TAKEN_OVER = """(selectors) => selectors.every((s) => {
  const now = [...document.querySelectorAll(s)];
  return now.length === window.__drawn[s].length && now.every((e) => !window.__drawn[s].includes(e));
})"""
NOW = """(selectors) => Object.fromEntries(selectors.map((s) => [s, [...document.querySelectorAll(s)].map((e) => e.outerHTML)]))"""
BAR_WIDTH = re.compile(r' style="width: [0-9.]+%;"')


@pytest.mark.parametrize("address", list(PAGES))
def test_the_scripts_draw_what_the_server_drew(server: Server, page: Any, address: str) -> None:
    selectors = list(PAGES[address])
    page.add_init_script(f"({CAPTURE})({selectors!r})")
    page.goto(address)
    if address == "/lend":  # the pools' first render has drawn the utilization bars
        expect(page.locator(f"{POOLS} .lend-bar-fill[style]").first).to_be_attached()
    else:  # the ticker is drawn right after the book's first snapshot
        expect(page.get_by_test_id("trade-ticker")).to_contain_text("Mark")
    page.wait_for_function(TAKEN_OVER, arg=selectors)
    drawn: dict[str, list[str]] = page.evaluate("() => window.__drawnHtml")
    shown: dict[str, list[str]] = page.evaluate(NOW, selectors)

    assert all(drawn[selector] for selector in selectors), f"the server drew no {selectors} on {address}"
    if address == "/lend":
        assert all(BAR_WIDTH.search(row) for row in shown[POOLS]), "the script sets each bar's width"
        shown = {POOLS: [BAR_WIDTH.sub("", row) for row in shown[POOLS]]}
    assert drawn == shown


@pytest.mark.parametrize("address", list(PAGES))
def test_the_server_drawn_view_alone_is_accessible(server: Server, page: Any, audit: Any, address: str) -> None:
    page.route("**/static/dist/*.js", lambda route: route.fulfill(body="", content_type="text/javascript"))
    page.goto(address)
    expect(page.locator(PAGES[address][0]).first).to_be_visible()
    audit(f"{address}, drawn by the server, before any script")
