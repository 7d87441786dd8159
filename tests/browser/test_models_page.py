"""Models → Margin: the leverage and interest-rate curves read back the server's exact points."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from plain_http import HTTP
from playwright.sync_api import expect
from web_harness import Server, sign_in

TIMES = "\N{MULTIPLICATION SIGN}"
LIVE_MS = 5_000  # the live feed (engine.update) refreshes well within this; the 15 s poll would not
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _margin_points(server: Server, symbol: str) -> list[dict[str, str]]:
    response = HTTP.get(server.url + "/api/v1/models/margin", params={"symbol": symbol})
    assert response.status_code == 200, response.text
    points: list[dict[str, str]] = response.json()["points"]
    return points


def _rate_model(server: Server, symbol: str) -> dict[str, Any]:
    response = HTTP.get(server.url + "/api/v1/models/interestRate", params={"symbol": symbol})
    assert response.status_code == 200, response.text
    model: dict[str, Any] = response.json()
    return model


def _dollars(decimal: str) -> str:
    """The page's exact display of a USD notional: thousands separators, every digit the server sent."""
    whole, _, fraction = decimal.partition(".")
    return f"${int(whole):,}" + (f".{fraction}" if fraction else "")


def _percent(decimal: str, digits: int = 2) -> str:
    """The page's display of a rate: a percentage rounded half up to `digits` decimals."""
    return f"{(Decimal(decimal) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)}%"


def _tooltip_text(point: dict[str, str]) -> str:
    return f"{_dollars(point['notional'])} → {point['maxLeverage']}{TIMES} max initial leverage"


def _open_btc(page: Any) -> None:
    page.goto("/models/margin")
    button = page.get_by_role("group", name="Asset").get_by_role("button", name="BTC", exact=True)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def _leverage_tooltip(page: Any) -> Any:
    return page.locator("figure", has=page.get_by_test_id("leverage-chart")).get_by_test_id("chart-tooltip")


def _rate_tooltip(page: Any) -> Any:
    return page.locator("figure", has=page.get_by_test_id("rate-chart")).get_by_test_id("chart-tooltip")


def test_hovering_the_leverage_curve_shows_the_servers_point_nearest_the_pointer(server: Server, page: Any) -> None:
    points = _margin_points(server, "BTC")
    _open_btc(page)
    chart = page.get_by_test_id("leverage-chart")
    expect(chart).to_have_attribute("data-x-scale", "log")
    expect(chart).to_have_attribute(
        "aria-label",
        f"Max initial leverage of BTC borrows against their notional size: "
        f"{points[0]['maxLeverage']}{TIMES} at {_dollars(points[0]['notional'])}, "
        f"{points[-1]['maxLeverage']}{TIMES} at {_dollars(points[-1]['notional'])}. "
        "Focus the chart and use the arrow keys, Home and End to read each point.",
    )
    box = chart.locator(".chart-plot").bounding_box()
    low, high = math.log10(float(points[0]["notional"])), math.log10(float(points[-1]["notional"]))

    def pixel(notional: str) -> float:
        return float(box["x"] + box["width"] * (math.log10(float(notional)) - low) / (high - low))

    tooltip = _leverage_tooltip(page)
    for index in (37, 130, 201, 240):
        x = round(pixel(points[index]["notional"]))
        page.mouse.move(x, box["y"] + box["height"] / 2)
        nearest = min(range(len(points)), key=lambda i: abs(pixel(points[i]["notional"]) - x))
        assert nearest == index
        expect(tooltip).to_have_text(_tooltip_text(points[index]))
        expect(tooltip).to_have_attribute("role", "status")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "models_leverage_tooltip.png"), full_page=True)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] + 200)
    expect(tooltip).to_be_empty()


