"""What browser tests share: a live server and its operator client."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from live_server import seconds_to_just_past
from plain_http import HTTP
from signing_client import printed, signed_headers

HOUR_MS: Final = 3_600_000

_CLOCK = itertools.count(int(time.time() * 1000))


@dataclass
class Server:
    """A live server and an operator client for it."""

    url: str
    admin: httpx.Client

    def operator(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send an operator request; return its JSON (asserting success)."""
        response = self.admin.request(method, path, json=body if body is not None else {} if method != "GET" else None)
        assert response.status_code == 200, response.text
        return response.json()

    def new_account(self, deposits: dict[str, str] | None = None) -> dict[str, Any]:
        """Create an account (one subaccount and its key pair), credited with `deposits`."""
        created = self.operator("POST", "/admin/v1/accounts")
        for symbol, quantity in (deposits or {}).items():
            self.deposit(created["subaccountId"], symbol, quantity)
        return dict(created)

    def borrower(self) -> dict[str, Any]:
        """Create an account with a USDC borrow an hour old: positions, interest and history all have rows."""
        account = self.new_account({"BTC": "1", "USDC": "5"})
        borrow = {"symbol": "USDC", "side": "Borrow", "quantity": "100"}
        self.signed(account, "borrowLendExecute", "POST", "/api/v1/borrowLend", borrow)
        self.advance(3600)
        return account

    def deposit(self, subaccount_id: int, symbol: str, quantity: str) -> None:
        """Credit a deposit."""
        self.operator(
            "POST", "/admin/v1/deposits", {"subaccountId": subaccount_id, "symbol": symbol, "quantity": quantity}
        )

    def advance(self, seconds: int) -> None:
        """Advance the manual clock."""
        self.operator("POST", "/admin/v1/clock/advance", {"seconds": seconds})

    def advance_past_the_hour(self) -> None:
        """Advance the manual clock to within a second past the next full hour (`seconds_to_just_past`).

        A test whose commands must all fall between two 10-second settlements, or before the next
        hourly interest and funding, starts here.
        """
        self.advance(seconds_to_just_past(self.operator("GET", "/admin/v1/clock")["now"], HOUR_MS))

    def prices(self, prices: dict[str, str]) -> None:
        """Set index prices."""
        self.operator("POST", "/admin/v1/prices", {"prices": prices})

    def signed(
        self,
        account: dict[str, Any],
        instruction: str,
        method: str,
        path: str,
        params: Mapping[str, object] | None = None,
    ) -> Any:
        """Send a request signed with the account's key, as a Backpack client does; return its JSON (asserting success)."""
        params = params or {}
        # A fresh timestamp per request: ED25519 signatures are deterministic and the server refuses a replay.
        timestamp = max(next(_CLOCK), int(time.time() * 1000))
        headers = signed_headers(account["apiKey"], account["apiSecret"], instruction, params, timestamp)
        query = {key: printed(value) for key, value in params.items()} if method == "GET" else None
        body = None if method == "GET" else params
        response = HTTP.request(method, self.url + path, params=query, json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json() if response.content else None


def sign_in(page: Any, account: dict[str, Any], *, remember: bool = False) -> None:
    """Sign the page in through the sign-in dialog with the account's pasted API key and secret."""
    from playwright.sync_api import expect  # noqa: PLC0415 -- only browser tests import this helper

    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    dialog.get_by_role("tab", name="Paste keys").click()
    dialog.get_by_label("API key").fill(account["apiKey"])
    dialog.get_by_label("API secret").fill(account["apiSecret"])
    if remember:
        dialog.get_by_label("Remember on this device").check()
    dialog.get_by_role("button", name="Sign in", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("session-label")).not_to_be_empty()


def wait_live(page: Any) -> None:
    """Wait until the page's live feed is subscribed, so an engine change from now on reaches it without a poll."""
    from playwright.sync_api import expect  # noqa: PLC0415 -- only browser tests import this helper

    expect(page.locator("html")).to_have_attribute("data-live", "on")
