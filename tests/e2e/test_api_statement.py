"""`GET /wapi/v1/statement` end to end: statements that tie out to the atom, in windows, and its refusals.

A lender supplies the USDC pool; a borrower deposits BTC, borrows USDC, buys SOL, rests a bid that
locks USDC, pays hours of interest, repays part and withdraws. Every asset's closing must equal the
balance plus the position the other endpoints report (INV-STATEMENT-1), and the rows' changes must
add up from the opening to the closing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import START_MS, advance, funded, placed, trading_exchange

from crossmargin.api.inputs import INTEGER_MAX, TEXT_CHARS_MAX

PATH = "/wapi/v1/statement"
INSTRUCTION = "statementQuery"
MINUTE_S = 60
HOUR_S = 3_600
HOUR_MS = HOUR_S * 1000


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with trading_exchange() as opened:
        yield opened


def _statement(exchange: Exchange, keys: Keys, **query: object) -> list[dict[str, Any]]:
    response = exchange.signed(keys, "GET", PATH, INSTRUCTION, query)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _by_symbol(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {asset["symbol"]: asset for asset in statements}


def _adds_up(asset: dict[str, Any]) -> None:
    """Assert each row's change is its two parts, the running totals follow, and they end at the closing."""
    running = Decimal(asset["opening"])
    for row in asset["rows"]:
        change = Decimal(row["change"])
        assert change == Decimal(row["balanceChange"]) + Decimal(row["positionChange"]), row
        running += change
        assert Decimal(row["runningTotal"]) == running, row
    assert Decimal(asset["closing"]) == running, f"{asset['symbol']}: opening + changes = closing"


def _ties_out(exchange: Exchange, keys: Keys, statements: list[dict[str, Any]]) -> None:
    """Assert every asset closes at balance + position, as /capital and /borrowLend/positions report them."""
    capital = exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery").json()
    positions = exchange.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery").json()
    nets = {row["symbol"]: Decimal(row["netQuantity"]) for row in positions}
    for asset in statements:
        symbol = asset["symbol"]
        held = capital.get(symbol, {"available": "0", "locked": "0"})
        balance = Decimal(held["available"]) + Decimal(held["locked"])
        assert Decimal(asset["balance"]) == balance, symbol
        assert Decimal(asset["position"]) == nets.get(symbol, Decimal(0)), symbol
        assert Decimal(asset["closing"]) == balance + nets.get(symbol, Decimal(0)), f"INV-STATEMENT-1: {symbol}"
        _adds_up(asset)


def _borrower_and_lender(exchange: Exchange) -> tuple[Keys, Keys]:
    """Run the story of the module docstring, a minute between steps; return (borrower, lender)."""
    lender = funded(exchange, USDC="100000")
    assert exchange.borrow_lend(lender, "Lend", "100000").status_code == 200
    maker = funded(exchange, SOL="1000")
    placed(exchange, maker, symbol="SOL_USDC", side="Ask", orderType="Limit", quantity="100", price="150")
    advance(exchange, MINUTE_S)
    borrower = funded(exchange, BTC="1")
    assert exchange.borrow_lend(borrower, "Borrow", "20000").status_code == 200
    advance(exchange, MINUTE_S)
    placed(exchange, borrower, symbol="SOL_USDC", side="Bid", orderType="Market", quantity="10")
    placed(exchange, borrower, symbol="SOL_USDC", side="Bid", orderType="Limit", quantity="5", price="120")
    advance(exchange, 5 * HOUR_S)
    assert exchange.borrow_lend(borrower, "Lend", "5000").status_code == 200
    advance(exchange, MINUTE_S)
    body = {"symbol": "USDC", "quantity": "1000", "address": "0xabc", "blockchain": "Ethereum"}
    assert exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body).status_code == 200
    advance(exchange, 2 * HOUR_S)
    return borrower, lender


def test_a_borrowers_statement_closes_at_balance_plus_position_in_every_asset(exchange: Exchange) -> None:
    borrower, _ = _borrower_and_lender(exchange)

    statements = _statement(exchange, borrower)

    assert [asset["symbol"] for asset in statements] == ["BTC", "SOL", "USDC"]
    assert {asset["subaccountId"] for asset in statements} == {borrower.subaccount_id}
    assert all(asset["opening"] == "0" for asset in statements)
    _ties_out(exchange, borrower, statements)
    usdc = _by_symbol(statements)["USDC"]
    kinds = [(row["type"], row["cause"]) for row in usdc["rows"]]
    assert kinds[:3] == [("BorrowLend", "Borrow (Manual)"), ("Interest", "EntryFee"), ("Trade", "Bid SOL_USDC")]
    assert kinds.count(("Interest", "Borrow")) == 7, "one row per hour of interest"
    assert ("BorrowLend", "BorrowRepay (Manual)") in kinds
    assert ("Withdrawal", "Withdrawal") in kinds
    assert usdc["balance"] == "12500", "20000 borrowed - 1500 spent - 5000 repaid - 1000 withdrawn (600 locked)"
    assert Decimal(usdc["position"]) < -15000, "the debt left after the repay, with its interest"
    (trade,) = _by_symbol(statements)["SOL"]["rows"]
    assert (trade["type"], trade["change"]) == ("Trade", "9.99"), "10 SOL bought, less the 0.1% taker fee in SOL"


