"""The five-minute tour over HTTP: deposit, borrow, an hour passes, and every query shows why."""

from __future__ import annotations

from decimal import Decimal

from signing_client import Exchange, Keys


def setup_borrower(exchange: Exchange) -> Keys:
    supplier = exchange.new_account()
    exchange.deposit(supplier, "USDC", "100000")
    exchange.signed(
        supplier,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Lend", "quantity": "100000"},
    )
    borrower = exchange.new_account()
    exchange.deposit(borrower, "BTC", "1")
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 50 * 60})
    response = exchange.signed(
        borrower,
        "POST",
        "/api/v1/borrowLend",
        "borrowLendExecute",
        {"symbol": "USDC", "side": "Borrow", "quantity": "2000"},
    )
    assert response.status_code == 200, response.text
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 10 * 60})
    return borrower


def test_interest_history_shows_the_entry_fee_and_the_first_hourly_charge(exchange: Exchange) -> None:
    borrower = setup_borrower(exchange)
    response = exchange.signed(borrower, "GET", "/wapi/v1/history/interest", "interestHistoryQueryAll", {})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [row["quantity"] for row in rows][-1] == "0.001237"
    assert len(rows) == 2
    assert response.headers["X-TOTAL"] == "2"


def test_borrow_lend_history_names_the_source_of_every_movement(exchange: Exchange) -> None:
    borrower = setup_borrower(exchange)
    rows = exchange.signed(borrower, "GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", {}).json()
    assert [(row["eventType"], row["source"], row["quantity"]) for row in rows] == [("Borrow", "Manual", "2000")]


def test_account_capital_collateral_positions_and_limits_answer(exchange: Exchange) -> None:
    borrower = setup_borrower(exchange)
    account = exchange.signed(borrower, "GET", "/api/v1/account", "accountQuery").json()
    assert account["autoLend"] is False
    assert account["leverageLimit"] == "10"
    capital = exchange.signed(borrower, "GET", "/api/v1/capital", "balanceQuery").json()
    assert capital["USDC"]["available"] == "2000"
    collateral = exchange.signed(borrower, "GET", "/api/v1/capital/collateral", "collateralQuery").json()
    assert {row["symbol"] for row in collateral["collateral"]} == {"BTC", "USDC"}
    positions = exchange.signed(borrower, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()
    (position,) = positions
    assert position["symbol"] == "USDC"
    assert position["netQuantity"].startswith("-2000.00")
    limit = exchange.signed(
        borrower, "GET", "/api/v1/account/limits/borrow", "maxBorrowQuantity", {"symbol": "USDC"}
    ).json()
    # Margin would allow ~537,000 USDC; the 100,000 USDC pool's 90% utilization cap binds first.
    assert Decimal(87999) < Decimal(limit["maxBorrowQuantity"]) < Decimal(88000)
    most = exchange.signed(
        borrower,
        "GET",
        "/api/v1/account/limits/withdrawal",
        "maxWithdrawalQuantity",
        {"symbol": "BTC", "autoBorrow": True},
    ).json()
    assert most["symbol"] == "BTC"


def test_a_withdrawal_is_recorded_with_its_address_and_client_id(exchange: Exchange) -> None:
    borrower = setup_borrower(exchange)
    body = {"symbol": "USDC", "quantity": "500", "address": "0xabc", "blockchain": "Ethereum", "clientId": "w-1"}
    response = exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 200, response.text
    assert (response.json()["toAddress"], response.json()["clientId"], response.json()["quantity"]) == (
        "0xabc",
        "w-1",
        "500",
    )
    listed = exchange.signed(
        borrower, "GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll", {"clientId": "w-1"}
    ).json()
    assert len(listed) == 1
    too_much = {**body, "quantity": "600000"}
    refused = exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", too_much)
    assert (refused.status_code, refused.json()["code"]) == (400, "INSUFFICIENT_FUNDS")


def test_public_market_data_answers(exchange: Exchange) -> None:
    markets = exchange.client.get("/api/v1/borrowLend/markets").json()
    assert {market["symbol"] for market in markets} == {"BTC", "ETH", "SOL", "USDC", "USDT"}
    collateral = exchange.client.get("/api/v1/collateral").json()
    assert next(row for row in collateral if row["symbol"] == "SOL")["imfFunction"] == {
        "type": "sqrt",
        "base": "0.1",
        "factor": "0.00036",
    }
    assert exchange.client.get("/api/v1/assets").status_code == 200
    assert exchange.client.get("/api/v1/markPrices").status_code == 200
    missing = exchange.client.get("/api/v1/borrowLend/markets/history")
    assert (missing.status_code, missing.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert exchange.client.get("/api/v1/borrowLend/markets/history", params={"interval": "1d"}).status_code == 200


def test_paging_and_bad_filters(exchange: Exchange) -> None:
    borrower = setup_borrower(exchange)
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 5 * 3600})
    response = exchange.signed(
        borrower, "GET", "/wapi/v1/history/interest", "interestHistoryQueryAll", {"limit": 2, "offset": 2}
    )
    assert len(response.json()) == 2
    assert (response.headers["X-TOTAL"], response.headers["X-CURRENT-PAGE"], response.headers["X-PAGE-SIZE"]) == (
        "7",
        "2",
        "2",
    )
    bad = exchange.signed(borrower, "GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", {"sources": "Magic"})
    assert bad.status_code == 400
    assert bad.json()["code"] in {"INVALID_SOURCE", "INVALID_CLIENT_REQUEST"}
