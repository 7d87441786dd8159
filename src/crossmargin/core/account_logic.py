"""Accounts, subaccounts and API keys: opening them and letting keys sign for them.

An account holds one or more subaccounts; each subaccount is signed for by the ED25519 public
keys registered with it, and a key signs for one subaccount only (INV-STATE-2). Ids come from the
state's counters, so replaying the journal opens the same ids in the same order. The insurance
fund (subaccount 0) is run by the engine and never takes keys.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.accounts import Subaccount
from crossmargin.core.commands import AddApiKey, CreateAccount, CreateSubaccount
from crossmargin.core.events import AccountCreated, ApiKeyAdded, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import check_api_keys, find_subaccount


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
    tx.subaccounts[subaccount.subaccount_id] = replace(subaccount, api_keys=(*subaccount.api_keys, command.api_key))
    tx.emit(ApiKeyAdded(subaccount.subaccount_id, command.api_key))
    return None
