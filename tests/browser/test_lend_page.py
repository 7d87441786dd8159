"""The Lend page in a real browser: pools, the four dialogs with the server's preview, positions, interest, history.

Every amount the page shows is compared with the server's own string for it, read by signed
requests from the test (formatted the way the page's format.js does: thousands separators, every
digit the server sent; rates as percentages rounded half up).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from plain_http import HTTP
from playwright.sync_api import expect
from web_harness import Server, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _amount(decimal: str) -> str:
    """The page's display of an amount: thousands separators and every digit the server sent."""
    return f"{Decimal(decimal):,}"


def _percent(decimal: str, digits: int = 2) -> str:
    """The page's display of a rate: a percentage rounded half up to `digits` decimals."""
    return f"{(Decimal(decimal) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):,}%"


def _preview(server: Server, account: dict[str, Any], side: str, quantity: str, symbol: str = "USDC") -> Any:
    params = {"symbol": symbol, "side": side, "quantity": quantity}
    return server.signed(account, "borrowLendPreview", "GET", "/api/v1/borrowLend/preview", params)


def _positions(server: Server, account: dict[str, Any]) -> dict[str, dict[str, str]]:
    rows = server.signed(account, "borrowLendPositionQuery", "GET", "/api/v1/borrowLend/positions")
    return {row["symbol"]: row for row in rows}


def _interest(server: Server, account: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = server.signed(account, "interestHistoryQueryAll", "GET", "/wapi/v1/history/interest")
    return rows


def _open_usdc(page: Any, account: dict[str, Any] | None = None) -> Any:
    """Open the Lend page (signed in as `account` if given), select USDC and return its panel."""
    page.goto("/lend")
    if account is not None:
        sign_in(page, account)
    asset = page.get_by_test_id("pool-USDC").get_by_role("button", name="USDC", exact=True)
    asset.click()
    expect(asset).to_have_attribute("aria-pressed", "true")
    return page.get_by_test_id("asset-panel")


def _open_dialog(page: Any, action: str) -> Any:
    page.get_by_test_id("asset-panel").get_by_role("button", name=action, exact=True).click()
    dialog = page.get_by_test_id("lend-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount")).to_be_focused()
    return dialog


