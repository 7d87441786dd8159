"""Regressions for what fuzzing the API (tests/e2e/test_api_fuzz.py) found."""

from __future__ import annotations

import json

import pytest
from signing_client import Exchange

from crossmargin.api import inputs
from crossmargin.api.views.docs_page import description_bytes


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/borrowLend"), ("PATCH", "/api/v1/account"), ("POST", "/wapi/v1/capital/withdrawals")],
)
@pytest.mark.parametrize("body", [b"[null, null]", b"{not json", b'"text"'])
def test_an_unsigned_request_is_refused_401_before_its_body_is_read(
    exchange: Exchange, method: str, path: str, body: bytes
) -> None:
    # Found by Schemathesis: an unsigned request with a body that is not a JSON object got 400, telling
    # an unauthenticated caller about its input; the signature headers are now checked first.
    response = exchange.client.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


def test_a_garbage_signature_with_a_bad_body_is_refused_401(exchange: Exchange) -> None:
    headers = {"X-API-Key": "not a key", "X-Signature": "AAAA", "X-Timestamp": "1", "Content-Type": "application/json"}
    response = exchange.client.post("/api/v1/borrowLend", content=b"[1]", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("blockchain", ["c\U000dadc7ÌG;m", "ethereum", "Mars"])
def test_a_withdrawal_on_an_unknown_blockchain_is_refused(exchange: Exchange, blockchain: str) -> None:
    # Found by Schemathesis: any string was taken as the blockchain and echoed in the withdrawal,
    # so the 200 response broke Backpack's `Blockchain` enum.
    keys = exchange.new_account()
    exchange.deposit(keys, "USDC", "1000")
    body = {"symbol": "USDC", "quantity": "1", "address": "0xabc", "blockchain": blockchain}
    response = exchange.signed(keys, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CLIENT_REQUEST"
    assert "blockchain" in response.json()["message"]
    body["blockchain"] = "Ethereum"
    response = exchange.signed(keys, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 200, response.text
    assert response.json()["blockchain"] == "Ethereum"


def test_the_accepted_blockchains_are_backpacks_enum() -> None:
    enum = json.loads(description_bytes())["components"]["schemas"]["Blockchain"]["enum"]
    assert list(inputs.BLOCKCHAINS) == enum
