"""A minimal Backpack client for tests (shared by e2e suites): signs requests the way Backpack's documentation says."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from nacl.signing import SigningKey
from starlette.testclient import TestClient

ADMIN_TOKEN = "test-admin-token"


@dataclass(frozen=True)
class Keys:
    """A subaccount's credentials as the operator API returns them."""

    subaccount_id: int
    account_id: int
    api_key: str
    api_secret: str


def printed(value: object) -> str:
    """Return a parameter as the signed text prints it (booleans as `true`/`false`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def signed_headers(
    api_key: str,
    api_secret: str,
    instruction: str,
    parameters: Mapping[str, object],
    timestamp_ms: int,
    window_ms: int = 5000,
) -> dict[str, str]:
    """Return Backpack's four signature headers for a request with these parameters."""
    pairs = "&".join(f"{key}={printed(value)}" for key, value in sorted(parameters.items()))
    text = f"instruction={instruction}{'&' + pairs if pairs else ''}&timestamp={timestamp_ms}&window={window_ms}"
    signature = SigningKey(base64.b64decode(api_secret)).sign(text.encode()).signature
    return {
        "X-API-Key": api_key,
        "X-Signature": base64.b64encode(signature).decode(),
        "X-Timestamp": str(timestamp_ms),
        "X-Window": str(window_ms),
    }


class Exchange:
    """Wraps a test client with the operator token and Backpack request signing."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def admin(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        response: httpx.Response = self.client.request(method, path, json=body, headers=headers)
        return response

    def new_account(self) -> Keys:
        created = self.admin("POST", "/admin/v1/accounts", {}).json()
        return Keys(created["subaccountId"], created["accountId"], created["apiKey"], created["apiSecret"])

    def deposit(self, keys: Keys, symbol: str, quantity: str) -> None:
        response = self.admin(
            "POST", "/admin/v1/deposits", {"subaccountId": keys.subaccount_id, "symbol": symbol, "quantity": quantity}
        )
        assert response.status_code == 200, response.text

    def signed(
        self,
        keys: Keys,
        method: str,
        path: str,
        instruction: str,
        parameters: Mapping[str, object] | None = None,
        *,
        timestamp_ms: int | None = None,
        window_ms: int = 5000,
    ) -> httpx.Response:
        parameters = parameters or {}
        timestamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        headers = signed_headers(keys.api_key, keys.api_secret, instruction, parameters, timestamp, window_ms)
        if method == "GET":
            query = {key: printed(value) for key, value in parameters.items()}
            response: httpx.Response = self.client.request(method, path, params=query, headers=headers)
        else:
            response = self.client.request(method, path, json=parameters, headers=headers)
        return response

    def borrow_lend(self, keys: Keys, side: str, quantity: str, symbol: str = "USDC") -> httpx.Response:
        """Send a signed POST /api/v1/borrowLend."""
        body = {"symbol": symbol, "side": side, "quantity": quantity}
        return self.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body)
