"""A signed write executes at most once, even across restarts of a live server (INV-REPLAY-2).

Goal: a replayed or retried signed write never runs twice. Method: a real `crossmargin serve` on a
SQLite journal; deposit 100 USDC, sign a withdrawal of 20 with a 60-second window, send it, stop
the server (SIGTERM, or SIGKILL), start it again and send the same bytes: the replay must be
refused, naming the journal sequence that executed the original, and the balance must stay 80.
The hard case is the retry of a request in flight when the server died: the request is sent and
the server is killed a few milliseconds later, at several delays, so the kill lands before the
request arrived, while it waited for its batch's commit, or after the commit but before the reply;
after the restart the same bytes are sent again and the withdrawal must have run exactly once.
A batch of orders (one signature, several commands) is checked the same way.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey
from server_process import ServerProcess, SignedRequest, sign_request

DEPOSIT = "100"
WITHDRAWAL = "20"
IN_FLIGHT_KILL_DELAYS_SECONDS = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


def _server(tmp_path: Path) -> ServerProcess:
    return ServerProcess(tmp_path / "data", tmp_path / "server.log", ("--clock", "manual", "--no-market-maker"))


def _funded_account(server: ServerProcess) -> dict[str, Any]:
    created: dict[str, Any] = server.admin("POST", "/admin/v1/accounts", {}).json()
    deposit = {"subaccountId": created["subaccountId"], "symbol": "USDC", "quantity": DEPOSIT}
    assert server.admin("POST", "/admin/v1/deposits", deposit).status_code == 200
    return created


def _withdrawal(created: dict[str, Any], client_id: str = "once") -> SignedRequest:
    parameters = {
        "symbol": "USDC",
        "quantity": WITHDRAWAL,
        "address": "0x00000000000000000000000000000000000000aa",
        "blockchain": "Ethereum",
        "clientId": client_id,
    }
    return sign_request(
        created["apiKey"], created["apiSecret"], "POST", "/wapi/v1/capital/withdrawals", "withdraw", parameters
    )


def _usdc(server: ServerProcess, created: dict[str, Any]) -> str:
    capital = server.signed_get(created["apiKey"], created["apiSecret"], "/api/v1/capital", "balanceQuery")
    assert capital.status_code == 200, capital.text
    return str(capital.json()["USDC"]["available"])


def _withdrawals(server: ServerProcess, created: dict[str, Any]) -> list[Any]:
    rows = server.signed_get(
        created["apiKey"], created["apiSecret"], "/wapi/v1/capital/withdrawals", "withdrawalQueryAll"
    )
    assert rows.status_code == 200, rows.text
    found: list[Any] = rows.json()
    return found


def _restart(server: ServerProcess, how: str) -> None:
    if how == "SIGTERM":
        assert server.terminate() == 0, server.log()
    else:
        server.kill()
    server.start()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_withdrawal_replayed_after_a_restart_is_refused_and_moves_nothing(tmp_path: Path, how: str) -> None:
    server = _server(tmp_path)
    server.start()
    try:
        created = _funded_account(server)
        withdrawal = _withdrawal(created)
        assert server.send(withdrawal).status_code == 200
        replay = server.send(withdrawal)
        assert replay.status_code == 401, "a replay before the restart is refused"
        _restart(server, how)
        after = server.send(withdrawal)
        assert after.status_code == 401, f"a replay after a {how} restart is refused: {after.text}"
        assert after.json()["code"] == "UNAUTHORIZED"
        assert "executed" in after.json()["message"], "the refusal says the original was executed"
        assert "sequence" in after.json()["message"], "... and names its journal sequence"
        assert _usdc(server, created) == "80", "INV-REPLAY-2: the withdrawal ran once"
        assert len(_withdrawals(server, created)) == 1
    finally:
        server.stop_quietly()


def _send_in_background(server: ServerProcess, request: SignedRequest) -> threading.Thread:
    def send() -> None:
        with contextlib.suppress(httpx.TransportError):  # the server died under it: the reply is lost, as intended
            server.send(request, timeout=10)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_a_withdrawal_in_flight_when_the_server_is_killed_executes_exactly_once_when_resent(tmp_path: Path) -> None:
    server = _server(tmp_path)
    server.start()
    outcomes: list[int] = []
    try:
        for delay in IN_FLIGHT_KILL_DELAYS_SECONDS:
            created = _funded_account(server)
            withdrawal = _withdrawal(created, client_id=f"delay{delay}")
            sender = _send_in_background(server, withdrawal)
            time.sleep(delay)
            server.kill()
            sender.join(30)
            server.start()
            resent = server.send(withdrawal)
            assert resent.status_code in (200, 401), resent.text
            if resent.status_code == 401:
                assert "executed" in resent.json()["message"], resent.text
            outcomes.append(resent.status_code)
            assert _usdc(server, created) == "80", f"INV-REPLAY-2: killed after {delay} s, the withdrawal ran once"
            assert len(_withdrawals(server, created)) == 1
            again = server.send(withdrawal)
            assert again.status_code == 401, "once executed, the same bytes are refused"
            assert _usdc(server, created) == "80"
    finally:
        server.stop_quietly()
    assert len(outcomes) == len(IN_FLIGHT_KILL_DELAYS_SECONDS)


def _signed_batch(created: dict[str, Any], orders: list[dict[str, str]]) -> SignedRequest:
    """Sign a batch as Backpack does: each order its own `instruction=orderExecute&...` run, then time and window."""
    timestamp, window = int(time.time() * 1000), 60_000
    runs = ["&".join(["instruction=orderExecute", *(f"{k}={v}" for k, v in sorted(order.items()))]) for order in orders]
    text = "&".join([*runs, f"timestamp={timestamp}&window={window}"])
    signature = SigningKey(base64.b64decode(created["apiSecret"])).sign(text.encode()).signature
    headers = {
        "X-API-Key": created["apiKey"],
        "X-Signature": base64.b64encode(signature).decode(),
        "X-Timestamp": str(timestamp),
        "X-Window": str(window),
        "Content-Type": "application/json",
    }
    body = httpx.Request("POST", "http://x", json=orders).content
    return SignedRequest("POST", "/api/v1/orders", body, headers)


def test_a_batch_of_orders_replayed_after_a_kill_is_refused_and_places_nothing_more(tmp_path: Path) -> None:
    server = _server(tmp_path)
    server.start()
    try:
        created = _funded_account(server)
        order = {"symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "quantity": "0.1", "postOnly": "true"}
        batch = _signed_batch(created, [{**order, "price": "120"}, {**order, "price": "121"}])
        placed = server.send(batch)
        assert placed.status_code == 200, placed.text
        assert [item["operation"] for item in placed.json()] == ["Ok", "Ok"]
        server.kill()
        server.start()
        replay = server.send(batch)
        assert replay.status_code == 401, replay.text
        assert "executed" in replay.json()["message"]
        open_orders = server.signed_get(created["apiKey"], created["apiSecret"], "/api/v1/orders", "orderQueryAll")
        assert len(open_orders.json()) == 2, "INV-REPLAY-2: the batch placed its two orders once"
    finally:
        server.stop_quietly()
