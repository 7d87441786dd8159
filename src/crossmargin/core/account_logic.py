"""Accounts, subaccounts and API keys: opening them and letting keys sign for them.

An account holds one or more subaccounts; each subaccount is signed for by the ED25519 public
keys registered with it, and a key signs for one subaccount only (INV-STATE-2). A subaccount holds
at most `API_KEYS_PER_SUBACCOUNT_MAX` keys; a key can be revoked (the web page's device keys are),
but never a subaccount's last one, so nobody locks themselves out by revoking. Ids come from the
state's counters, so replaying the journal opens the same ids in the same order. The insurance
fund (subaccount 0) is run by the engine and never takes keys.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from crossmargin.core.accounts import Subaccount
from crossmargin.core.commands import AddApiKey, CreateAccount, CreateSubaccount, RevokeApiKey
from crossmargin.core.events import AccountCreated, ApiKeyAdded, ApiKeyRevoked, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import check_api_keys, find_subaccount

API_KEYS_PER_SUBACCOUNT_MAX: Final = 32
"""The most keys one subaccount may hold: adding one more is refused until one is revoked."""


def create_account(tx: Transaction, command: CreateAccount) -> Rejection | None:
    """Open an account with its first subaccount."""
    refused = check_api_keys(tx, command.api_keys)
    if refused:
        return refused
    account_id = AccountId(tx.take_id("next_account_id"))
    subaccount_id = SubaccountId(tx.take_id("next_subaccount_id"))
    tx.accounts[account_id] = [subaccount_id]
    tx.subaccounts[subaccount_id] = Subaccount(subaccount_id, account_id, api_keys=command.api_keys)
    tx.emit(AccountCreated(account_id, subaccount_id))
    return None


def create_subaccount(tx: Transaction, command: CreateSubaccount) -> Rejection | None:
    """Open a further subaccount."""
    members = tx.account_subaccounts(command.account_id)
    if members is None:
        return Rejection(RejectReason.ACCOUNT_NOT_FOUND, f"Account {command.account_id} does not exist")
    refused = check_api_keys(tx, command.api_keys)
    if refused:
        return refused
    subaccount_id = SubaccountId(tx.take_id("next_subaccount_id"))
    tx.accounts[command.account_id] = [*members, subaccount_id]
    tx.subaccounts[subaccount_id] = Subaccount(subaccount_id, command.account_id, api_keys=command.api_keys)
    tx.emit(SubaccountCreated(command.account_id, subaccount_id))
    return None


def add_api_key(tx: Transaction, command: AddApiKey) -> Rejection | None:
    """Register one more signing key for a subaccount (never the insurance fund's: it has none)."""
    if command.subaccount_id == INSURANCE_FUND_ID:
        return Rejection(
            RejectReason.SUBACCOUNT_NOT_FOUND,
            f"Subaccount {INSURANCE_FUND_ID} is the insurance fund: it is run by the engine and takes no API keys",
        )
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    refused = check_api_keys(tx, (command.api_key,))
    if refused:
        return refused
    if len(subaccount.api_keys) >= API_KEYS_PER_SUBACCOUNT_MAX:
        return Rejection(
            RejectReason.API_KEY_LIMIT_REACHED,
            f"Subaccount {subaccount.subaccount_id} already has {API_KEYS_PER_SUBACCOUNT_MAX} API keys, the most it "
            "may hold: revoke one first",
        )
    tx.subaccounts[subaccount.subaccount_id] = replace(subaccount, api_keys=(*subaccount.api_keys, command.api_key))
    tx.emit(ApiKeyAdded(subaccount.subaccount_id, command.api_key))
    return None


def revoke_api_key(tx: Transaction, command: RevokeApiKey) -> Rejection | None:
    """Stop one of a subaccount's keys from signing; its last key stays."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    if command.api_key not in subaccount.api_keys:
        return Rejection(
            RejectReason.API_KEY_NOT_FOUND,
            f"API key {command.api_key} does not sign for subaccount {subaccount.subaccount_id}",
        )
    if len(subaccount.api_keys) == 1:
        return Rejection(
            RejectReason.API_KEY_LAST,
            f"API key {command.api_key} is the last key of subaccount {subaccount.subaccount_id}: "
            "a subaccount keeps at least one key",
        )
    kept = tuple(key for key in subaccount.api_keys if key != command.api_key)
    tx.subaccounts[subaccount.subaccount_id] = replace(subaccount, api_keys=kept)
    tx.emit(ApiKeyRevoked(subaccount.subaccount_id, command.api_key))
    return None
