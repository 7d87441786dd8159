"""Request bodies are bounded before any route reads them: in size (413) and in JSON nesting depth (400).

The 100 MB bodies against a live server are in `test_api_edge_live_server.py`; here, through the
ASGI app, the exact bounds: one byte over `BODY_BYTES_MAX` is refused whatever the route, a body at
the bound is read, and JSON nested 1,000 deep is a 400 naming the depth limit everywhere JSON
is decoded (it used to be a 500: msgspec raises `RecursionError`).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from signing_client import Exchange, Keys, signed_headers

from crossmargin.api.inputs import BODY_BYTES_MAX

DEEP = "[" * 1000 + "]" * 1000


def _sign(keys: Keys, instruction: str) -> dict[str, str]:
    headers = signed_headers(keys.api_key, keys.api_secret, instruction, {}, int(time.time() * 1000))
    return {**headers, "Content-Type": "application/json"}


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("path", ["/api/v1/borrowLend", "/admin/v1/deposits", "/api/v1/ping", "/no/such/route"])
@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_one_byte_over_the_body_limit_is_refused_413_on_any_route(exchange: Exchange, path: str, framing: str) -> None:
    body = b" " * (BODY_BYTES_MAX + 1)
    content = body if framing == "Content-Length" else _chunks(body)
    response = exchange.client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "INVALID_CLIENT_REQUEST"
    assert f"at most {BODY_BYTES_MAX} bytes are accepted" in response.json()["message"]


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_a_body_at_the_limit_reaches_its_route(exchange: Exchange, framing: str) -> None:
    keys = exchange.new_account()
    body = b'{"symbol": "USDC"' + b" " * (BODY_BYTES_MAX - 18) + b"}"
    assert len(body) == BODY_BYTES_MAX
    content = body if framing == "Content-Length" else _chunks(body)
    response = exchange.client.request(
        "POST", "/api/v1/borrowLend", content=content, headers=_sign(keys, "borrowLendExecute")
    )
    # Read whole and checked for its signature: the route saw every byte.
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")
    assert "Invalid signature" in response.json()["message"]


def test_deep_json_in_a_signed_body_is_refused_400_naming_the_depth(exchange: Exchange) -> None:
    keys = exchange.new_account()
    response = exchange.client.post(
        "/api/v1/borrowLend", content=f'{{"symbol": {DEEP}}}', headers=_sign(keys, "borrowLendExecute")
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert response.json()["message"] == (
        "The request body is not valid JSON: it nests arrays and objects deeper than 32 levels"
    )


def test_deep_json_in_a_batch_of_orders_is_refused_400(exchange: Exchange) -> None:
    keys = exchange.new_account()
    response = exchange.client.post("/api/v1/orders", content=f"[{DEEP}]", headers=_sign(keys, "orderExecute"))
    assert response.status_code == 400
    assert "deeper than 32 levels" in response.json()["message"]


def test_deep_json_in_an_operator_body_is_refused_400(exchange: Exchange) -> None:
    response = exchange.client.post(
        "/admin/v1/prices",
        content=f'{{"prices": {DEEP}}}',
        headers={"Authorization": "Bearer test-admin-token", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "deeper than 32 levels" in response.json()["message"]


def test_deep_json_inside_the_base64_borrow_parameter_is_refused_400(exchange: Exchange) -> None:
    keys = exchange.new_account()
    borrow = base64.b64encode(("[" * 200 + "]" * 200).encode()).decode()
    response = exchange.signed(
        keys,
        "GET",
        "/api/v1/borrowLend/position/liquidationPrice",
        "borrowLendPositionLiquidationPrice",
        {"borrow": borrow},
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("borrow must encode JSON")


def test_json_at_the_depth_limit_is_decoded(exchange: Exchange) -> None:
    keys = exchange.new_account()
    nested = "[" * 31 + "]" * 31  # 31 levels inside the body's object: 32 in all
    response = exchange.client.post(
        "/api/v1/borrowLend", content=f'{{"symbol": {nested}}}', headers=_sign(keys, "borrowLendExecute")
    )
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED"), "decoded, then not signed"


def test_a_deep_websocket_frame_gets_an_error_and_the_connection_stays_open(exchange: Exchange) -> None:
    with exchange.client.websocket_connect("/ws") as websocket:
        websocket.send_text(f'{{"method": "SUBSCRIBE", "params": {DEEP}}}')
        refused = websocket.receive_json()
        websocket.send_json({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 7})
        acknowledged = websocket.receive_json()
    assert refused["error"]["code"] == 4000
    assert "deeper than 32 levels" in refused["error"]["message"]
    assert acknowledged == {"id": 7, "result": None}