def test_a_lender_sees_its_share_of_the_borrowers_entry_fee_and_closes_at_its_position(exchange: Exchange) -> None:
    _, lender = _borrower_and_lender(exchange)

    (usdc,) = _statement(exchange, lender)

    _ties_out(exchange, lender, [usdc])
    assert (usdc["symbol"], usdc["balance"]) == ("USDC", "0")
    shares = [row for row in usdc["rows"] if (row["type"], row["cause"]) == ("Interest", "EntryFee")]
    assert len(shares) == 1
    assert Decimal(shares[0]["positionChange"]) > 0, "the lenders' share of the entry fee grows the lend"
    assert Decimal(usdc["position"]) > 100000


def test_windows_chain_each_opening_is_the_previous_closing(exchange: Exchange) -> None:
    borrower, _ = _borrower_and_lender(exchange)
    whole = _by_symbol(_statement(exchange, borrower))
    cuts = [START_MS + 2 * 60_000, START_MS + 3 * HOUR_MS, START_MS + 3 * HOUR_MS + 1]

    windows = [
        _by_symbol(_statement(exchange, borrower, **bounds))
        for bounds in (
            {"to": cuts[0]},
            {"from": cuts[0], "to": cuts[1]},
            {"from": cuts[1], "to": cuts[2]},
            {"from": cuts[2]},
        )
    ]

    for symbol, asset in whole.items():
        pieces = [window[symbol] for window in windows]
        assert pieces[0]["opening"] == "0"
        for earlier, later in itertools.pairwise(pieces):
            assert later["opening"] == earlier["closing"], symbol
        for piece in pieces:
            _adds_up(piece)
        assert [row for piece in pieces for row in piece["rows"]] == asset["rows"], "the windows split every row once"
        assert pieces[-1]["closing"] == asset["closing"]
        assert all("balance" not in piece for piece in pieces[:-1]), "only a window open at the end shows now"
        assert (pieces[-1]["balance"], pieces[-1]["position"]) == (asset["balance"], asset["position"])
    usdc_hour = windows[2]["USDC"]["rows"]
    assert [(row["timestamp"], row["cause"]) for row in usdc_hour] == [("2026-01-01T03:00:00", "Borrow")]


def test_a_symbol_gives_that_asset_alone_even_one_never_held(exchange: Exchange) -> None:
    borrower, _ = _borrower_and_lender(exchange)

    (sol,) = _statement(exchange, borrower, symbol="SOL")
    (eth,) = _statement(exchange, borrower, symbol="ETH")

    assert sol == _by_symbol(_statement(exchange, borrower))["SOL"]
    assert eth == {
        "subaccountId": borrower.subaccount_id,
        "symbol": "ETH",
        "opening": "0",
        "closing": "0",
        "balance": "0",
        "position": "0",
        "rows": [],
    }


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ({"from": START_MS + 1, "to": START_MS}, "INVALID_CLIENT_REQUEST", "must not be later than to"),
        ({"from": "yesterday"}, "INVALID_CLIENT_REQUEST", "from must be a whole number of at least 0"),
        ({"to": "-5"}, "INVALID_CLIENT_REQUEST", "to must be a whole number of at least 0"),
        ({"to": "9" * 40}, "INVALID_CLIENT_REQUEST", f"to must be at most {INTEGER_MAX}"),
        ({"from": INTEGER_MAX + 1}, "INVALID_CLIENT_REQUEST", f"from must be at most {INTEGER_MAX}"),
        ({"symbol": "DOGE"}, "INVALID_ASSET", "Unknown asset 'DOGE'"),
        ({"symbol": "X" * (TEXT_CHARS_MAX + 1)}, "INVALID_CLIENT_REQUEST", f"at most {TEXT_CHARS_MAX} characters"),
    ],
)
def test_a_bad_statement_query_is_refused_with_a_400_naming_the_problem(
    exchange: Exchange, query: dict[str, object], code: str, message: str
) -> None:
    keys = funded(exchange, USDC="10")

    response = exchange.signed(keys, "GET", PATH, INSTRUCTION, query)

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert message in response.json()["message"]


def test_an_unsigned_statement_request_is_refused(exchange: Exchange) -> None:
    response = exchange.client.get(PATH)

    assert response.status_code == 401, response.text