def test_the_leverage_chart_reads_point_by_point_from_the_keyboard(server: Server, page: Any) -> None:
    points = _margin_points(server, "BTC")
    _open_btc(page)
    chart = page.get_by_test_id("leverage-chart")
    expect(chart).to_have_attribute("tabindex", "0")
    tooltip = _leverage_tooltip(page)
    chart.focus()
    page.keyboard.press("End")
    expect(tooltip).to_have_text(_tooltip_text(points[-1]))
    page.keyboard.press("ArrowLeft")
    expect(tooltip).to_have_text(_tooltip_text(points[-2]))
    page.keyboard.press("Home")
    expect(tooltip).to_have_text(_tooltip_text(points[0]))
    page.keyboard.press("ArrowRight")
    expect(tooltip).to_have_text(_tooltip_text(points[1]))
    page.keyboard.press("Escape")
    expect(tooltip).to_be_empty()


def test_a_linked_asset_opens_selected_and_another_asset_shows_its_own_curves(server: Server, page: Any) -> None:
    page.goto("/models/margin?symbol=ETH")
    assets = page.get_by_role("group", name="Asset")
    expect(assets.get_by_role("button", name="ETH", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(assets.get_by_role("button", name="BTC", exact=True)).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("heading", name="Max initial leverage of ETH borrows")).to_be_visible()

    assets.get_by_role("button", name="SOL", exact=True).click()
    expect(page).to_have_url(f"{server.url}/models/margin?symbol=SOL")
    points = _margin_points(server, "SOL")
    page.get_by_test_id("leverage-chart").focus()
    page.keyboard.press("End")
    expect(_leverage_tooltip(page)).to_have_text(_tooltip_text(points[-1]))
    rates = _rate_model(server, "SOL")
    page.get_by_test_id("rate-chart").focus()
    page.keyboard.press("Home")
    first = rates["points"][0]
    expect(_rate_tooltip(page)).to_have_text(
        f"0% utilization → borrow {_percent(first['borrowInterestRate'])} APR, "
        f"lend {_percent(first['lendInterestRate'])} APR"
    )


def test_the_rate_chart_marks_the_current_utilization_and_follows_a_borrow_without_reload(
    server: Server, page: Any
) -> None:
    before = _rate_model(server, "BTC")
    _open_btc(page)
    now = page.get_by_test_id("rate-chart").get_by_test_id("current-utilization")
    expect(now).to_have_attribute("data-value", before["utilization"])
    expect(now).to_have_text(f"Now {_percent(before['utilization'])}")
    kink = page.get_by_test_id("rate-chart").get_by_test_id("optimal-utilization")
    expect(kink).to_have_attribute("data-value", before["optimalUtilization"])
    expect(kink).to_have_text(f"Optimal {_percent(before['optimalUtilization'], 0)}")
    x_before = now.locator("line").bounding_box()["x"]

    page.get_by_test_id("rate-chart").focus()
    page.keyboard.press("End")
    last = before["points"][-1]
    expect(_rate_tooltip(page)).to_have_text(
        f"100% utilization → borrow {_percent(last['borrowInterestRate'])} APR, "
        f"lend {_percent(last['lendInterestRate'])} APR"
    )

    page.evaluate("window.sameDocument = true")
    borrower = server.new_account({"USDC": "2000000"})
    borrow = {"symbol": "BTC", "side": "Borrow", "quantity": "20"}
    server.signed(borrower, "borrowLendExecute", "POST", "/api/v1/borrowLend", borrow)
    after = _rate_model(server, "BTC")
    assert Decimal(after["utilization"]) > Decimal(before["utilization"])
    expect(now).to_have_attribute("data-value", after["utilization"], timeout=LIVE_MS)
    expect(now).to_have_text(f"Now {_percent(after['utilization'])}")
    assert now.locator("line").bounding_box()["x"] > x_before
    assert page.evaluate("window.sameDocument") is True


def test_signed_in_the_leverage_chart_draws_the_subaccounts_leverage_limit(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    page.goto("/models/margin")
    sign_in(page, account)
    limit = page.get_by_test_id("leverage-chart").get_by_test_id("leverage-limit")
    expect(limit).to_have_attribute("data-value", "10")
    expect(limit).to_have_text(f"Your leverage limit 10{TIMES}")
    server.signed(account, "accountUpdate", "PATCH", "/api/v1/account", {"leverageLimit": "4"})
    expect(limit).to_have_attribute("data-value", "4", timeout=LIVE_MS)
    expect(limit).to_have_text(f"Your leverage limit 4{TIMES}")
