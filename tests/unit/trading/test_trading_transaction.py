"""The transaction's trading reads see its own writes first, then its base's."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.markets import BookState
from crossmargin.core.transaction import Transaction

BTC = "BTC_USDC"


def test_a_market_written_in_a_layer_is_read_back_from_it_and_from_layers_above() -> None:
    driver = Driver()
    closed = replace(driver.state.markets[BTC], state=BookState.CLOSED)
    outer = Transaction(driver.state, 0)
    outer.markets[BTC] = closed
    inner = Transaction(outer, 0)
    assert outer.market(BTC) is closed
    assert inner.market(BTC) is closed
    assert inner.all_markets()[BTC] is closed
    assert Transaction(driver.state, 0).market(BTC) == replace(closed, state=BookState.OPEN)
    assert inner.market("DOGE_USDC") is None
