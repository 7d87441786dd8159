"""The price findings of issue 11, replayed over HTTP against a real `crossmargin serve` with its demo.

Each test starts a server on a manual clock with the demo market maker and the risk monitor, acts
as a user (signed requests) and as the operator (admin token), and checks what the user sees:

- a withdrawal right after a price fall is valued at the new mark, not the book's stale quotes;
- an account past maintenance because USDC rose to 1.07 or 1.14 is worked off on the order book
  and keeps what was not needed, instead of being handed whole to the insurance fund.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from live_server import TOKEN, free_port, start, stop
from signing_client import Keys, printed, signed_headers


class LiveExchange:
    """A user's and the operator's view of a live server."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def admin(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        return self.http.request(method, path, json=body, headers={"Authorization": f"Bearer {TOKEN}"})

    def funded(self, **deposits: str) -> Keys:
        created = self.admin("POST", "/admin/v1/accounts", {}).json()
        keys = Keys(created["subaccountId"], created["accountId"], created["apiKey"], created["apiSecret"])
        for symbol, quantity in deposits.items():
            body = {"subaccountId": keys.subaccount_id, "symbol": symbol, "quantity": quantity}
            assert self.admin("POST", "/admin/v1/deposits", body).status_code == 200
        return keys

    def prices(self, **prices: str) -> None:
        response = self.admin("POST", "/admin/v1/prices", {"prices": prices})
        assert response.status_code == 200, response.text

    def signed(
        self, keys: Keys, method: str, path: str, instruction: str, parameters: Mapping[str, object]
    ) -> httpx.Response:
        headers = signed_headers(keys.api_key, keys.api_secret, instruction, parameters, int(time.time() * 1000))
        if method == "GET":
            query = {key: printed(value) for key, value in parameters.items()}
            return self.http.request(method, path, params=query, headers=headers)
        return self.http.request(method, path, json=parameters, headers=headers)

    def get(self, keys: Keys, path: str, instruction: str, **query: object) -> object:
        response = self.signed(keys, "GET", path, instruction, dict(query))
        assert response.status_code == 200, response.text
        return response.json()

    def withdraw(self, keys: Keys, quantity: str, **options: object) -> httpx.Response:
        body = {"symbol": "USDC", "quantity": quantity, "address": "0xabc", "blockchain": "Ethereum", **options}
        return self.signed(keys, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[LiveExchange]:
    port = free_port()
    process = start(tmp_path / "data", port)
    live = LiveExchange(f"http://127.0.0.1:{port}")
    try:
        yield live
        audit = live.admin("GET", "/admin/v1/audit").json()
        assert audit["ok"], audit
    finally:
        live.http.close()
        stop(process)


def _wait_for_book(exchange: LiveExchange, symbol: str, near: Decimal) -> None:
    """Wait until the demo market maker quotes `symbol` within 1% of `near`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        depth = exchange.http.get("/api/v1/depth", params={"symbol": symbol}).json()
        if depth["bids"] and depth["asks"]:
            best_bid = max(Decimal(price) for price, _ in depth["bids"])
            if abs(best_bid - near) < near / 100:
                return
        time.sleep(0.05)
    raise AssertionError(f"the market maker did not quote {symbol} near {near}")


def test_a_withdrawal_right_after_a_price_fall_is_valued_at_the_new_mark(exchange: LiveExchange) -> None:
    _wait_for_book(exchange, "BTC_USDC_PERP", Decimal(60_000))
    trader = exchange.funded(USDC="10000")
    order = {"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "1"}
    response = exchange.signed(trader, "POST", "/api/v1/order", "orderExecute", order)
    assert response.status_code == 200, response.text
    exchange.prices(BTC="52000")
    # At once, before any settlement, the account is worth about 10,000 - 8,000: on main the book's
    # stale bid held the mark at 59,970 and the max withdrawal was 3,882.919273 USDC.
    limit = exchange.get(
        trader, "/api/v1/account/limits/withdrawal", "maxWithdrawalQuantity", symbol="USDC", autoBorrow="true"
    )
    assert isinstance(limit, dict)
    assert Decimal(limit["maxWithdrawalQuantity"]) < Decimal(2_300)
    refused = exchange.withdraw(trader, "3882.919273", autoBorrow=True)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "INSUFFICIENT_MARGIN"
    marks = exchange.http.get("/api/v1/markPrices", params={"symbol": "BTC_USDC_PERP"}).json()
    assert Decimal(marks[0]["markPrice"]) <= Decimal(52_000) * Decimal("1.005")


@pytest.mark.parametrize(("usdc_price", "debt"), [("1.07", "48000"), ("1.14", "45000")])
def test_a_usdc_rise_is_worked_off_on_the_book_and_the_account_keeps_its_equity(
    exchange: LiveExchange, usdc_price: str, debt: str
) -> None:
    _wait_for_book(exchange, "BTC_USDC", Decimal(60_000))
    borrower = exchange.funded(BTC="1")
    withdrawn = exchange.withdraw(borrower, debt, autoBorrow=True)
    assert withdrawn.status_code == 200, withdrawn.text
    exchange.prices(USDC=usdc_price)  # the risk monitor liquidates before this reply
    history = exchange.get(borrower, "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", sources="Liquidation")
    assert isinstance(history, list)
    assert {(row["eventType"], row["symbol"]) for row in history} == {("BorrowRepay", "USDC")}, history
    capital = exchange.get(borrower, "/api/v1/capital", "balanceQuery")
    assert isinstance(capital, dict)
    btc_left = Decimal(capital["BTC"]["available"])
    assert Decimal(0) < btc_left < Decimal(1), "some BTC was sold on the book, the rest is still the user's"
    positions = exchange.get(borrower, "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    assert isinstance(positions, list)
    owed = sum((-Decimal(row["netQuantity"]) for row in positions if row["symbol"] == "USDC"), Decimal(0))
    worth = btc_left * 60_000 - owed * Decimal(usdc_price)
    assert worth > Decimal(1_000), f"the user kept most of the equity it had: {worth} USD"
    account = exchange.get(borrower, "/api/v1/account", "accountQuery")
    assert isinstance(account, dict)
    assert account["liquidating"] is False
