"""The operator's subaccount list and fresh key pairs for an existing subaccount (the web page's operator sign-in)."""

from __future__ import annotations

from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000


def add_key(exchange: Exchange, subaccount_id: object) -> Keys:
    response = exchange.admin("POST", f"/admin/v1/subaccounts/{subaccount_id}/apiKeys", {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"accountId", "subaccountId", "apiKey", "apiSecret"}
    return Keys(body["subaccountId"], body["accountId"], body["apiKey"], body["apiSecret"])


def account_of(exchange: Exchange, keys: Keys) -> int:
    response = exchange.signed(keys, "GET", "/api/v1/account", "accountQuery")
    return response.status_code


def test_the_list_shows_every_subaccount_by_id_but_the_insurance_fund(exchange: Exchange) -> None:
    assert exchange.admin("GET", "/admin/v1/subaccounts").json() == []
    first = exchange.new_account()
    second = exchange.new_account()
    extra = exchange.admin("POST", "/admin/v1/subaccounts", {"accountId": first.account_id}).json()
    fund = exchange.admin("POST", "/admin/v1/deposits", {"subaccountId": 0, "symbol": "USDC", "quantity": "100"})
    assert fund.status_code == 200, "the insurance fund exists now"

    listed = exchange.admin("GET", "/admin/v1/subaccounts").json()

    assert listed == [
        {"subaccountId": first.subaccount_id, "accountId": first.account_id, "apiKeyCount": 1, "liquidating": False},
        {"subaccountId": second.subaccount_id, "accountId": second.account_id, "apiKeyCount": 1, "liquidating": False},
        {"subaccountId": extra["subaccountId"], "accountId": first.account_id, "apiKeyCount": 1, "liquidating": False},
    ]
    assert [row["subaccountId"] for row in listed] == sorted(row["subaccountId"] for row in listed)


def test_a_fresh_key_signs_for_the_subaccount_and_the_old_one_still_does(exchange: Exchange) -> None:
    old = exchange.new_account()
    exchange.deposit(old, "USDC", "25")

    new = add_key(exchange, old.subaccount_id)
    balances = exchange.signed(new, "GET", "/api/v1/capital", "balanceQuery").json()
    (row,) = exchange.admin("GET", "/admin/v1/subaccounts").json()

    assert (new.subaccount_id, new.account_id) == (old.subaccount_id, old.account_id)
    assert new.api_key != old.api_key
    assert balances["USDC"]["available"] == "25", "the new key reads the same subaccount"
    assert account_of(exchange, old) == 200, "the old key keeps working"
    assert row["apiKeyCount"] == 2


def test_keys_only_for_subaccounts_that_exist(exchange: Exchange) -> None:
    exchange.new_account()
    exchange.admin("POST", "/admin/v1/deposits", {"subaccountId": 0, "symbol": "USDC", "quantity": "100"})

    unknown = exchange.admin("POST", "/admin/v1/subaccounts/999/apiKeys", {})
    fund = exchange.admin("POST", "/admin/v1/subaccounts/0/apiKeys", {})
    garbled = exchange.admin("POST", "/admin/v1/subaccounts/one/apiKeys", {})

    assert (unknown.status_code, unknown.json()) == (
        404,
        {"code": "RESOURCE_NOT_FOUND", "message": "Subaccount 999 does not exist"},
    )
    assert fund.status_code == 404
    assert fund.json()["message"].startswith("Subaccount 0 is the insurance fund")
    assert (garbled.status_code, garbled.json()["message"]) == (
        400,
        "subaccountId must be a whole number of at least 0",
    )


def test_both_routes_need_the_operator_token(exchange: Exchange) -> None:
    keys = exchange.new_account()

    listed = exchange.client.get("/admin/v1/subaccounts")
    added = exchange.client.post(f"/admin/v1/subaccounts/{keys.subaccount_id}/apiKeys", json={})

    assert (listed.status_code, listed.json()["code"]) == (401, "UNAUTHORIZED")
    assert (added.status_code, added.json()["code"]) == (401, "UNAUTHORIZED")
    (row,) = exchange.admin("GET", "/admin/v1/subaccounts").json()
    assert row["apiKeyCount"] == 1, "nothing was added without the token"


def test_an_added_key_survives_a_restart_from_the_snapshot_and_from_the_journal_alone() -> None:
    journal = MemoryJournal()
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs())
    try:
        with TestClient(create_app(service, ADMIN_TOKEN)) as client:
            exchange = Exchange(client)
            first = exchange.new_account()
            added = add_key(exchange, first.subaccount_id)
    finally:
        service.close()
    assert journal.snapshots, "closing took a snapshot"

    for from_snapshot in (True, False):
        if not from_snapshot:
            journal.snapshots.clear()
        reopened = Service.open(journal.reopen(), ManualClock(START_MS), load_asset_specs())
        try:
            with TestClient(create_app(reopened, ADMIN_TOKEN)) as client:
                status = account_of(Exchange(client), added)
            keys = reopened.read(lambda state: dict(state.api_keys))
        finally:
            reopened.close()
        assert status == 200, f"the added key signs after a restart (from the snapshot: {from_snapshot})"
        assert keys == {first.api_key: first.subaccount_id, added.api_key: first.subaccount_id}
