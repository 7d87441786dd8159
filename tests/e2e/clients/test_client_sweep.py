"""Every method of bpx-py and backpack-exchange-sdk against a live server: a 404 on a published endpoint fails.

Each sweep script (`scripts/bpx_sweep.py`, `scripts/sdk_sweep.py`) calls every public method of
its client once, with arguments a bot would send, and reports each call's result or error. The
test checks that the scripts call every method the installed client has (a new client version
adding one fails here until it is swept), and that every call succeeds except the ones listed
below, each with its reason:

- OUT_OF_SCOPE: RFQ, prediction markets and strategies (the clients have no vault methods) are not part of crossmargin, and
  paths Backpack's spec does not publish are client bugs, not server gaps.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest
from real_clients import ROOT, Credentials, client_python, live_exchange

pytestmark = pytest.mark.clients

OUT_OF_SCOPE: Final = {
    "bpx": {
        "submit_quote": "RFQ: crossmargin has no request-for-quote desk",
        "get_profit_and_loss_history": "bpx-py asks for /wapi/v1/history/pnl, a path Backpack's spec does not have",
    },
    "sdk": {
        **dict.fromkeys(
            ("accept_quote", "cancel_rfq", "refresh_rfq", "submit_quote", "submit_rfq"),
            "RFQ: crossmargin has no request-for-quote desk",
        ),
        **dict.fromkeys(
            ("get_quote_history", "get_quote_fill_history", "get_rfq_history", "get_rfq_fill_history"),
            "RFQ history: crossmargin has no request-for-quote desk",
        ),
        **dict.fromkeys(
            (
                "create_strategy",
                "get_strategy",
                "cancel_strategy",
                "cancel_all_strategies",
                "get_open_strategies",
                "get_strategy_history",
            ),
            "strategies (scheduled/TWAP orders) are not part of crossmargin",
        ),
        **dict.fromkeys(
            ("get_prediction_markets", "get_prediction_tags"), "prediction markets are not part of crossmargin"
        ),
    },
}
# Steps that call one method a second way (the trigger form of `execute_order`).
EXTRA_STEPS: Final = {"execute_order_trigger": "execute_order"}
CLIENTS: Final = {
    "bpx": (".venv-bpx", "bpx_sweep.py", "from bpx.account import Account as A\nfrom bpx.public import Public as P"),
    "sdk": (
        ".venv-sdk",
        "sdk_sweep.py",
        (
            "from backpack_exchange_sdk.authenticated import AuthenticationClient as A\n"
            "from backpack_exchange_sdk.public import PublicClient as P"
        ),
    ),
}


def client_methods(venv: str, imports: str) -> set[str]:
    """Return the REST methods the installed client offers (bpx-py's `*_url` helpers are not calls).

    A public method with the name of an authenticated one (`get_collateral`) is named `*_public`.
    """
    code = (
        f"{imports}\n"
        "import inspect, json\n"
        "def names(c): return {n for n, _ in inspect.getmembers(c, inspect.isfunction)"
        " if not n.startswith('_') and not n.endswith('_url')}\n"
        "a, p = names(A), names(P)\n"
        "print(json.dumps(sorted(a | {n + '_public' if n in a else n for n in p})))\n"
    )
    finished = subprocess.run(
        [str(client_python(venv)), "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(finished.stdout))


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_every_client_method_reaches_the_server(client: str, tmp_path: Path) -> None:
    venv, script, imports = CLIENTS[client]
    methods = client_methods(venv, imports)
    with live_exchange(tmp_path) as exchange:
        credentials: Credentials = exchange.new_account({"BTC": "1", "USDC": "10000", "SOL": "0.001"})
        results: dict[str, Any] = exchange.run_client(venv, script, credentials, "sweep")

    called = {EXTRA_STEPS.get(step, step) for step in results}
    assert called == methods, f"not swept: {sorted(methods - called)}; unknown: {sorted(called - methods)}"
    failed = {
        step: outcome["error"] for step, outcome in results.items() if isinstance(outcome, dict) and "error" in outcome
    }
    assert set(failed) - set(OUT_OF_SCOPE[client]) == set(), {
        step: failed[step] for step in set(failed) - set(OUT_OF_SCOPE[client])
    }
    assert results["execute_order_trigger"]["ok"], "a trigger order through the client's own execute_order"