def test_signed_out_every_pool_shows_and_the_account_parts_invite_signing_in(server: Server, page: Any) -> None:
    pools = HTTP.get(server.url + "/api/v1/borrowLend/markets").json()
    page.goto("/lend")
    for pool in pools:
        row = page.get_by_test_id(f"pool-{pool['symbol']}")
        expect(row.locator("td")).to_have_text(
            [
                _amount(pool["lentQuantity"]),
                _amount(pool["borrowedQuantity"]),
                _percent(pool["utilization"]),
                _percent(pool["lendInterestRate"]),
                _percent(pool["borrowInterestRate"]),
            ]
        )
    panel = _open_usdc(page)
    expect(panel.get_by_test_id("lend-sign-in-invite")).to_contain_text("Sign in")
    expect(panel.get_by_role("button", name="Borrow", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("lend-positions")).to_contain_text("Sign in to see your active borrows and lends.")
    panel.get_by_role("button", name="Open the sign-in dialog").click()
    expect(page.get_by_test_id("session-dialog")).to_be_visible()


def test_borrow_see_the_fee_and_hourly_interest_live_then_repay_all_to_zero(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1"})
    panel = _open_usdc(page, account)
    limit = server.signed(account, "maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", {"symbol": "USDC"})
    expect(panel.get_by_test_id("max-borrowable")).to_have_text(f"{_amount(limit['maxBorrowQuantity'])} USDC")

    dialog = _open_dialog(page, "Borrow")
    expect(dialog.get_by_test_id("dialog-bound")).to_have_text(
        f"Max borrowable: {_amount(limit['maxBorrowQuantity'])} USDC"
    )
    dialog.get_by_label("Amount").fill("100")
    preview = _preview(server, account, "Borrow", "100")
    assert preview["accepted"] is True
    assert preview["action"] == "Borrow"
    expect(dialog.get_by_test_id("preview-entry-fee")).to_have_text(f"{_amount(preview['entryFee'])} USDC")
    expect(dialog.get_by_test_id("preview-hourly")).to_have_text(f"{_amount(preview['hourlyInterest'])} USDC")
    expect(dialog.get_by_test_id("preview-apr")).to_have_text(_percent(preview["borrowInterestRate"]))
    expect(dialog.get_by_test_id("preview-position-after")).to_have_text(f"{_amount(preview['netQuantityAfter'])} USDC")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lend_borrow_dialog_preview.png"))
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()

    position = _positions(server, account)["USDC"]
    assert position["netQuantity"] == f"-{Decimal(100) + Decimal(preview['entryFee'])}"
    row = page.get_by_test_id("position-USDC")
    expect(row.get_by_test_id("net-quantity")).to_have_text(_amount(position["netQuantity"]))
    expect(row.get_by_test_id("cumulative-interest")).to_have_text(_amount(position["cumulativeInterest"]))
    [fee] = [row for row in _interest(server, account) if row["paymentType"] == "EntryFee"]
    assert fee["quantity"] == preview["entryFee"]
    interest = page.get_by_test_id("interest-history")
    expect(interest.locator('[data-type="EntryFee"]').get_by_test_id("interest-amount")).to_have_text(
        f"{_amount(fee['quantity'])} USDC"
    )
    movement = page.get_by_test_id("borrow-lend-history").get_by_test_id("movement-row").first
    expect(movement).to_contain_text("Manual")
    expect(movement.get_by_test_id("movement-why")).to_contain_text(
        f"you borrowed 100 USDC yourself (entry fee {fee['quantity']} USDC)"
    )

    page.evaluate("window.sameDocument = true")
    server.advance(3600)
    hourly = next(row for row in _interest(server, account) if row["paymentType"] == "Borrow")
    expect(interest.locator('[data-type="Borrow"]').first.get_by_test_id("interest-amount")).to_have_text(
        f"{_amount(hourly['quantity'])} USDC"
    )
    position = _positions(server, account)["USDC"]
    expect(row.get_by_test_id("cumulative-interest")).to_have_text(_amount(position["cumulativeInterest"]))
    assert page.evaluate("window.sameDocument") is True

    server.deposit(account["subaccountId"], "USDC", "1")
    expect(panel.get_by_test_id("available-balance")).to_have_text("101 USDC")
    dialog = _open_dialog(page, "Repay")
    dialog.get_by_role("button", name="Max").click()
    expect(dialog.get_by_label("Amount")).to_have_value(position["netQuantity"].removeprefix("-"))
    expect(dialog.get_by_test_id("preview-position-after")).to_have_text("0 USDC")
    dialog.get_by_label("Amount").press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("position-USDC")).to_have_count(0)
    assert "USDC" not in _positions(server, account)
    balances = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")
    assert Decimal(balances["USDC"]["available"]) == 101 + Decimal(position["netQuantity"])
    expect(panel.get_by_test_id("debt")).to_have_text("0 USDC")
    expect(panel.get_by_role("button", name="Repay", exact=True)).to_be_disabled()
    expect(panel.get_by_role("button", name="Borrow", exact=True)).to_be_focused()  # not lost with the disabled opener


def test_an_over_limit_borrow_shows_the_servers_refusal(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "0.01"})
    _open_usdc(page, account)
    limit = server.signed(account, "maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", {"symbol": "USDC"})
    over = str(int(Decimal(limit["maxBorrowQuantity"])) + 1000)
    dialog = _open_dialog(page, "Borrow")
    dialog.get_by_label("Amount").fill(over)
    preview = _preview(server, account, "Borrow", over)
    assert preview["accepted"] is False
    assert preview["code"] == "INSUFFICIENT_MARGIN"
    assert preview["message"].startswith("Borrow would exceed your available margin")
    expect(dialog.get_by_test_id("dialog-error")).to_have_text(preview["message"])
    expect(dialog.get_by_test_id("dialog-error")).to_have_attribute("role", "alert")
    expect(dialog.get_by_role("button", name="Confirm")).to_be_disabled()
    dialog.get_by_label("Amount").fill("12.5")
    expect(dialog.get_by_test_id("dialog-error")).to_be_empty()
    expect(dialog.get_by_role("button", name="Confirm")).to_be_enabled()
    dialog.get_by_label("Amount").fill("1.1234567")
    expect(dialog.get_by_test_id("dialog-error")).to_have_text("USDC amounts have at most 6 decimals")


