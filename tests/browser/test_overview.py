"""The cross-margin overview card: exact numbers, auto settings, the leverage dialog and live updates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from playwright.sync_api import expect
from web_harness import Server, sign_in, wait_live

METRICS = {
    "net-equity": "netEquity",
    "available": "netEquityAvailable",
    "imr": "initialMarginRatio",
    "mmr": "maintenanceMarginRatio",
}

TIMES = "\N{MULTIPLICATION SIGN}"


def usd(text: str) -> str:
    value = Decimal(text).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def percent(text: str) -> str:
    return f"{(Decimal(text) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}%"


def expect_overview_equals(page: Any, collateral: dict[str, Any]) -> None:
    for testid, key in METRICS.items():
        shown = page.get_by_test_id(testid)
        expect(shown).to_have_attribute("data-value", collateral[key])
        expect(shown).to_have_text(usd(collateral[key]) if key.startswith("net") else percent(collateral[key]))
    fraction = collateral.get("marginFraction")
    expect(page.get_by_test_id("margin-fraction")).to_have_text(percent(fraction) if fraction else "—")


def signed_in(server: Server, page: Any, deposits: dict[str, str]) -> dict[str, Any]:
    account = server.new_account(deposits)
    page.goto("/futures")
    sign_in(page, account)
    return account


def test_the_overview_shows_the_servers_collateral_strings_and_follows_a_deposit_live(
    server: Server, page: Any
) -> None:
    account = signed_in(server, page, {"BTC": "0.5", "USDC": "1234.5678"})
    expect_overview_equals(page, server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral"))
    wait_live(page)
    server.deposit(account["subaccountId"], "USDC", "1000")
    after = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
    expect_overview_equals(page, after)
    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {"symbol": "USDC", "side": "Borrow", "quantity": "5000"},
    )
    borrowed = server.signed(account, "collateralQuery", "GET", "/api/v1/capital/collateral")
    assert borrowed["marginFraction"]
    expect_overview_equals(page, borrowed)


def test_the_engine_clock_follows_a_clock_advance_without_reload(server: Server, page: Any) -> None:
    page.goto("/spot")
    wait_live(page)
    before = server.operator("GET", "/admin/v1/clock")["now"]
    expect(page.get_by_test_id("engine-time")).to_have_attribute("datetime", iso(before))
    server.advance(3600)
    expect(page.get_by_test_id("engine-time")).to_have_attribute("datetime", iso(before + 3_600_000))


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_lightning_and_both_switches_change_the_accounts_settings(server: Server, page: Any) -> None:
    account = signed_in(server, page, {"USDC": "100"})
    initial = server.signed(account, "accountQuery", "GET", "/api/v1/account")
    controls = {
        "auto-lend-toggle": ("autoLend", "aria-pressed"),
        "auto-repay-switch": ("autoRepayBorrows", "aria-checked"),
        "auto-borrow-switch": ("autoBorrowSettlements", "aria-checked"),
    }
    for testid, (setting, state) in controls.items():
        control = page.get_by_test_id(testid)
        expect(control).to_have_attribute(state, str(initial[setting]).lower())
        control.click()
        expect(control).to_have_attribute(state, str(not initial[setting]).lower())
        assert server.signed(account, "accountQuery", "GET", "/api/v1/account")[setting] is (not initial[setting])
    explanation = (
        "Auto-lend is on: idle balances are lent out and earn interest. Manual borrow and repay need auto-lend off."
    )
    expect(page.get_by_test_id("overview")).to_contain_text(explanation)


def test_the_leverage_dialog_works_by_keyboard_and_shows_a_refusal(server: Server, page: Any) -> None:
    account = signed_in(server, page, {"USDC": "1000"})
    button = page.get_by_test_id("leverage-button")
    expect(button).to_have_text(f"10{TIMES}")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("leverage-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(f"10{TIMES}")).to_be_checked()
    expect(dialog.get_by_label(f"10{TIMES}")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    # Opened twice in a row (a double activation of the button): one dialog, not two.
    page.evaluate(
        """() => {
            document.querySelector('[data-testid="leverage-dialog"]').close();
            const button = document.querySelector('[data-testid="leverage-button"]');
            button.click();
            button.click();
        }"""
    )
    expect(dialog).to_have_count(1)
    dialog.get_by_label(f"20{TIMES}").check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(button).to_have_text(f"20{TIMES}")
    assert server.signed(account, "accountQuery", "GET", "/api/v1/account")["leverageLimit"] == "20"

    server.signed(
        account,
        "borrowLendExecute",
        "POST",
        "/api/v1/borrowLend",
        {"symbol": "USDC", "side": "Borrow", "quantity": "5000"},
    )
    button.click()
    dialog.get_by_label(f"1{TIMES}", exact=True).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "A leverage limit of 1x would leave your available margin below zero: add collateral or repay borrows first"
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(button).to_have_text(f"20{TIMES}")
    assert server.signed(account, "accountQuery", "GET", "/api/v1/account")["leverageLimit"] == "20"
