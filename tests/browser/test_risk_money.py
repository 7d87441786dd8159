"""Risk you can see and honest messages on the Lend page, in a real browser (issue 16).

The margin card equals `GET /api/v1/capital/collateral` to the last digit (with a borrow, an open
order, a perp before and after its settlement); MMR and Available are coloured by danger with a
banner near liquidation; a liquidation shows a notice with its steps and fees; a server that does
not answer never reads as "no borrows"; Repay and Redeem over the position say how much they can
move; Repay "Max" stops at what the balance can pay; each history table pages; focus stays on the
lightning toggle and the switches. One server for the module; every test restores the prices it moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from plain_http import HTTP
from playwright.sync_api import expect
from web_harness import Server, sign_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CARD = {
    "net-equity": "netEquity",
    "available": "netEquityAvailable",
    "margin-fraction": "marginFraction",
    "imr": "initialMarginRatio",
    "mmr": "maintenanceMarginRatio",
}


def _usd(text: str) -> str:
    value = Decimal(text).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def _percent(text: str) -> str:
    return f"{(Decimal(text) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}%"


def _collateral(server: Server, account: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
    return body


def _expect_card_equals_api(page: Any, server: Server, account: dict[str, Any]) -> dict[str, Any]:
    collateral = _collateral(server, account)
    for testid, key in CARD.items():
        shown = page.get_by_test_id(testid)
        value = collateral.get(key)
        expect(shown).to_have_attribute("data-value", value or "")
        expect(shown).to_have_text("—" if value is None else _usd(value) if key.startswith("net") else _percent(value))
    return collateral


def _mark(server: Server, symbol: str = "BTC_USDC_PERP") -> str:
    mark: str = HTTP.get(server.url + "/api/v1/markPrices", params={"symbol": symbol}).json()[0]["indexPrice"]
    return mark


@contextmanager
def _btc_price(server: Server) -> Iterator[str]:
    """Yield BTC's index price now; put it back afterwards, whatever the test moved it to."""
    mark = _mark(server)
    try:
        yield mark
    finally:
        server.prices({"BTC": mark})


def _withdraw(server: Server, account: dict[str, Any], quantity: str, *, auto_borrow: bool) -> None:
    body = {
        "symbol": "USDC",
        "quantity": quantity,
        "address": "0xabc",
        "blockchain": "Ethereum",
        "autoBorrow": auto_borrow,
    }
    server.signed(account, "withdraw", "POST", "/wapi/v1/capital/withdrawals", body)


def _open_lend(page: Any, account: dict[str, Any]) -> Any:
    page.goto("/lend")
    sign_in(page, account)
    return page.get_by_test_id("asset-panel")


def test_the_card_equals_the_api_with_a_borrow_an_order_and_a_perp_before_and_after_settlement(
    server: Server, page: Any
) -> None:
    account = server.new_account({"BTC": "1", "USDC": "5000"})
    server.signed(
        account, "borrowLendExecute", "POST", "/api/v1/borrowLend", {"symbol": "ETH", "side": "Borrow", "quantity": "1"}
    )
    bid = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "price": "50000", "quantity": "0.01"}
    server.signed(account, "orderExecute", "POST", "/api/v1/order", bid)
    _open_lend(page, account)
    before = _expect_card_equals_api(page, server, account)
    assert Decimal(before["initialMarginRatio"]) > 0
    assert Decimal(before["maintenanceMarginRatio"]) > 0

    with _btc_price(server) as mark:
        order = {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "0.1"}
        server.signed(account, "orderExecute", "POST", "/api/v1/order", order)
        opened = _expect_card_equals_api(page, server, account)
        assert Decimal(opened["maintenanceMarginRatio"]) > Decimal(before["maintenanceMarginRatio"]), "the perp counts"
        server.prices({"BTC": str(Decimal(mark) - 2000)})
        server.advance(10)  # the 10-second settlement realizes the loss
        _expect_card_equals_api(page, server, account)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.get_by_test_id("overview").screenshot(path=str(ARTIFACTS / "risk_card_equals_api_after_settlement.png"))


