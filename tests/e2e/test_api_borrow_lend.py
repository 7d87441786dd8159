"""The HTTP API end to end (in-process ASGI): operator set-up, signed borrow and lend, refusals."""

from __future__ import annotations

import pytest
from signing_client import Exchange, Keys


def lender(exchange: Exchange, symbol: str, quantity: str) -> Keys:
    keys = exchange.new_account()
    exchange.deposit(keys, symbol, quantity)
    response = exchange.signed(
        keys,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": symbol, "side": "Lend", "quantity": quantity},
    )
    assert response.status_code == 200, response.text
    return keys


def test_ping_time_and_status_answer_without_signature(exchange: Exchange) -> None:
    assert exchange.client.get("/api/v1/ping").text == "pong"
    assert exchange.client.get("/api/v1/time").text.isdigit()
    assert exchange.client.get("/api/v1/status").json() == {"status": "Ok"}


def test_a_signed_borrow_is_accepted_and_journaled(exchange: Exchange) -> None:
    lender(exchange, "USDC", "100000")
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    response = exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Borrow", "quantity": "2000"},
    )
    assert response.status_code == 200, response.text


def test_an_over_limit_borrow_gets_insufficient_margin_with_max_borrowable(exchange: Exchange) -> None:
    lender(exchange, "USDC", "1000000")
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    response = exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Borrow", "quantity": "600000"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INSUFFICIENT_MARGIN"
    assert body["message"].startswith("Borrow would exceed your available margin: max borrowable is 537301.")


def test_lend_beyond_a_borrow_gets_lend_requires_borrow_repay(exchange: Exchange) -> None:
    lender(exchange, "USDC", "100000")
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Borrow", "quantity": "100"},
    )
    response = exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Lend", "quantity": "500"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "LEND_REQUIRES_BORROW_REPAY")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "quantity must be greater than zero"),
        ("0", "quantity must be greater than zero"),
        ("NaN", "quantity 'NaN' is not a plain decimal number such as \"1.5\" (no exponent or NaN)"),
        ("1e3", "quantity '1e3' is not a plain decimal number such as \"1.5\" (no exponent or NaN)"),
        ("0.0000001", "quantity '0.0000001' has more decimals than USDC's step size 0.000001"),
        (5, 'quantity must be a decimal string such as "1.5", not int'),
    ],
)
def test_malformed_quantities_get_400_naming_the_field(exchange: Exchange, quantity: object, message: str) -> None:
    borrower = exchange.new_account()
    response = exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Borrow", "quantity": quantity},
    )
    assert response.status_code == 400
    assert response.json() == {"code": "INVALID_CLIENT_REQUEST", "message": message}


def test_an_unknown_symbol_or_side_names_the_field(exchange: Exchange) -> None:
    keys = exchange.new_account()
    response = exchange.signed(
        keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "DOGE", "side": "Borrow", "quantity": "1"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ASSET")
    assert response.json()["message"].startswith("symbol 'DOGE' is not a listed asset")
    response = exchange.signed(
        keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "USDC", "side": "Short", "quantity": "1"}
    )
    assert response.json()["message"] == "side 'Short' must be Borrow or Lend"


def test_bad_signature_expired_window_unknown_key_and_replay_get_401(exchange: Exchange) -> None:
    keys = exchange.new_account()
    forged = Keys(keys.subaccount_id, keys.account_id, keys.api_key, exchange.new_account().api_secret)
    assert exchange.signed(forged, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True}).status_code == 401
    stale = exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True}, timestamp_ms=1)
    assert stale.status_code == 401
    assert "expired" in stale.json()["message"]
    missing = exchange.client.patch("/api/v1/account", json={"autoLend": True})
    assert missing.json() == {"code": "UNAUTHORIZED", "message": missing.json()["message"]}
    assert missing.status_code == 401


def test_a_replayed_request_is_refused(exchange: Exchange) -> None:
    keys = exchange.new_account()
    first = exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True}, timestamp_ms=None)
    assert first.status_code == 200
    request = first.request
    replay = exchange.client.request("PATCH", "/api/v1/account", content=request.content, headers=dict(request.headers))
    assert replay.status_code == 401
    assert "already used" in replay.json()["message"]


