"""Fixtures for unit tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

from engine_driver import Driver

from crossmargin.core.audit import audit


@pytest.fixture
def driver() -> Iterator[Driver]:
    """Return a driver on a fresh engine with the demo assets and common prices."""
    engine = Driver()
    engine.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    yield engine
    failed = [check for check in audit(engine.state) if not check.ok]
    assert not failed, f"every test ends with every invariant holding: {failed}"