def _near_liquidation(server: Server, account: dict[str, Any], mark: Decimal) -> dict[str, Any]:
    """Lower BTC's price toward its liquidation price, halving the gap, until MMR reaches 80% (never 100%)."""
    [btc] = [row for row in _collateral(server, account)["collateral"] if row["symbol"] == "BTC"]
    liquidation = Decimal(btc["collateralLiquidationPrice"])  # rounded towards the mark: above the true one
    price = mark
    for _ in range(20):
        price = (liquidation + (price - liquidation) / 2).quantize(Decimal("0.01"), ROUND_UP)
        server.prices({"BTC": str(price)})
        collateral = _collateral(server, account)
        if Decimal(collateral["maintenanceMarginRatio"]) >= Decimal("0.8"):
            assert Decimal(collateral["maintenanceMarginRatio"]) < 1
            return collateral
    raise AssertionError("MMR never reached 80%")


def test_near_liquidation_mmr_and_available_turn_red_and_a_banner_says_what_to_do(
    server: Server,
    page: Any,
    audit: Any,
) -> None:
    account = server.new_account({"BTC": "1"})
    with _btc_price(server) as mark:
        limit = server.signed(
            account,
            "maxWithdrawalQuantity",
            "GET",
            "/api/v1/account/limits/withdrawal",
            {"symbol": "USDC", "autoBorrow": "true"},
        )
        _withdraw(server, account, str(Decimal(limit["maxWithdrawalQuantity"]) // 1), auto_borrow=True)
        _open_lend(page, account)
        expect(page.get_by_test_id("risk-banner")).to_be_hidden()
        collateral = _near_liquidation(server, account, Decimal(mark))
        mmr = page.get_by_test_id("mmr")
        expect(mmr).to_have_attribute("data-value", collateral["maintenanceMarginRatio"])
        expect(mmr).to_have_attribute("data-risk", "danger")
        assert Decimal(collateral["netEquityAvailable"]) < 0
        expect(page.get_by_test_id("available")).to_have_attribute("data-risk", "danger")
        red = page.evaluate("getComputedStyle(document.querySelector('[data-testid=mmr]')).color")
        assert red == "rgb(247, 87, 108)", red
        banner = page.get_by_test_id("risk-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(f"maintenance margin ratio is {_percent(collateral['maintenanceMarginRatio'])}")
        expect(banner).to_contain_text("At 100% the account is liquidated")
        page.screenshot(path=str(ARTIFACTS / "risk_banner_near_liquidation.png"))
        audit("/lend with the risk banner")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the card and its banner come first
        assert (
            page.get_by_test_id("overview").bounding_box()["y"] < page.get_by_test_id("lend-pools").bounding_box()["y"]
        )
        expect(banner).to_be_in_viewport()
        page.screenshot(path=str(ARTIFACTS / "risk_banner_phone.png"))
        audit("/lend with the risk banner on a phone")
        page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_test_id("mmr")).not_to_have_attribute("data-risk", "danger")
    expect(page.get_by_test_id("risk-banner")).to_be_hidden()


def test_a_liquidation_shows_a_notice_with_its_steps_and_fees(
    server: Server,
    page: Any,
    audit: Any,
) -> None:
    account = server.new_account({"BTC": "1"})
    bidder = server.new_account({"USDC": "1000000"})
    with _btc_price(server) as mark:
        limit = server.signed(
            account,
            "maxWithdrawalQuantity",
            "GET",
            "/api/v1/account/limits/withdrawal",
            {"symbol": "USDC", "autoBorrow": "true"},
        )
        _withdraw(server, account, str(Decimal(limit["maxWithdrawalQuantity"]) // 1), auto_borrow=True)
        _open_lend(page, account)
        expect(page.get_by_test_id("liquidation-notice")).to_be_hidden()
        [btc] = [row for row in _collateral(server, account)["collateral"] if row["symbol"] == "BTC"]
        low = str((Decimal(btc["collateralLiquidationPrice"]) * Decimal("0.99")).quantize(Decimal(1)))
        assert Decimal(low) - 100 >= Decimal(mark) * Decimal("0.75"), "the bid below fits the price bands"
        bid = {
            "symbol": "BTC_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "price": str(Decimal(low) - 100),
            "quantity": "5",
        }
        server.signed(bidder, "orderExecute", "POST", "/api/v1/order", bid)
        try:
            server.prices({"BTC": low})
            steps = server.signed(
                account, "borrowHistoryQueryAll", "GET", "/wapi/v1/history/borrowLend", {"sources": "Liquidation"}
            )
            fills = server.signed(account, "fillHistoryQueryAll", "GET", "/wapi/v1/history/fills")
        finally:
            server.signed(bidder, "orderCancelAll", "DELETE", "/api/v1/orders", {"symbol": "BTC_USDC"})
    assert steps, "the account was liquidated"
    sold = [fill for fill in fills if fill.get("systemOrderType") == "CollateralConversion"]
    assert sold
    notice = page.get_by_test_id("liquidation-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Your account was liquidated")
    expect(notice.get_by_test_id("liquidation-step")).to_have_count(len(steps))
    expect(notice.get_by_test_id("liquidation-step").first).to_contain_text(
        f"Repay {Decimal(steps[0]['quantity']):,} USDC"
    )
    expect(notice.get_by_test_id("liquidation-fill")).to_have_count(len(sold))
    expect(notice.get_by_test_id("liquidation-fill").first).to_contain_text(
        f"liquidation fee {Decimal(sold[0]['fee']):,} {sold[0]['feeSymbol']}"
    )
    page.get_by_test_id("overview").screenshot(path=str(ARTIFACTS / "risk_liquidation_notice.png"))
    audit("/lend with a liquidation notice")


def test_with_the_server_down_the_page_never_says_no_borrows(server: Server, browser: Any) -> None:
    account = server.borrower()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    context.set_default_timeout(10_000)
    try:  # its own context: the refused requests log network errors, which the shared fixture counts as failures
        page = context.new_page()
        page.goto("/lend")
        sign_in(page, account)
        expect(page.get_by_test_id("position-USDC")).to_be_visible()
        for pattern in ("**/api/v1/**", "**/wapi/v1/**"):
            page.route(pattern, lambda route: route.abort())
        page.get_by_test_id("pool-BTC").get_by_role("button", name="BTC", exact=True).click()  # the page reads again
        positions = page.get_by_test_id("lend-positions")
        expect(positions.get_by_test_id("unread")).to_contain_text(
            "Your borrows and lends could not be read (The server cannot be reached)"
        )
        expect(positions).not_to_contain_text("No active borrows or lends")
        expect(page.get_by_test_id("positions-empty")).to_have_count(0)
        panel = page.get_by_test_id("asset-panel")
        if panel.count():
            expect(panel).not_to_contain_text("No USDC borrow to repay")
        expect(page.get_by_test_id("lend-interest").get_by_test_id("unread")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "risk_server_down_lend_page.png"), full_page=True)
    finally:
        context.close()


def test_repay_and_redeem_over_the_position_say_how_much_they_can_move(server: Server, page: Any) -> None:
    account = server.borrower()
    server.signed(
        account, "borrowLendExecute", "POST", "/api/v1/borrowLend", {"symbol": "BTC", "side": "Lend", "quantity": "0.1"}
    )
    panel = _open_lend(page, account)
    panel.get_by_role("button", name="Repay", exact=True).click()
    dialog = page.get_by_test_id("lend-dialog")
    dialog.get_by_label("Amount").fill("1000")
    error = dialog.get_by_test_id("dialog-error")
    expect(error).to_contain_text("you can repay at most that much")
    expect(error).not_to_contain_text("Lend at most")
    expect(error).not_to_contain_text("then lend")
    dialog.get_by_role("button", name="Cancel").click()

    page.get_by_test_id("pool-BTC").get_by_role("button", name="BTC", exact=True).click()
    panel.get_by_role("button", name="Redeem", exact=True).click()
    dialog.get_by_label("Amount").fill("0.5")
    expect(error).to_contain_text("You lend 0.1 BTC: you can redeem at most that much")
    expect(error).not_to_contain_text("Borrow at most")
    dialog.get_by_role("button", name="Cancel").click()


def test_repay_max_stops_at_what_the_balance_can_pay(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1"})
    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {"symbol": "USDC", "side": "Borrow", "quantity": "100"},
    )
    _withdraw(server, account, "60", auto_borrow=False)
    panel = _open_lend(page, account)
    panel.get_by_role("button", name="Repay", exact=True).click()
    dialog = page.get_by_test_id("lend-dialog")
    dialog.get_by_role("button", name="Max").click()
    balance = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")["USDC"]["available"]
    assert Decimal(balance) == 40
    expect(dialog.get_by_label("Amount")).to_have_value(balance)
    expect(dialog.get_by_test_id("dialog-error")).to_be_empty()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()
    [usdc] = [
        row
        for row in server.signed(account, "borrowLendPositionQuery", "GET", "/api/v1/borrowLend/positions")
        if row["symbol"] == "USDC"
    ]
    assert Decimal(usdc["netQuantity"]) < -60, "only what the balance held was repaid"
    assert (
        server.signed(account, "balanceQuery", "GET", "/api/v1/capital").get("USDC", {"available": "0"})["available"]
        == "0"
    )


def test_each_history_table_pages_through_the_server(server: Server, page: Any) -> None:
    account = server.borrower()
    server.advance(3600 * 55)  # an interest row each hour: more than one page
    rows = server.signed(account, "interestHistoryQueryAll", "GET", "/wapi/v1/history/interest", {"limit": 1000})
    assert len(rows) > 50
    _open_lend(page, account)
    table = page.get_by_test_id("interest-history").get_by_test_id("interest-row")
    expect(table).to_have_count(50)
    expect(page.get_by_test_id("interest-range")).to_have_text("Rows 1\N{EN DASH}50")
    older = page.get_by_role("button", name="Older interest history")
    older.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("interest-range")).to_have_text(f"Rows 51\N{EN DASH}{len(rows)}")
    expect(table).to_have_count(len(rows) - 50)
    expect(table.last).to_contain_text(f"{Decimal(rows[-1]['quantity']):,} USDC")
    page.get_by_role("button", name="Newer interest history").click()
    expect(page.get_by_test_id("interest-range")).to_have_text("Rows 1\N{EN DASH}50")


@pytest.mark.parametrize("control", ["auto-lend-toggle", "auto-repay-switch"])
def test_focus_stays_on_the_control_after_toggling_it(server: Server, page: Any, control: str) -> None:
    account = server.new_account({"USDC": "10"})
    _open_lend(page, account)
    toggle = page.get_by_test_id(control)
    expect(toggle).to_be_enabled()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("on", exact=False).first).to_be_visible()
    expect(toggle).to_be_enabled()
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_be_enabled()
    expect(toggle).to_be_focused()


def test_a_refused_operator_token_is_said_in_the_users_terms(server: Server, page: Any) -> None:
    page.goto("/lend")
    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    dialog.get_by_role("tab", name="Operator").click()
    dialog.get_by_label("Admin token").fill("wrong-token")
    dialog.get_by_role("button", name="Connect").click()
    error = dialog.get_by_test_id("operator-error")
    expect(error).to_contain_text("The operator token was not accepted")
    expect(error).not_to_contain_text("Authorization")


def test_deposit_shows_the_subaccounts_address_on_the_assets_chain(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "10"})
    _open_lend(page, account)
    [usdc] = [row for row in HTTP.get(server.url + "/api/v1/assets").json() if row["symbol"] == "USDC"]
    chain = usdc["tokens"][0]["blockchain"]
    wanted = server.signed(
        account, "depositAddressQuery", "GET", "/wapi/v1/capital/deposit/address", {"blockchain": chain}
    )
    money = page.get_by_test_id("money")
    expect(money.get_by_test_id("deposit-note")).to_contain_text("paper deposits the operator credits")
    money.get_by_test_id("deposit-button").click()
    expect(money.get_by_test_id("deposit-address")).to_have_text(
        f"Your USDC deposit address on {chain}: {wanted['address']}"
    )