def test_a_borrow_the_server_refuses_at_confirm_shows_its_message(server: Server, page: Any) -> None:
    """A preview that said yes (stale by the time of Confirm) does not hide the POST's own refusal."""
    account = server.new_account({"BTC": "0.01"})
    _open_usdc(page, account)
    limit = server.signed(account, "maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", {"symbol": "USDC"})
    over = str(int(Decimal(limit["maxBorrowQuantity"])) + 1000)
    expected = _preview(server, account, "Borrow", over)["message"]
    stale = {**_preview(server, account, "Borrow", "1"), "quantity": over, "accepted": True}
    page.route("**/api/v1/borrowLend/preview?*", lambda route: route.fulfill(json=stale))
    dialog = _open_dialog(page, "Borrow")
    dialog.get_by_label("Amount").fill(over)
    expect(dialog.get_by_test_id("preview-entry-fee")).to_have_text(f"{_amount(stale['entryFee'])} USDC")
    with page.expect_response("**/api/v1/borrowLend") as answer:
        dialog.get_by_role("button", name="Confirm").click()
    assert answer.value.status == 400
    assert answer.value.json()["code"] == "INSUFFICIENT_MARGIN"
    expect(dialog.get_by_test_id("dialog-error")).to_have_text(expected)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Confirm")).to_be_enabled()
    assert "USDC" not in _positions(server, account)


def test_with_auto_lend_on_a_manual_borrow_shows_the_servers_message(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1"})
    server.signed(account, "accountUpdate", "PATCH", "/api/v1/account", {"autoLend": True})
    panel = _open_usdc(page, account)
    expect(panel.get_by_test_id("auto-lend-note")).to_contain_text("a manual borrow or repay needs it off")
    dialog = _open_dialog(page, "Borrow")
    dialog.get_by_label("Amount").fill("10")
    preview = _preview(server, account, "Borrow", "10")
    assert preview["accepted"] is False
    assert preview["message"].startswith("Auto-lend is on: turn it off to borrow")
    expect(dialog.get_by_test_id("dialog-error")).to_have_text(preview["message"])
    expect(dialog.get_by_role("button", name="Confirm")).to_be_disabled()


def test_lend_then_redeem_the_whole_lend(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "500"})
    panel = _open_usdc(page, account)
    expect(panel.get_by_test_id("available-balance")).to_have_text("500 USDC")
    expect(panel.get_by_role("button", name="Redeem", exact=True)).to_be_disabled()
    dialog = _open_dialog(page, "Lend")
    dialog.get_by_role("button", name="Max").click()
    expect(dialog.get_by_label("Amount")).to_have_value("500")
    preview = _preview(server, account, "Lend", "500")
    assert preview["action"] == "Lend"
    expect(dialog.get_by_test_id("preview-hourly")).to_have_text(f"{_amount(preview['hourlyLendInterest'])} USDC")
    expect(dialog.get_by_test_id("preview-apr")).to_have_text(_percent(preview["lendInterestRate"]))
    expect(dialog.get_by_test_id("preview-entry-fee")).to_have_count(0)
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    lent = _positions(server, account)["USDC"]["netQuantity"]
    assert lent == preview["netQuantityAfter"]  # the pool's shares round in its favour: at most 500
    expect(page.get_by_test_id("position-USDC").get_by_test_id("net-quantity")).to_have_text(_amount(lent))
    expect(panel.get_by_test_id("lent")).to_have_text(f"{_amount(lent)} USDC")
    expect(panel.get_by_test_id("available-balance")).to_have_text("0 USDC")

    dialog = _open_dialog(page, "Redeem")
    dialog.get_by_role("button", name="Max").click()
    expect(dialog.get_by_label("Amount")).to_have_value(lent)
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("position-USDC")).to_have_count(0)
    assert "USDC" not in _positions(server, account)
    expect(panel.get_by_test_id("available-balance")).to_have_text(f"{_amount(lent)} USDC")
    history = page.get_by_test_id("borrow-lend-history").get_by_test_id("movement-row")
    expect(history.locator("td:nth-child(3)")).to_have_text(["Redeem", "Lend"])


