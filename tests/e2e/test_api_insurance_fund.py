"""`GET /admin/v1/insurance-fund` over HTTP: the fund after a liquidation's 1% fees and after a takeover.

Each expectation is derived from what the API says elsewhere, never from the fund's own answer:
the fees from the liquidated account's `CollateralConversion` fills (1% of price x quantity), the
takeover from the account's debt and net equity read just before it was liquidated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from margin_math import text
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from tests.e2e.trading_exchange import PRICES, START_MS, funded, placed

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.views.common import naive_time
from crossmargin.app.clock import ManualClock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import Liquidate
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId
from crossmargin.market_config import parse_market_specs

PATH = "/admin/v1/insurance-fund"


@contextmanager
def exchange_and_service(*, monitor: bool) -> Iterator[tuple[Exchange, Service]]:
    """Yield a client of a fresh exchange with every demo market and its service; audit at the end."""
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
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES}).status_code == 200
            yield exchange, service
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        if risk_monitor is not None:
            risk_monitor.stop()
        service.close()


def _fund(exchange: Exchange) -> Any:
    response = exchange.admin("GET", PATH)
    assert response.status_code == 200, response.text
    return response.json()


def _get(exchange: Exchange, keys: Keys, path: str, instruction: str, **query: object) -> Any:
    response = exchange.signed(keys, "GET", path, instruction, query)
    assert response.status_code == 200, response.text
    return response.json()


def _btc_borrower(exchange: Exchange, usdc: str) -> Keys:
    """Lend 1,000,000 USDC from one account; from another, put up 1 BTC and withdraw `usdc` USDC, borrowed."""
    lender = funded(exchange, USDC="1000000")
    lend = {"symbol": "USDC", "side": "Lend", "quantity": "1000000"}
    assert exchange.signed(lender, "POST", "/api/v1/borrowLend", "borrowLendExecute", lend).status_code == 200
    borrower = funded(exchange, BTC="1")
    body = {"symbol": "USDC", "quantity": usdc, "address": "0xabc", "blockchain": "Ethereum", "autoBorrow": True}
    response = exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 200, response.text
    return borrower


def _usdc_debt(exchange: Exchange, keys: Keys) -> str:
    positions = _get(exchange, keys, "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    (usdc,) = [row for row in positions if row["symbol"] == "USDC"]
    debt: str = usdc["netQuantity"].removeprefix("-")
    return debt


def test_the_operator_api_needs_the_token_and_a_fund_not_yet_created_is_empty() -> None:
    with exchange_and_service(monitor=False) as (exchange, _):
        refused = exchange.client.get(PATH)
        assert refused.status_code == 401
        assert refused.json()["code"] == "UNAUTHORIZED"

        assert _fund(exchange) == {
            "subaccountId": 0,
            "value": "0",
            "unsettledEquity": "0",
            "balances": [],
            "perpPositions": [],
            "liquidationFees": [],
            "backstopCount": 0,
            "backstops": [],
            "autoDeleverageCount": 0,
            "autoDeleverages": [],
            "lendIndexCutCount": 0,
            "lendIndexCuts": [],
        }
        subaccounts = exchange.admin("GET", "/admin/v1/subaccounts").json()
        assert subaccounts == [], "reading the fund creates nothing"


def test_after_a_liquidation_the_fund_holds_exactly_its_one_percent_fees() -> None:
    with exchange_and_service(monitor=True) as (exchange, _):
        borrower = _btc_borrower(exchange, "48000")
        bidder = funded(exchange, USDC="1000000")
        placed(exchange, bidder, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="5", price="55900")

        assert exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}}).status_code == 200

        fills = _get(exchange, borrower, "/wapi/v1/history/fills", "fillHistoryQueryAll")
        sold = [fill for fill in fills if fill.get("systemOrderType") == "CollateralConversion"]
        assert sold, "the liquidation sold BTC on the book"
        fees = sum((Decimal(fill["price"]) * Decimal(fill["quantity"]) / 100 for fill in sold), Decimal(0))
        fund = _fund(exchange)
        assert fund["liquidationFees"] == [{"symbol": "USDC", "quantity": text(fees)}]
        assert fund["balances"] == [
            {
                "symbol": "USDC",
                "available": text(fees),
                "locked": "0",
                "lent": "0",
                "owed": "0",
                "markPrice": "1",
                "value": text(fees),
            }
        ]
        assert fund["value"] == text(fees)
        assert (fund["backstopCount"], fund["autoDeleverageCount"], fund["lendIndexCutCount"]) == (0, 0, 0)


def test_after_a_takeover_the_fund_shows_what_it_took_and_when() -> None:
    with exchange_and_service(monitor=False) as (exchange, service):
        borrower = _btc_borrower(exchange, "48000")
        top_up = {"subaccountId": 0, "symbol": "USDC", "quantity": "10000"}
        assert exchange.admin("POST", "/admin/v1/deposits", top_up).status_code == 200
        # No bid on BTC_USDC: a liquidation cannot sell, so the fund takes the whole account over.
        assert exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}}).status_code == 200
        debt = _usdc_debt(exchange, borrower)
        equity = _get(exchange, borrower, "/api/v1/capital/collateral", "collateralQuery")["netEquity"]

        liquidated_at = service.next_command_ms()  # each command on the manual clock at its own millisecond
        assert isinstance(service.execute(Liquidate(SubaccountId(borrower.subaccount_id))), Accepted)
        assert service.now_ms() == liquidated_at

        fund = _fund(exchange)
        assert fund["balances"] == [
            {
                "symbol": "BTC",
                "available": "1",
                "locked": "0",
                "lent": "0",
                "owed": "0",
                "markPrice": "56000",
                "value": "56000",
            },
            {
                "symbol": "USDC",
                "available": "10000",
                "locked": "0",
                "lent": "0",
                "owed": debt,
                "markPrice": "1",
                "value": text(10000 - Decimal(debt)),
            },
        ]
        assert fund["value"] == text(56000 + 10000 - Decimal(debt))
        assert fund["backstopCount"] == 1
        assert fund["backstops"] == [
            {
                "subaccountId": borrower.subaccount_id,
                "netEquity": equity,
                "holdings": [
                    {"symbol": "BTC", "available": "1", "lent": "0", "owed": "0"},
                    {"symbol": "USDC", "available": "0", "lent": "0", "owed": debt},
                ],
                "perpPositions": [],
                "timestamp": naive_time(liquidated_at),
            }
        ]
        assert fund["liquidationFees"] == []
        assert _get(exchange, borrower, "/api/v1/borrowLend/positions", "borrowLendPositionQuery") == []