def test_withdraw_fills_its_max_and_shows_the_margin_checks_refusal(server: Server, page: Any) -> None:
    account = server.new_account({"USDC": "1000"})
    most = server.signed(account, "maxBorrowQuantity", "GET", "/api/v1/account/limits/borrow", {"symbol": "ETH"})
    borrow = (Decimal(most["maxBorrowQuantity"]) * Decimal("0.9")).quantize(Decimal("0.01"), ROUND_DOWN)
    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {"symbol": "ETH", "side": "Borrow", "quantity": str(borrow)},
    )
    _open_lend(page, account)
    money = page.get_by_test_id("money")
    limit = server.signed(
        account,
        "maxWithdrawalQuantity",
        "GET",
        "/api/v1/account/limits/withdrawal",
        {"symbol": "USDC", "autoBorrow": False, "autoLendRedeem": False},
    )
    money.get_by_role("button", name="Max withdrawal").click()
    expect(money.get_by_label("Amount")).to_have_value(limit["maxWithdrawalQuantity"])
    money.get_by_label("Destination address").fill("0xabc")
    money.get_by_label("Amount").fill("1000")
    money.get_by_test_id("withdraw-submit").click()
    expect(money.get_by_test_id("withdraw-error")).to_contain_text("Not withdrawn:")
    assert server.signed(account, "balanceQuery", "GET", "/api/v1/capital")["USDC"]["available"] == "1000"
    money.get_by_role("button", name="Max withdrawal").click()
    expect(money.get_by_label("Amount")).to_have_value(limit["maxWithdrawalQuantity"])
    money.get_by_test_id("withdraw-submit").click()
    expect(money.get_by_test_id("withdraw-error")).to_be_empty()
    expect(money.get_by_label("Amount")).to_have_value("")
    left = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")["USDC"]["available"]
    assert Decimal(left) == 1000 - Decimal(limit["maxWithdrawalQuantity"])
    page.get_by_test_id("money").screenshot(path=str(ARTIFACTS / "money_withdraw.png"))


