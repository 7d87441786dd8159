"""Signing in: pasted API keys (signed in the browser), remembering them, the operator login, signing out."""

from __future__ import annotations

import base64
from typing import Any

from live_server import TOKEN
from nacl.signing import SigningKey
from playwright.sync_api import expect
from web_harness import Server, sign_in

STORAGE_KEY = "crossmargin.session"


def stored(page: Any) -> Any:
    return page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')")


def open_keys_tab(page: Any) -> Any:
    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    dialog.get_by_role("tab", name="Paste keys").click()
    return dialog


def test_pasted_keys_sign_requests_in_the_browser_and_the_secret_stays_in_memory(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "1.5"})
    page.goto("/spot")
    expect(page.get_by_test_id("balances")).to_have_text("Sign in to see your balances.")
    sign_in(page, account)
    expect(page.get_by_test_id("session-label")).to_have_text(f"Key {account['apiKey'][:8]}…")
    expect(page.get_by_test_id("balance-BTC")).to_contain_text("1.5")
    assert stored(page) is None
    page.reload()
    expect(page.get_by_test_id("session-label")).to_be_empty()
    expect(page.get_by_test_id("session-button")).to_have_text("Log in")


def test_a_secret_of_another_key_is_refused_in_words_and_nothing_is_stored(server: Server, page: Any) -> None:
    mine, other = server.new_account(), server.new_account()
    page.goto("/spot")
    dialog = open_keys_tab(page)
    dialog.get_by_label("API key").fill(mine["apiKey"])
    dialog.get_by_label("API secret").fill(other["apiSecret"])
    dialog.get_by_label("Remember on this device").check()
    dialog.get_by_role("button", name="Sign in", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Sign-in failed: The API secret does not belong to this API key")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("session-label")).to_be_empty()
    assert stored(page) is None


def test_an_unknown_key_pair_is_refused_with_the_servers_message(server: Server, page: Any) -> None:
    seed = bytes(SigningKey.generate())
    page.goto("/spot")
    dialog = open_keys_tab(page)
    dialog.get_by_label("API secret").fill(base64.b64encode(seed).decode())
    dialog.get_by_role("button", name="Sign in", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Sign-in failed: This API key is not known on this server: paste the key and secret of one of its "
        "subaccounts (`crossmargin account create` prints them), or connect as the operator to create one."
    )
    assert stored(page) is None


# Reads the device key record from IndexedDB and what the page could learn of its private key.
READ_DEVICE_KEY = """async () => {
  const db = await new Promise((ok, no) => { const r = indexedDB.open("crossmargin", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("session"); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const record = await new Promise((ok, no) => { const r = db.transaction("session").objectStore("session").get("device");
    r.onsuccess = () => ok(r.result ?? null); r.onerror = () => no(r.error); });
  db.close();
  if (!record) return null;
  window.__deviceKey = record;
  let exported = "refused";
  try { await crypto.subtle.exportKey("pkcs8", record.privateKey); exported = "exported"; } catch {}
  const k = record.privateKey;
  return {apiKey: record.apiKey, ownerKey: record.ownerKey, extractable: k.extractable, type: k.type,
          algorithm: k.algorithm.name, usages: k.usages, exported, fields: Object.keys(record).sort()};
}"""

# Signs GET /api/v1/account with the device key read earlier (kept on window), as the page would.
SIGN_WITH_OLD_KEY = """async () => {
  const {privateKey, apiKey} = window.__deviceKey;
  const ts = Date.now();
  const text = `instruction=accountQuery&timestamp=${ts}&window=5000`;
  const sig = new Uint8Array(await crypto.subtle.sign({name: "Ed25519"}, privateKey, new TextEncoder().encode(text)));
  const response = await fetch("/api/v1/account", {headers: {"X-API-Key": apiKey, "X-Timestamp": String(ts),
    "X-Window": "5000", "X-Signature": btoa(String.fromCharCode(...sig))}});
  return response.status;
}"""

WEB_STORAGE = "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"


def test_remember_on_this_device_keeps_a_revocable_non_extractable_key_never_the_secret(
    server: Server, page: Any
) -> None:
    account = server.new_account({"USDC": "250"})
    page.goto("/spot")
    page.evaluate(f"localStorage.setItem('{STORAGE_KEY}', 'an older page kept the secret here')")
    sign_in(page, account, remember=True)
    device = page.evaluate(READ_DEVICE_KEY)
    assert device is not None
    assert device["extractable"] is False
    assert (device["type"], device["algorithm"], device["usages"], device["exported"]) == (
        "private",
        "Ed25519",
        ["sign"],
        "refused",
    )
    assert device["fields"] == ["apiKey", "ownerKey", "privateKey", "subaccountId"]
    assert device["ownerKey"] == account["apiKey"]
    keys = server.signed(account, "apiKeyQueryAll", "GET", "/wapi/v1/apiKeys")["apiKeys"]
    assert keys == [account["apiKey"], device["apiKey"]]

    page.reload()
    expect(page.get_by_test_id("session-label")).to_have_text(f"Key {account['apiKey'][:8]}…")
    expect(page.get_by_test_id("balance-USDC")).to_contain_text("250")
    storage = page.evaluate(WEB_STORAGE)
    assert account["apiSecret"] not in storage
    assert storage == "[[],[]]", "nothing in localStorage or sessionStorage, the legacy entry deleted"
    assert page.evaluate(READ_DEVICE_KEY)["apiKey"] == device["apiKey"], "the page signs with the stored key"

    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    expect(dialog).to_contain_text("remembered on this device")
    dialog.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("session-label")).to_be_empty()
    expect(page.locator("#toasts")).to_contain_text("nothing is kept on this device")
    assert page.evaluate(SIGN_WITH_OLD_KEY) == 401, "the revoked key is refused by the API"
    assert server.signed(account, "apiKeyQueryAll", "GET", "/wapi/v1/apiKeys")["apiKeys"] == [account["apiKey"]]
    assert page.evaluate(READ_DEVICE_KEY) is None
    page.reload()
    expect(page.get_by_test_id("balances")).to_have_text("Sign in to see your balances.")


