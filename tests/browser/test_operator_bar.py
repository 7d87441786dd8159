"""The operator's demo controls: advance the manual clock, deposit to the subaccount in use, set an index price.

The bar shows only while the operator is connected (admin token in the sign-in dialog). Each
action's effect is read back from the server and compared with what the page shows after the
live feed reported it; a refusal is shown in the server's own words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from live_server import TOKEN
from playwright.sync_api import expect
from web_harness import Server, wait_live

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CLOCK_REFUSAL = "The clock can be advanced only with --clock manual"


def _usd(text: str) -> str:
    value = Decimal(text).quantize(Decimal("0.01"))
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def _connect_operator(page: Any, subaccount_id: int | None = None) -> Any:
    """Connect as the operator through the sign-in dialog, act as `subaccount_id` if given; return the bar."""
    bar = page.get_by_test_id("operator-bar")
    expect(bar).to_be_hidden()
    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    dialog.get_by_role("tab", name="Operator").click()
    dialog.get_by_label("Admin token").fill(TOKEN)
    dialog.get_by_role("button", name="Connect").click()
    expect(bar).to_be_visible()
    if subaccount_id is None:
        page.keyboard.press("Escape")
    else:
        dialog.get_by_test_id(f"use-subaccount-{subaccount_id}").click()
        expect(page.get_by_test_id("session-label")).to_have_text(f"Subaccount #{subaccount_id}")
    expect(dialog).to_be_hidden()
    return bar


def _toast(page: Any, text: str) -> None:
    expect(page.locator("#toasts").get_by_text(text, exact=True)).to_be_visible()


def test_the_operator_deposits_advances_an_hour_and_moves_a_price_from_the_page(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1"})
    subaccount = account["subaccountId"]
    page.goto("/lend")
    bar = _connect_operator(page, subaccount)
    expect(bar.get_by_role("heading", name="Operator")).to_be_visible()
    expect(bar.get_by_test_id("operator-deposit-target")).to_have_text(f"to subaccount #{subaccount}")
    wait_live(page)

    bar.get_by_label("Deposit amount").fill("250.5")
    bar.get_by_label("Deposit asset").select_option("USDC")
    bar.get_by_role("button", name="Deposit", exact=True).click()
    _toast(page, f"Deposited 250.5 USDC to subaccount #{subaccount}")
    balances = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")
    assert balances["USDC"]["available"] == "250.5"
    page.get_by_test_id("pool-USDC").get_by_role("button", name="USDC", exact=True).click()
    expect(page.get_by_test_id("asset-panel").get_by_test_id("available-balance")).to_have_text("250.5 USDC")
    expect(bar.get_by_label("Deposit amount")).to_have_value("")

    borrow = {"symbol": "USDC", "side": "Borrow", "quantity": "1000"}
    server.signed(account, "borrowLendExecute", "POST", "/api/v1/borrowLend", borrow)
    interest = page.get_by_test_id("interest-history")
    expect(interest.locator('[data-type="EntryFee"]')).to_have_count(1)
    expect(interest.locator('[data-type="Borrow"]')).to_have_count(0)
    before = server.operator("GET", "/admin/v1/clock")["now"]
    bar.get_by_role("group", name="Advance clock").get_by_role("button", name="+1 h").click()
    after = datetime.fromtimestamp((before + 3_600_000) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    _toast(page, f"Clock advanced by 1 hour: {after} UTC")
    assert server.operator("GET", "/admin/v1/clock")["now"] == before + 3_600_000
    rows = server.signed(account, "interestHistoryQueryAll", "GET", "/wapi/v1/history/interest")
    [hourly] = [row for row in rows if row["paymentType"] == "Borrow"]
    expect(interest.locator('[data-type="Borrow"]').get_by_test_id("interest-amount")).to_have_text(
        f"{Decimal(hourly['quantity']):,} USDC"
    )

    [mark] = server.admin.get("/api/v1/markPrices", params={"symbol": "BTC_USDC"}).json()
    old_price = mark["indexPrice"]
    old = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
    expect(page.get_by_test_id("net-equity")).to_have_text(_usd(old["netEquity"]))
    try:
        bar.get_by_label("Price asset").select_option("BTC")
        bar.get_by_label("Index price (USD)").fill("45000")
        bar.get_by_role("button", name="Set price").click()
        _toast(page, "BTC index price set to $45,000.00")
        new = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
        assert Decimal(new["netEquity"]) < Decimal(old["netEquity"])
        expect(page.get_by_test_id("net-equity")).to_have_text(_usd(new["netEquity"]))
        expect(page.get_by_test_id("net-equity")).to_have_attribute("data-value", new["netEquity"])
    finally:
        server.prices({"BTC": old_price})
    expect(bar.get_by_test_id("operator-bar-error")).to_be_empty()


def test_refusals_show_the_servers_words_and_deposit_waits_for_a_subaccount(server: Server, page: Any) -> None:
    page.goto("/lend")
    bar = _connect_operator(page)
    expect(bar.get_by_role("button", name="Deposit", exact=True)).to_be_disabled()
    expect(bar.get_by_test_id("operator-deposit-target")).to_contain_text("Use a subaccount")

    refused = server.admin.post("/admin/v1/prices", json={"prices": {"BTC": "12,5"}})
    assert refused.status_code == 400
    bar.get_by_label("Price asset").select_option("BTC")
    bar.get_by_label("Index price (USD)").fill("12,5")
    bar.get_by_role("button", name="Set price").click()
    expect(bar.get_by_role("alert")).to_have_text(refused.json()["message"])
    assert "12,5" in refused.json()["message"]

    # A server on the wall clock refuses to advance it; the bar says so in the server's words.
    body = {"code": "INVALID_CLIENT_REQUEST", "message": CLOCK_REFUSAL}
    page.route("**/admin/v1/clock/advance", lambda route: route.fulfill(status=400, json=body))
    before = server.operator("GET", "/admin/v1/clock")["now"]
    bar.get_by_role("button", name="+1 day").click()
    expect(bar.get_by_role("alert")).to_have_text(CLOCK_REFUSAL)
    assert server.operator("GET", "/admin/v1/clock")["now"] == before

    page.get_by_test_id("session-button").click()
    page.get_by_test_id("session-dialog").get_by_role("tab", name="Operator").click()
    page.get_by_test_id("session-dialog").get_by_role("button", name="New account").click()
    expect(bar.get_by_role("button", name="Deposit", exact=True)).to_be_enabled()
    page.get_by_test_id("session-button").click()
    page.get_by_test_id("session-dialog").get_by_role("button", name="Sign out").click()
    expect(bar).to_be_hidden()


def test_the_fund_button_shows_the_insurance_funds_value_and_follows_it_live(server: Server, page: Any) -> None:
    page.goto("/lend")
    bar = _connect_operator(page)
    wait_live(page)
    before = server.operator("GET", "/admin/v1/insurance-fund")
    button = bar.get_by_test_id("operator-fund-button")
    expect(button.get_by_test_id("operator-fund-value")).to_have_attribute("data-value", before["value"])
    expect(button).to_have_text(f"Fund {_usd(before['value'])}")
    expect(bar.get_by_test_id("operator-fund")).to_be_hidden()

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    panel = bar.get_by_test_id("operator-fund")
    expect(panel).to_be_visible()
    server.deposit(0, "USDC", "250.5")  # the operator tops the fund up: subaccount 0
    after = server.operator("GET", "/admin/v1/insurance-fund")
    assert Decimal(after["value"]) == Decimal(before["value"]) + Decimal("250.5")

    expect(panel.get_by_test_id("fund-value")).to_have_attribute("data-value", after["value"])
    expect(panel.get_by_test_id("fund-value")).to_have_text(_usd(after["value"]))
    expect(button).to_have_text(f"Fund {_usd(after['value'])}")
    [usdc] = [row for row in after["balances"] if row["symbol"] == "USDC"]
    expect(panel.get_by_test_id("fund-balance-USDC").get_by_role("cell")).to_have_text(
        ["USDC", f"{Decimal(usdc['available']):,}", "0", "0", "0", _usd(usdc["value"])]
    )
    expect(panel.get_by_test_id("fund-backstops")).to_have_text(str(after["backstopCount"]))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "operator_fund_panel.png"))
    button.click()
    expect(panel).to_be_hidden()