def test_dust_below_the_market_minimum_is_listed_and_converted(
    server: Server,
    page: Any,
    audit: Any,
) -> None:
    markets = {row["symbol"]: row for row in HTTP.get(server.url + "/api/v1/markets").json()}
    minimum = Decimal(markets["ETH_USDC"]["filters"]["quantity"]["minQuantity"])
    tiny = str(minimum / 2)
    account = server.new_account({"ETH": tiny, "USDC": "1"})
    _open_lend(page, account)
    row = page.get_by_test_id("money").get_by_test_id("dust-ETH")
    expect(row).to_contain_text(f"{Decimal(tiny):,} ETH (below the ETH_USDC minimum of {minimum:,})")
    page.get_by_test_id("money").get_by_test_id("deposit-button").click()
    expect(page.get_by_test_id("money").get_by_test_id("deposit-address")).not_to_be_empty()
    audit("/lend with money in and out, dust listed")
    row.get_by_role("button", name="Convert ETH dust into USDC").click()
    expect(page.get_by_test_id("money").get_by_test_id("dust-empty")).to_be_visible()
    balances = server.signed(account, "balanceQuery", "GET", "/api/v1/capital")
    assert "ETH" not in balances or Decimal(balances["ETH"]["available"]) == 0
    assert Decimal(balances["USDC"]["available"]) > 1