def test_the_operator_creates_an_account_then_acts_as_another_subaccount(server: Server, page: Any) -> None:
    existing = server.new_account({"ETH": "2"})
    page.goto("/spot")
    page.get_by_test_id("session-button").click()
    dialog = page.get_by_test_id("session-dialog")
    dialog.get_by_role("tab", name="Operator").click()
    dialog.get_by_label("Admin token").fill("wrong-token")
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog.get_by_test_id("operator-error")).to_contain_text("Cannot connect:")
    dialog.get_by_label("Admin token").fill(TOKEN)
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog.get_by_test_id("operator-error")).to_be_empty()
    dialog.get_by_role("button", name="New account").click()
    expect(dialog).to_be_hidden()
    label = page.get_by_test_id("session-label")
    expect(label).to_have_text(f"Subaccount #{existing['subaccountId'] + 1}")
    expect(page.get_by_test_id("balances")).to_contain_text("No balances yet")

    page.get_by_test_id("session-button").click()
    dialog.get_by_role("tab", name="Operator").click()
    dialog.get_by_role("button", name="Connect").click()
    dialog.get_by_test_id(f"use-subaccount-{existing['subaccountId']}").click()
    expect(dialog).to_be_hidden()
    expect(label).to_have_text(f"Subaccount #{existing['subaccountId']}")
    expect(page.get_by_test_id("balance-ETH")).to_contain_text("2")


def test_the_sign_in_dialog_works_from_the_keyboard(server: Server, page: Any) -> None:
    account = server.new_account({"BTC": "0.25"})
    page.goto("/spot")
    opener = page.get_by_test_id("session-button")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("session-dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    page.keyboard.press("Enter")
    dialog.get_by_label("API key").fill(account["apiKey"])
    dialog.get_by_label("API secret").fill(account["apiSecret"])
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("balance-BTC").get_by_role("cell")).to_have_text(["BTC", "0.25", "0", "0"])
