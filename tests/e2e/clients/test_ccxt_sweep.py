"""Every unified method ccxt's `backpack` class declares, called once against a live server.

A method passes, or fails for a reason that is not the server's, named here: ccxt's own defect
(its generic fallback, or an option its backpack class lacks), or a Backpack product crossmargin
does not offer (stocks converted through RFQ). A 404 or a refusal on a method Backpack serves
fails this test, and so does a method a newer ccxt declares that the sweep does not call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from real_clients import live_exchange, ok

pytestmark = pytest.mark.clients

VENV = ".venv-ccxt"
SCRIPT = "ccxt_sweep.py"

# Methods that fail in ccxt itself, whatever a server answers: the exception ccxt raises, and why.
CLIENT_DEFECTS = {
    "createMarketBuyOrderWithCost": (
        "KeyError",
        "ccxt's generic method reads options['createMarketBuyOrderRequiresPrice'], which its backpack class lacks",
    ),
    "createMarketSellOrderWithCost": (
        "KeyError",
        "ccxt's generic method reads options['createMarketSellOrderRequiresPrice'], which its backpack class lacks",
    ),
    "createMarketOrderWithCost": (
        "InsufficientFunds",
        (
            "ccxt's generic method sends the cost as the base quantity (100 USDC becomes 100 BTC); "
            "createOrder with params {'cost': ...} sends quoteQuantity and passes ('createOrder with cost')"
        ),
    ),
    "fetchOpenInterestHistory": ("NotSupported", "ccxt raises 'not supported yet' without calling the server"),
}
# Backpack products crossmargin does not offer (docs/ARCHITECTURE.md, "Out of scope").
OUT_OF_SCOPE = {
    "fetchConvertQuote": "tokenized-stock conversion through RFQ",
    "createConvertTrade": "tokenized-stock conversion through RFQ",
}


def test_every_method_ccxt_declares_for_backpack_works_against_the_server(tmp_path: Path) -> None:
    with live_exchange(tmp_path) as exchange:
        maker = exchange.new_account({"BTC": "10", "USDC": "1000000"})
        taker = exchange.new_account({"BTC": "1", "USDC": "100000"})
        quoted = exchange.run_client(VENV, SCRIPT, maker, "maker")
        swept: dict[str, Any] = exchange.run_client(VENV, SCRIPT, taker, "sweep", timeout_s=120)

    assert [ok(quoted, step)["status"] for step in sorted(quoted)] == ["open"] * 4
    declared = ok(swept, "declared")
    failures = {name: result["error"] for name, result in swept.items() if "error" in result}
    for name, (error_type, reason) in CLIENT_DEFECTS.items():
        if name in declared:
            assert failures.pop(name).startswith(error_type + ":"), f"{name}: ccxt may have fixed this ({reason})"
    for name in OUT_OF_SCOPE:
        assert "NotSupported" in failures.pop(name, "NotSupported"), name
    assert failures == {}, "methods that fail because of the server"
    passed = sorted(name for name in swept if name != "declared" and "ok" in swept[name])
    assert len(passed) >= len(declared) - len(CLIENT_DEFECTS) - len(OUT_OF_SCOPE)

    assert ok(swept, "createOrder with cost")["status"] == "closed"
    assert ok(swept, "createTriggerOrder")["triggerPrice"] == 55000.0
    assert ok(swept, "fetchDepositAddress")["address"]
    assert ok(swept, "createReduceOnlyOrder")["reduceOnly"] is True
