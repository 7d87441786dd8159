"""`/wapi/v1/apiKeys` end to end: a subaccount registers, uses and revokes its own keys; they survive a restart.

The web page's device session relies on it: a key registered with the pasted key's signature signs
for the same subaccount, and once revoked it is refused as unknown, before and after a restart.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from nacl.signing import SigningKey
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from tests.e2e.conftest import START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

PATH = "/wapi/v1/apiKeys"


def _device_keys(owner: Keys, seed: bytes) -> Keys:
    public = base64.b64encode(bytes(SigningKey(seed).verify_key)).decode()
    return Keys(owner.subaccount_id, owner.account_id, public, base64.b64encode(seed).decode())


def _keys(exchange: Exchange, keys: Keys) -> list[str]:
    response = exchange.signed(keys, "GET", PATH, "apiKeyQueryAll")
    assert response.status_code == 200, response.text
    assert response.json()["subaccountId"] == keys.subaccount_id
    listed: list[str] = response.json()["apiKeys"]
    return listed


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@contextmanager
def _open(journal: MemoryJournal) -> Iterator[Exchange]:
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs())
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            yield Exchange(client)
    finally:
        service.close()


def test_a_registered_key_signs_for_the_subaccount_until_revoked_even_across_a_restart(journal: MemoryJournal) -> None:
    with _open(journal) as exchange:
        owner = exchange.new_account()
        device = _device_keys(owner, bytes(range(32)))
        other = _device_keys(owner, bytes(range(1, 33)))

        added = exchange.signed(owner, "POST", PATH, "apiKeyCreate", {"publicKey": device.api_key})
        assert added.status_code == 200, added.text
        assert added.json() == {"subaccountId": owner.subaccount_id, "apiKey": device.api_key}
        assert exchange.signed(device, "POST", PATH, "apiKeyCreate", {"publicKey": other.api_key}).status_code == 200
        assert _keys(exchange, device) == [owner.api_key, device.api_key, other.api_key]
        revoked = exchange.signed(device, "DELETE", PATH, "apiKeyRevoke", {"publicKey": device.api_key})
        assert revoked.status_code == 200, revoked.text
        refused = exchange.signed(device, "GET", "/api/v1/account", "accountQuery")
        assert (refused.status_code, refused.json()["code"]) == (401, "UNAUTHORIZED")

    with _open(journal.reopen()) as exchange:
        assert _keys(exchange, other) == [owner.api_key, other.api_key]
        assert exchange.signed(device, "GET", "/api/v1/account", "accountQuery").status_code == 401


def test_bad_keys_other_subaccounts_keys_and_the_last_key_are_refused(exchange: Exchange) -> None:
    owner, stranger = exchange.new_account(), exchange.new_account()
    cases = [
        ("POST", "apiKeyCreate", {"publicKey": "not base64!"}, 400, "publicKey must be a base64 ED25519 public key"),
        ("POST", "apiKeyCreate", {"publicKey": "AAAA"}, 400, "of 32 bytes, not 3"),
        ("POST", "apiKeyCreate", {}, 400, "publicKey is required"),
        ("POST", "apiKeyCreate", {"publicKey": stranger.api_key}, 400, "already signs for a subaccount"),
        ("DELETE", "apiKeyRevoke", {"publicKey": stranger.api_key}, 404, "does not sign for subaccount"),
        ("DELETE", "apiKeyRevoke", {"publicKey": owner.api_key}, 400, "a subaccount keeps at least one key"),
    ]
    for method, instruction, body, status, words in cases:
        response = exchange.signed(owner, method, PATH, instruction, body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["message"], response.text
    assert _keys(exchange, owner) == [owner.api_key]
    assert _keys(exchange, stranger) == [stranger.api_key]
