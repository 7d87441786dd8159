"""Fifty borrows at once from one subaccount never exceed its max borrowable.

The sequencer applies commands one at a time, so concurrent requests cannot both pass a margin
check that only one of them fits. Each request asks for a fifth of the max borrowable: exactly as
many succeed as fit, the rest are refused with INSUFFICIENT_MARGIN, and the account is never past
its limit.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import httpx
from live_server import TOKEN, free_port, start, stop
from nacl.signing import SigningKey


def signed_borrow(client: httpx.AsyncClient, key: str, secret: str, quantity: str, nonce: int) -> httpx.Request:
    timestamp = int(time.time() * 1000) + nonce % 500  # distinct signatures: each request is new
    body = {"quantity": quantity, "side": "Borrow", "symbol": "USDC"}
    text = (
        f"instruction=borrowLendExecute&quantity={quantity}&side=Borrow&symbol=USDC&timestamp={timestamp}&window=5000"
    )
    signature = SigningKey(base64.b64decode(secret)).sign(text.encode()).signature
    headers = {"X-API-Key": key, "X-Signature": base64.b64encode(signature).decode(), "X-Timestamp": str(timestamp)}
    return client.build_request("POST", "/api/v1/borrowLend", json=body, headers=headers)


async def fire(port: int, key: str, secret: str, quantity: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        requests = [signed_borrow(client, key, secret, quantity, nonce) for nonce in range(50)]
        return list(await asyncio.gather(*(client.send(request) for request in requests)))


def test_fifty_concurrent_borrows_never_exceed_max_borrowable(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, port)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as client:
            created = client.post("/admin/v1/accounts", json={}).json()
            client.post(
                "/admin/v1/deposits", json={"subaccountId": created["subaccountId"], "symbol": "BTC", "quantity": "1"}
            )
        # The max borrowable against 1 BTC at $60,000 is about 537,347 USDC; ask for 110,000 each.
        responses = asyncio.run(fire(port, created["apiKey"], created["apiSecret"], "110000"))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as client:
            audit = client.get("/admin/v1/audit").json()
    finally:
        stop(server)
    accepted = [response for response in responses if response.status_code == 200]
    refused = [response for response in responses if response.status_code != 200]
    assert len(accepted) == 4, "4 x 110,000 fits under ~537,347 USDC; a fifth does not"
    assert {response.json()["code"] for response in refused} == {"INSUFFICIENT_MARGIN"}
    assert audit["ok"] is True