def test_account_settings_change_and_auto_lend_blocks_manual_borrow(exchange: Exchange) -> None:
    lender(exchange, "USDC", "100000")
    keys = exchange.new_account()
    exchange.deposit(keys, "BTC", "1")
    assert (
        exchange.signed(
            keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True, "leverageLimit": "5"}
        ).status_code
        == 200
    )
    response = exchange.signed(
        keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "USDC", "side": "Borrow", "quantity": "1"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "PRECONDITION_FAILED")
    assert "turn it off" in response.json()["message"]
    unknown = exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoLoan": True})
    assert unknown.json()["message"].startswith("autoLoan is not an account setting")


def test_operator_api_needs_the_token_and_reports_clock_and_audit(exchange: Exchange) -> None:
    assert exchange.client.post("/admin/v1/accounts", json={}).status_code == 401
    before = exchange.admin("GET", "/admin/v1/clock").json()["now"]
    after = exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 3600}).json()["now"]
    assert after - before == 3_600_000
    assert exchange.admin("GET", "/admin/v1/audit").json()["ok"] is True
    response = exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "1e5"}})
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


def test_transfer_between_subaccounts_through_the_operator_api(exchange: Exchange) -> None:
    keys = exchange.new_account()
    second = exchange.admin("POST", "/admin/v1/subaccounts", {"accountId": keys.account_id}).json()
    exchange.deposit(keys, "USDC", "100")
    response = exchange.admin(
        "POST",
        "/admin/v1/transfers",
        {
            "fromSubaccountId": keys.subaccount_id,
            "toSubaccountId": second["subaccountId"],
            "symbol": "USDC",
            "quantity": "40",
        },
    )
    assert response.status_code == 200, response.text
    refused = exchange.admin(
        "POST",
        "/admin/v1/transfers",
        {
            "fromSubaccountId": keys.subaccount_id,
            "toSubaccountId": second["subaccountId"],
            "symbol": "USDC",
            "quantity": "61",
        },
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "INSUFFICIENT_FUNDS")


def test_a_repeated_signed_read_is_answered_but_a_repeated_write_is_not(exchange: Exchange) -> None:
    keys = exchange.new_account()
    first = exchange.signed(keys, "GET", "/api/v1/account", "accountQuery")
    again = exchange.client.request("GET", str(first.request.url), headers=dict(first.request.headers))
    assert (first.status_code, again.status_code) == (200, 200), "a read changes nothing, so repeating it is harmless"
    write = exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoRepayBorrows": True})
    replay = exchange.client.request(
        "PATCH", "/api/v1/account", content=write.request.content, headers=dict(write.request.headers)
    )
    assert (write.status_code, replay.status_code) == (200, 401)


def test_whole_position_repays_the_debt_with_its_interest_to_the_atom(exchange: Exchange) -> None:
    lender(exchange, "USDC", "100000")
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    exchange.deposit(borrower, "USDC", "10")
    assert exchange.borrow_lend(borrower, "Borrow", "2000").status_code == 200
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 7200})
    both = {"symbol": "USDC", "side": "Lend", "quantity": "1", "wholePosition": True}
    refused = exchange.signed(borrower, "POST", "/api/v1/borrowLend", "borrowLendExecute", both)
    assert (refused.status_code, refused.json()["message"]) == (400, "Give quantity or wholePosition, not both")
    whole = {"symbol": "USDC", "side": "Lend", "wholePosition": True}
    response = exchange.signed(borrower, "POST", "/api/v1/borrowLend", "borrowLendExecute", whole)
    assert response.status_code == 200, response.text
    positions = exchange.signed(borrower, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    assert positions.json() == [], "the whole debt, interest included, is repaid: no dust"
    again = exchange.signed(borrower, "POST", "/api/v1/borrowLend", "borrowLendExecute", whole)
    assert (again.status_code, again.json()) == (
        400,
        {"code": "RESOURCE_NOT_FOUND", "message": "You have no USDC debt to repay whole"},
    ), "the spec lists no 404 for POST borrowLend: a refusal is a 400"
