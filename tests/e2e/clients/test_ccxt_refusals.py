"""ccxt's `backpack` class against the venue's refusals: a price band and a reduce-only order above the position.

Both arrive as Backpack's error bodies, which ccxt turns into its own exceptions: `INVALID_PRICE`
("Price is too far from the last active price") is an `InvalidOrder`, `INVALID_QUANTITY` a
`BadRequest`; nothing changes on the server, and the exact reduce-only order then closes the position.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_clients import client_python, live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_refusals.py"


def test_ccxt_meets_the_price_band_and_the_reduce_only_refusal(tmp_path: Path) -> None:
    client_python(VENV)
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"USDC": "1000000"})
        trader = exchange.new_account({"USDC": "100000"})
        exchange.run_client(VENV, SCRIPT, maker, "maker")
        traded = exchange.run_client(VENV, SCRIPT, trader, "trader")

    band = traded["bid_at_one"]
    assert isinstance(band, dict)
    assert band["error"].startswith("InvalidOrder: backpack ")
    assert (
        "Price is too far from the last active price: BTC_USDC takes limit prices from 45000 to 75000" in band["error"]
    )
    price_filter = ok(traded, "price_filter")
    assert (price_filter["maxMultiplier"], price_filter["minMultiplier"]) == ("1.25", "0.75")
    assert ok(traded, "perp_buy")["filled"] == 0.01
    too_much = traded["reduce_too_much"]
    assert isinstance(too_much, dict)
    assert too_much["error"].startswith("BadRequest: backpack ")
    assert "A reduce-only order of 0.05 is larger than your BTC_USDC_PERP position of 0.01" in too_much["error"]
    assert ok(traded, "reduce_exactly")["filled"] == 0.01
    assert ok(traded, "fetch_positions") in ([], ["0"], [0.0], ["0.0"])
