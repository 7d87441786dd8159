"""A fresh exchange with the demo assets *and markets* for the trading e2e tests, and their shared steps.

The `exchange` fixture of `conftest.py` lists assets only; trading needs the order books of the
asset file too. Prices are set after the markets, so perp marks start at the index price.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


@contextmanager
def trading_exchange() -> Iterator[Exchange]:
    """Yield a client of a fresh exchange with every demo market, on a manual clock; audit it at the end."""
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            response = exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES})
            assert response.status_code == 200, response.text
            yield exchange
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        service.close()


def funded(exchange: Exchange, **deposits: str) -> Keys:
    """Open an account and deposit each given quantity."""
    keys = exchange.new_account()
    for symbol, quantity in deposits.items():
        exchange.deposit(keys, symbol, quantity)
    return keys


def order(exchange: Exchange, keys: Keys, **payload: object) -> httpx.Response:
    """Send a signed POST /api/v1/order."""
    return exchange.signed(keys, "POST", "/api/v1/order", "orderExecute", payload)


def placed(exchange: Exchange, keys: Keys, **payload: object) -> dict[str, object]:
    """Place an order that must be accepted; return the order."""
    response = order(exchange, keys, **payload)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def advance(exchange: Exchange, seconds: int) -> None:
    """Advance the manual clock, running what falls due."""
    response = exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": seconds})
    assert response.status_code == 200, response.text
