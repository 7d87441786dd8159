"""The Futures and Spot pages and the navigation between pages (no reloads, history works)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from playwright.sync_api import expect
from web_harness import Server, sign_in, wait_live


def amount(text: str) -> str:
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    fraction = fraction.rstrip("0")
    return f"{sign}{grouped}{'.' + fraction if fraction else ''}"


def trade_perp(
    server: Server, maker: dict[str, Any], taker: dict[str, Any], market: str, price: str, quantity: str
) -> None:
    ask = {"symbol": market, "side": "Ask", "orderType": "Limit", "price": price, "quantity": quantity}
    server.signed(maker, "orderExecute", "POST", "/api/v1/order", ask)
    bid = {"symbol": market, "side": "Bid", "orderType": "Market", "quantity": quantity}
    server.signed(taker, "orderExecute", "POST", "/api/v1/order", bid)


def test_futures_lists_every_perp_market_and_your_position(server: Server, page: Any) -> None:
    maker, taker = server.new_account({"USDC": "100000"}), server.new_account({"USDC": "100000"})
    trade_perp(server, maker, taker, "BTC_USDC_PERP", "60000", "0.01")
    page.goto("/futures")
    perps = [m for m in server.admin.get("/api/v1/markets").json() if m["marketType"] == "PERP"]
    marks = {m["symbol"]: m for m in server.admin.get("/api/v1/markPrices").json()}
    assert perps
    for market in perps:
        row = page.get_by_test_id(f"perp-{market['symbol']}")
        expect(row).to_contain_text(amount(marks[market["symbol"]]["markPrice"]))
    expect(page.get_by_test_id("perp-BTC_USDC_PERP")).to_contain_text("0.01 BTC")
    expect(page.get_by_test_id("perp-positions")).to_have_text("Sign in to see your positions.")
    sign_in(page, taker)
    position = page.get_by_test_id("perp-position-BTC_USDC_PERP")
    expect(position).to_contain_text("0.01")
    expect(position).to_contain_text("60,000")


def test_a_perp_position_words_its_liquidation_price_with_the_base_asset(server: Server, page: Any) -> None:
    maker, taker = server.new_account({"USDC": "100000"}), server.new_account({"USDC": "700"})
    trade_perp(server, maker, taker, "BTC_USDC_PERP", "60000", "0.1")
    [position] = server.signed(taker, "positionQuery", "GET", "/api/v1/position")
    estimate = Decimal(position["estLiquidationPrice"])
    assert 50_000 < estimate < Decimal(position["markPrice"])
    page.goto("/futures")
    sign_in(page, taker)
    cell = page.get_by_test_id("perp-position-BTC_USDC_PERP").get_by_test_id("est-liquidation-price")
    expect(cell).to_have_text(f"BTC falls to ${estimate.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}")
    expect(cell).to_have_attribute("data-value", position["estLiquidationPrice"])


def test_spot_lists_markets_with_last_price_and_your_balances_live(server: Server, page: Any) -> None:
    account = server.new_account({"SOL": "12.25"})
    page.goto("/spot")
    tickers = {t["symbol"]: t for t in server.admin.get("/api/v1/tickers").json()}
    spots = [m for m in server.admin.get("/api/v1/markets").json() if m["marketType"] == "SPOT"]
    assert spots
    for market in spots:
        expect(page.get_by_test_id(f"spot-{market['symbol']}")).to_contain_text(
            amount(tickers[market["symbol"]]["lastPrice"])
        )
    sign_in(page, account)
    cells = page.get_by_test_id("balance-SOL").get_by_role("cell")
    expect(cells).to_have_text(["SOL", "12.25", "0", "0"])
    wait_live(page)
    server.deposit(account["subaccountId"], "SOL", "0.75")
    expect(cells).to_have_text(["SOL", "13", "0", "0"])


def test_navigation_changes_pages_without_reloading(server: Server, page: Any) -> None:
    page.goto("/spot")
    page.evaluate("window.stayed = true")
    for testid, path, heading in [("nav-futures", "/futures", "Futures"), ("nav-spot", "/spot", "Spot")]:
        page.get_by_test_id(testid).click()
        expect(page).to_have_url(server.url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_test_id(testid)).to_have_attribute("aria-current", "page")
    page.go_back()
    expect(page).to_have_url(server.url + "/futures")
    expect(page.get_by_role("heading", level=1)).to_have_text("Futures")
    assert page.evaluate("window.stayed") is True


def test_a_page_module_that_fails_to_load_is_explained_in_the_page(server: Server, browser: Any) -> None:
    # Its own page, not the fixture's: the shell runs the page's file as a module script, so the
    # browser itself reports the broken file's syntax error, besides the page's explanation.
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        "**/static/dist/spot.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body="export function ("),
    )
    try:
        page.goto("/spot")
        expect(page.get_by_role("alert")).to_contain_text("The Spot page could not be loaded")
    finally:
        context.close()
    assert len(errors) == 1, f"only the broken file's own syntax error: {errors}"
