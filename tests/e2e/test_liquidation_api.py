"""Liquidation over HTTP: an operator price drop replies only after the risk monitor has liquidated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from tests.e2e.trading_exchange import PRICES, START_MS, funded, placed

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs


@contextmanager
def liquidating_exchange(*, monitor: bool) -> Iterator[Exchange]:
    """Yield a client of a fresh exchange with every demo market, with or without a risk monitor; audit at the end."""
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    risk_monitor = RiskMonitor(service) if monitor else None
    if risk_monitor is not None:
        risk_monitor.start()
    try:
        with TestClient(
            create_app(service, ADMIN_TOKEN, risk_monitor=risk_monitor), raise_server_exceptions=False
        ) as client:
            exchange = Exchange(client)
            response = exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES})
            assert response.status_code == 200, response.text
            yield exchange
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        if risk_monitor is not None:
            risk_monitor.stop()
        service.close()


def _get(exchange: Exchange, keys: Keys, path: str, instruction: str, **query: object) -> object:
    response = exchange.signed(keys, "GET", path, instruction, query)
    assert response.status_code == 200, response.text
    return response.json()


def _max_borrower(exchange: Exchange) -> Keys:
    """Lend 1,000,000 USDC from one account; from another, put up 1 BTC and withdraw all the USDC it allows."""
    lender = funded(exchange, USDC="1000000")
    lend = {"symbol": "USDC", "side": "Lend", "quantity": "1000000"}
    assert exchange.signed(lender, "POST", "/api/v1/borrowLend", "borrowLendExecute", lend).status_code == 200
    borrower = funded(exchange, BTC="1")
    limit = _get(
        exchange,
        borrower,
        "/api/v1/account/limits/withdrawal",
        "maxWithdrawalQuantity",
        symbol="USDC",
        autoBorrow="true",
    )
    assert isinstance(limit, dict)
    body = {
        "symbol": "USDC",
        "quantity": limit["maxWithdrawalQuantity"],
        "address": "0xabc",
        "blockchain": "Ethereum",
        "autoBorrow": True,
    }
    response = exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 200, response.text
    bidder = funded(exchange, USDC="1000000")
    placed(exchange, bidder, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="5", price="55900")
    return borrower


def _usdc_borrow(exchange: Exchange, keys: Keys) -> Decimal:
    positions = _get(exchange, keys, "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    assert isinstance(positions, list)
    (usdc,) = [position for position in positions if position["symbol"] == "USDC"]
    return -Decimal(usdc["netQuantity"])


def _liquidating(exchange: Exchange, keys: Keys) -> bool:
    account = _get(exchange, keys, "/api/v1/account", "accountQuery")
    assert isinstance(account, dict)
    flag = account["liquidating"]
    assert isinstance(flag, bool)
    return flag


def test_a_btc_drop_is_liquidated_before_the_operator_gets_the_reply() -> None:
    with liquidating_exchange(monitor=True) as exchange:
        borrower = _max_borrower(exchange)
        borrowed = _usdc_borrow(exchange, borrower)
        assert borrowed > Decimal(48_000)
        assert not _liquidating(exchange, borrower)
        response = exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}})
        assert response.status_code == 200, response.text
        assert not _liquidating(exchange, borrower)
        assert Decimal(0) < _usdc_borrow(exchange, borrower) < borrowed
        history = _get(
            exchange, borrower, "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", sources="Liquidation"
        )
        assert isinstance(history, list)
        assert history
        assert {(row["source"], row["eventType"], row["symbol"]) for row in history} == {
            ("Liquidation", "BorrowRepay", "USDC")
        }
        capital = _get(exchange, borrower, "/api/v1/capital", "balanceQuery")
        assert isinstance(capital, dict)
        assert Decimal(0) < Decimal(capital["BTC"]["available"]) < Decimal(1)


def test_without_a_monitor_the_account_shows_liquidating_and_keeps_its_borrow() -> None:
    with liquidating_exchange(monitor=False) as exchange:
        borrower = _max_borrower(exchange)
        borrowed = _usdc_borrow(exchange, borrower)
        response = exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}})
        assert response.status_code == 200, response.text
        assert _liquidating(exchange, borrower)
        assert _usdc_borrow(exchange, borrower) == borrowed


def test_a_clock_advance_waits_for_the_monitor_to_liquidate_what_interest_tipped_over() -> None:
    with liquidating_exchange(monitor=True) as exchange:
        borrower = _max_borrower(exchange)
        # At 57,280 the max borrower is about 12 USDC above its maintenance margin; a week of interest tips it over.
        assert exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "57280"}}).status_code == 200
        assert not _liquidating(exchange, borrower)
        borrowed = _usdc_borrow(exchange, borrower)
        response = exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 7 * 24 * 3600})
        assert response.status_code == 200, response.text
        assert not _liquidating(exchange, borrower)
        assert _usdc_borrow(exchange, borrower) < borrowed
