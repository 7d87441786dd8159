"""Fixtures for end-to-end tests through the HTTP application."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

from signing_client import ADMIN_TOKEN, Exchange

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    """Return a client of a fresh exchange on a manual clock, with the demo assets and prices."""
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            exchange.admin(
                "POST",
                "/admin/v1/prices",
                {"prices": {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}},
            )
            yield exchange
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        service.close()
