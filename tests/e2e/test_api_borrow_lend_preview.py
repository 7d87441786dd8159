"""GET /api/v1/borrowLend/preview: what POST /api/v1/borrowLend would do, exactly, leaving no trace.

Each figure of an accepted preview is checked against what the POST then really does (the entry
fee in the position's interest, the position, the pool's rates, the margin figures) and against
the next hour the clock charges; each refusal against the POST's own refusal.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from signing_client import Exchange, Keys

PREVIEW = "/api/v1/borrowLend/preview"


def preview(exchange: Exchange, keys: Keys, side: str, quantity: str, symbol: str = "USDC") -> dict[str, Any]:
    response = exchange.signed(
        keys, "GET", PREVIEW, "borrowLendPreview", {"symbol": symbol, "side": side, "quantity": quantity}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def execute(exchange: Exchange, keys: Keys, side: str, quantity: str, symbol: str = "USDC") -> Any:
    return exchange.signed(
        keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": symbol, "side": side, "quantity": quantity}
    )


def funded(exchange: Exchange, symbol: str, quantity: str) -> Keys:
    keys = exchange.new_account()
    exchange.deposit(keys, symbol, quantity)
    return keys


def lender(exchange: Exchange, quantity: str) -> Keys:
    keys = funded(exchange, "USDC", quantity)
    assert execute(exchange, keys, "Lend", quantity).status_code == 200
    return keys


def position(exchange: Exchange, keys: Keys, symbol: str = "USDC") -> dict[str, Any]:
    rows = exchange.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()
    (row,) = [row for row in rows if row["symbol"] == symbol]
    found: dict[str, Any] = row
    return found


def collateral(exchange: Exchange, keys: Keys) -> dict[str, Any]:
    body: dict[str, Any] = exchange.signed(keys, "GET", "/api/v1/capital/collateral", "collateralQuery").json()
    return body


def market(exchange: Exchange, symbol: str = "USDC") -> dict[str, Any]:
    (row,) = [row for row in exchange.client.get("/api/v1/borrowLend/markets").json() if row["symbol"] == symbol]
    found: dict[str, Any] = row
    return found


def everything(exchange: Exchange, keys: Keys) -> dict[str, Any]:
    """Return what the API shows of the subaccount, the pools and the engine."""
    return {
        "positions": exchange.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json(),
        "capital": exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery").json(),
        "collateral": collateral(exchange, keys),
        "history": exchange.signed(keys, "GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll").json(),
        "markets": [{**row, "timestamp": None} for row in exchange.client.get("/api/v1/borrowLend/markets").json()],
        "clock": exchange.admin("GET", "/admin/v1/clock").json(),
        "audit": exchange.admin("GET", "/admin/v1/audit").json(),
    }


def test_a_borrow_preview_is_exactly_what_the_borrow_then_does(exchange: Exchange) -> None:
    lender(exchange, "100000")
    borrower = funded(exchange, "BTC", "1")
    before = everything(exchange, borrower)

    seen = preview(exchange, borrower, "Borrow", "2000")
    assert everything(exchange, borrower) == before, "a preview leaves no trace"
    assert before["audit"]["ok"]
    max_borrow = exchange.signed(
        borrower, "GET", "/api/v1/account/limits/borrow", "maxBorrowQuantity", {"symbol": "USDC"}
    ).json()

    assert execute(exchange, borrower, "Borrow", "2000").status_code == 200
    borrowed = position(exchange, borrower)
    pool = market(exchange)
    summary = collateral(exchange, borrower)

    assert seen["action"] == "Borrow"
    assert (seen["accepted"], seen["code"], seen["message"]) == (True, None, None)
    assert (seen["symbol"], seen["side"], seen["quantity"]) == ("USDC", "Borrow", "2000")
    assert Fraction(seen["entryFee"]) > 0
    assert seen["entryFee"] == borrowed["cumulativeInterest"], "the entry fee is the new debt's only interest"
    assert seen["netQuantityAfter"] == borrowed["netQuantity"]
    assert (seen["borrowInterestRate"], seen["lendInterestRate"]) == (
        pool["borrowInterestRate"],
        pool["lendInterestRate"],
    )
    assert seen["netEquityAvailable"] == before["collateral"]["netEquityAvailable"]
    assert seen["netEquityAvailableAfter"] == summary["netEquityAvailable"]
    assert seen["marginFraction"] is None, "no exposure before the borrow"
    assert seen["marginFractionAfter"] == summary["marginFraction"]
    assert seen["estLiquidationPriceAfter"] == borrowed["estLiquidationPrice"]
    assert seen["maxBorrowQuantity"] == max_borrow["maxBorrowQuantity"]
    assert seen["availableQuantity"] == "0", "no USDC held before the borrow"
    assert seen["hourlyLendInterest"] == "0"

    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    an_hour_later = position(exchange, borrower)
    charged = Fraction(an_hour_later["cumulativeInterest"]) - Fraction(borrowed["cumulativeInterest"])
    assert Fraction(seen["hourlyInterest"]) == charged > 0, "the next hour's interest, to the atom"


def test_an_over_limit_borrow_preview_says_what_the_borrow_would_be_told(exchange: Exchange) -> None:
    lender(exchange, "1000000")
    borrower = funded(exchange, "BTC", "1")
    before = everything(exchange, borrower)

    seen = preview(exchange, borrower, "Borrow", "600000")
    after = everything(exchange, borrower)
    refused = execute(exchange, borrower, "Borrow", "600000")

    assert after == before, "a refused preview leaves no trace either"
    assert refused.status_code == 400
    assert seen["accepted"] is False
    assert (seen["code"], seen["message"]) == (refused.json()["code"], refused.json()["message"])
    assert seen["code"] == "INSUFFICIENT_MARGIN"
    assert (
        seen["message"]
        == f"Borrow would exceed your available margin: max borrowable is {seen['maxBorrowQuantity']} USDC"
    )
    assert seen["maxBorrowQuantity"].startswith("537301.")
    assert (seen["entryFee"], seen["hourlyInterest"], seen["netQuantityAfter"]) == ("0", "0", "0")
    assert seen["netEquityAvailableAfter"] == seen["netEquityAvailable"] == before["collateral"]["netEquityAvailable"]
    assert seen["estLiquidationPriceAfter"] is None


def test_a_lend_on_a_debt_previews_a_repay_and_repaying_all_clears_it(exchange: Exchange) -> None:
    lender(exchange, "100000")
    borrower = funded(exchange, "BTC", "1")
    exchange.deposit(borrower, "USDC", "10")
    assert execute(exchange, borrower, "Borrow", "2000").status_code == 200
    debt = position(exchange, borrower)["netQuantity"].removeprefix("-")

    part = preview(exchange, borrower, "Lend", "500")
    whole = preview(exchange, borrower, "Lend", debt)
    assert execute(exchange, borrower, "Lend", debt).status_code == 200
    rows = exchange.signed(borrower, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()

    assert (part["action"], part["accepted"], part["entryFee"]) == ("Repay", True, "0")
    assert Fraction(part["netQuantityAfter"]) == 500 - Fraction(debt)
    assert Fraction(part["hourlyInterest"]) > 0, "what remains of the debt still pays interest"
    assert Fraction(part["marginFractionAfter"]) > Fraction(part["marginFraction"])
    assert Fraction(part["availableQuantity"]) == 2010
    assert (whole["action"], whole["accepted"], whole["netQuantityAfter"], whole["hourlyInterest"]) == (
        "Repay",
        True,
        "0",
        "0",
    )
    assert whole["marginFractionAfter"] is None, "no exposure left"
    assert rows == [], "the real repay cleared the debt as the preview said"


def test_a_lend_preview_shows_the_next_hours_lend_interest(exchange: Exchange) -> None:
    lender(exchange, "50000")
    borrower = funded(exchange, "BTC", "1")
    assert execute(exchange, borrower, "Borrow", "20000").status_code == 200
    newcomer = funded(exchange, "USDC", "10000")

    seen = preview(exchange, newcomer, "Lend", "10000")
    assert execute(exchange, newcomer, "Lend", "10000").status_code == 200
    lent = position(exchange, newcomer)
    pool = market(exchange)
    exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 3600})
    earned = Fraction(position(exchange, newcomer)["netQuantity"]) - Fraction(lent["netQuantity"])

    assert (seen["action"], seen["accepted"], seen["entryFee"], seen["hourlyInterest"]) == ("Lend", True, "0", "0")
    assert seen["netQuantityAfter"] == lent["netQuantity"]
    assert seen["availableQuantity"] == "10000"
    assert (seen["borrowInterestRate"], seen["lendInterestRate"]) == (
        pool["borrowInterestRate"],
        pool["lendInterestRate"],
    )
    assert Fraction(seen["hourlyLendInterest"]) == earned > 0, "the next hour's lend interest, to the atom"


def test_a_borrow_on_a_lend_previews_a_redeem(exchange: Exchange) -> None:
    keys = lender(exchange, "1000")

    seen = preview(exchange, keys, "Borrow", "400")
    too_much = preview(exchange, keys, "Borrow", "1500")
    refused = execute(exchange, keys, "Borrow", "1500")

    assert (seen["action"], seen["accepted"], seen["netQuantityAfter"], seen["entryFee"]) == (
        "Redeem",
        True,
        "600",
        "0",
    )
    assert (too_much["action"], too_much["accepted"], too_much["code"]) == (
        "Redeem",
        False,
        "BORROW_REQUIRES_LEND_REDEEM",
    )
    assert too_much["message"] == refused.json()["message"]
    assert too_much["netQuantityAfter"] == "1000", "refused: nothing would change"


def test_a_manual_borrow_with_auto_lend_on_previews_the_refusal(exchange: Exchange) -> None:
    borrower = funded(exchange, "BTC", "1")
    exchange.signed(borrower, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True})

    seen = preview(exchange, borrower, "Borrow", "100")

    assert (seen["accepted"], seen["code"]) == (False, "PRECONDITION_FAILED")
    assert seen["message"].startswith("Auto-lend is on: turn it off to borrow or redeem manually")


def test_malformed_previews_are_refused_like_the_borrow_itself(exchange: Exchange) -> None:
    keys = funded(exchange, "BTC", "1")

    def status(parameters: dict[str, object]) -> tuple[int, str]:
        response = exchange.signed(keys, "GET", PREVIEW, "borrowLendPreview", parameters)
        return response.status_code, response.json()["message"]

    assert status({"symbol": "DOGE", "side": "Borrow", "quantity": "1"})[0] == 400
    assert status({"symbol": "USDC", "side": "Short", "quantity": "1"}) == (400, "side 'Short' must be Borrow or Lend")
    assert status({"symbol": "USDC", "side": "Borrow", "quantity": "-1"}) == (400, "quantity must be greater than zero")
    assert status({"symbol": "USDC", "side": "Borrow", "quantity": "0.0000001"})[0] == 400
    assert status({"symbol": "USDC", "side": "Borrow"}) == (400, "quantity is required")
    unsigned = exchange.client.get(PREVIEW, params={"symbol": "USDC", "side": "Borrow", "quantity": "1"})
    assert unsigned.status_code == 401