def test_dialogs_work_from_the_keyboard_and_give_focus_back(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1"})
    page.goto("/lend")
    sign_in(page, account)
    page.get_by_test_id("pool-USDC").get_by_role("button", name="USDC", exact=True).focus()
    page.keyboard.press("Enter")
    borrow = page.get_by_test_id("asset-panel").get_by_role("button", name="Borrow", exact=True)
    borrow.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("lend-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(borrow).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Amount")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Max")).to_be_focused()
    page.keyboard.press("Enter")
    limit = server.signed(account, "maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", {"symbol": "USDC"})
    expect(dialog.get_by_label("Amount")).to_have_value(limit["maxBorrowQuantity"])
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(borrow).to_be_focused()


def test_a_settlement_borrow_says_why_in_words(server: Server, page: Any) -> None:
    # Everything up to the advance lands in one 10-second period. The test's commands and the demo
    # maker's answers take about 70 ms of engine time: when a settlement fell inside them (one run in
    # CI), it borrowed the order's fee apart from the loss, and `[borrow] =` met two borrows.
    server.advance_past_the_hour()
    account = server.new_account({"BTC": "1"})
    order = {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "0.1"}
    server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
    mark = HTTP.get(server.url + "/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}).json()[0]["indexPrice"]
    try:
        server.prices({"BTC": str(Decimal(mark) - 2000)})
        server.advance(10)
        [borrow] = server.signed(account, "borrowExplanationQuery", "GET", "/api/v1/explain/borrows")
    finally:
        server.prices({"BTC": mark})
    assert borrow["source"] == "Reconciliation"
    page.goto("/lend")
    sign_in(page, account)
    row = page.get_by_test_id("borrow-lend-history").locator('[data-source="Reconciliation"]')
    expect(row).to_contain_text("Reconciliation")
    expect(row.get_by_test_id("movement-why")).to_contain_text(
        f"auto-borrow of settlements is on, so {borrow['quantity']} USDC was borrowed "
        f"(entry fee {borrow['entryFee']} USDC)"
    )
    expect(row.get_by_test_id("movement-why")).to_contain_text("the 10-second settlement of BTC_USDC_PERP realized")


def test_usdc_is_selected_at_first_and_the_address_names_the_selected_asset(server: Server, page: Any) -> None:
    page.goto("/lend")
    expect(page.get_by_test_id("pool-USDC").get_by_role("button", name="USDC", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    panel = page.get_by_test_id("asset-panel")
    expect(panel.get_by_role("heading", name="USDC", exact=True)).to_be_visible()
    assert "symbol=" not in page.url
    page.get_by_test_id("pool-ETH").get_by_role("button", name="ETH", exact=True).click()
    expect(panel.get_by_role("heading", name="ETH", exact=True)).to_be_visible()
    assert page.url.endswith("/lend?symbol=ETH")
    page.reload()
    expect(panel.get_by_role("heading", name="ETH", exact=True)).to_be_visible()
    expect(page.get_by_test_id("pool-ETH").get_by_role("button", name="ETH", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto("/lend?symbol=sol")
    expect(panel.get_by_role("heading", name="SOL", exact=True)).to_be_visible()
    page.goto("/lend?symbol=NOPE")
    expect(panel.get_by_role("heading", name="USDC", exact=True)).to_be_visible()
    assert page.url.endswith("/lend?symbol=USDC")


def test_repay_and_redeem_from_the_position_rows(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1", "ETH": "3", "USDC": "1"})  # 1 USDC pays the entry fee back
    borrow = {"symbol": "USDC", "side": "Borrow", "quantity": "100"}
    server.signed(account, "borrowLendExecute", "POST", "/api/v1/borrowLend", borrow)
    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {**borrow, "symbol": "ETH", "side": "Lend", "quantity": "2"},
    )
    page.goto("/lend")
    sign_in(page, account)
    usdc, eth = page.get_by_test_id("position-USDC"), page.get_by_test_id("position-ETH")
    expect(usdc.get_by_role("button")).to_have_text(["Repay"])
    expect(eth.get_by_role("button")).to_have_text(["Redeem"])
    panel = page.get_by_test_id("asset-panel")
    expect(panel.get_by_role("heading", name="USDC", exact=True)).to_be_visible()

    redeem = eth.get_by_role("button", name="Redeem ETH")
    redeem.click()
    dialog = page.get_by_test_id("lend-dialog")
    expect(dialog.get_by_role("heading", name="Redeem ETH")).to_be_visible()
    expect(dialog.get_by_label("Amount")).to_be_focused()
    expect(panel.get_by_role("heading", name="ETH", exact=True)).to_be_visible()
    lent = _positions(server, account)["ETH"]["netQuantity"]
    expect(dialog.get_by_test_id("dialog-bound")).to_have_text(f"Lent: {_amount(lent)} ETH")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(redeem).to_be_focused()

    usdc.get_by_role("button", name="Repay USDC").click()
    expect(dialog.get_by_role("heading", name="Repay USDC")).to_be_visible()
    expect(panel.get_by_role("heading", name="USDC", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Max").click()
    debt = _positions(server, account)["USDC"]["netQuantity"]
    expect(dialog.get_by_label("Amount")).to_have_value(debt.removeprefix("-"))
    expect(dialog.get_by_test_id("preview-position-after")).to_have_text("0 USDC")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    expect(usdc).to_have_count(0)
    assert "USDC" not in _positions(server, account)
    expect(eth.get_by_test_id("net-quantity")).to_have_text(_amount(lent))


def _usd_price(decimal: str) -> str:
    """The page's display of a price (format.js usdPrice): cents from $100 up, else 4 decimals, half up."""
    value = Decimal(decimal)
    places = Decimal("0.01") if value >= 100 else Decimal("0.0001")
    return f"${value.quantize(places, rounding=ROUND_HALF_UP):,}"


def test_the_liquidation_prices_are_labelled_with_their_asset_and_equal_the_apis(server: Server, page: Any) -> None:
    """The brief's example: 1 BTC, 40,000 USDC borrowed and withdrawn; BTC is only spot, so no position row."""
    account = server.new_account({"BTC": "1"})
    borrow = {"symbol": "USDC", "side": "Borrow", "quantity": "40000"}
    server.signed(account, "borrowLendExecute", "POST", "/api/v1/borrowLend", borrow)
    withdrawal = {"symbol": "USDC", "quantity": "40000", "address": "0xabc", "blockchain": "Ethereum"}
    server.signed(account, "withdraw", "POST", "/wapi/v1/capital/withdrawals", withdrawal)
    collateral = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
    [btc] = collateral["collateral"]
    usdc = _positions(server, account)["USDC"]
    assert btc["symbol"] == "BTC"
    assert 46_000 < Decimal(btc["collateralLiquidationPrice"]) < 47_000
    assert 1 < Decimal(usdc["estLiquidationPrice"]) < 2

    page.goto("/lend")
    sign_in(page, account)

    line = page.get_by_test_id("collateral-liquidation-BTC")
    expect(line).to_have_text(f"Liquidated if BTC falls to {_usd_price(btc['collateralLiquidationPrice'])}")
    expect(line).to_have_attribute("data-value", btc["collateralLiquidationPrice"])
    expect(page.get_by_test_id("collateral-liquidation").get_by_role("listitem")).to_have_count(1)
    cell = page.get_by_test_id("position-USDC").get_by_test_id("est-liquidation-price")
    expect(cell).to_have_text(f"USDC rises to {_usd_price(usdc['estLiquidationPrice'])}")
    expect(cell).to_have_attribute("data-value", usdc["estLiquidationPrice"])
    expect(page.get_by_test_id("lend-positions").get_by_role("columnheader", name="Liquidated if")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lend_collateral_liquidation_price.png"))


def test_without_any_risk_no_liquidation_price_is_shown(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "500"})
    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {"symbol": "USDC", "side": "Lend", "quantity": "500"},
    )
    [usdc] = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")["collateral"]
    assert usdc["collateralLiquidationPrice"] == "0"

    page.goto("/lend")
    sign_in(page, account)

    cell = page.get_by_test_id("position-USDC").get_by_test_id("est-liquidation-price")
    none = "No liquidation price: no move of this price alone, the others fixed, would liquidate the account"
    expect(cell).to_have_text(f"—{none}")  # the dash shown, the words read out and on hover
    expect(cell).to_have_attribute("title", none)
    expect(cell.locator("[aria-hidden=true]")).to_have_text("—")
    expect(page.get_by_test_id("collateral-liquidation")).to_have_count(0)
