"""AddApiKey and RevokeApiKey: signing keys of a subaccount, journaled like every command; keys are never shared."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.app.codec import decode_command, encode_command
from crossmargin.core.account_logic import API_KEYS_PER_SUBACCOUNT_MAX, revoke_api_key
from crossmargin.core.audit import audit
from crossmargin.core.commands import AddApiKey, Command, CreateAccount, Deposit, RevokeApiKey
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import AccountCreated, ApiKeyAdded, ApiKeyRevoked
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction


def test_a_subaccount_gets_another_key_and_keeps_the_old_one(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-a",)))
    assert isinstance(created, AccountCreated)
    sub = created.subaccount_id

    events = driver.accept(AddApiKey(sub, "key-b"))

    assert events == (ApiKeyAdded(sub, "key-b"),)
    assert driver.state.subaccounts[sub].api_keys == ("key-a", "key-b")
    assert driver.state.api_keys == {"key-a": sub, "key-b": sub}


def test_a_key_in_use_is_refused_whoever_holds_it(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-a",)))
    assert isinstance(created, AccountCreated)
    other = driver.account()

    theirs = driver.refuse(AddApiKey(other, "key-a"), RejectReason.API_KEY_TAKEN)
    own = driver.refuse(AddApiKey(created.subaccount_id, "key-a"), RejectReason.API_KEY_TAKEN)

    assert theirs.message == "API key key-a already signs for a subaccount"
    assert own.message == theirs.message


def test_an_unknown_subaccount_or_the_insurance_fund_gets_no_key(driver: Driver) -> None:
    unknown = driver.refuse(AddApiKey(SubaccountId(999), "key-z"), RejectReason.SUBACCOUNT_NOT_FOUND)
    sub = driver.account()
    driver.accept(Deposit(INSURANCE_FUND_ID, "USDC", 1_000_000))  # the fund exists from its first deposit
    fund = driver.refuse(AddApiKey(INSURANCE_FUND_ID, "key-z"), RejectReason.SUBACCOUNT_NOT_FOUND)

    assert unknown.message == "Subaccount 999 does not exist"
    assert fund.message.startswith("Subaccount 0 is the insurance fund")
    assert driver.state.subaccounts[INSURANCE_FUND_ID].api_keys == ()
    assert "key-z" not in driver.state.api_keys
    assert driver.state.subaccounts[sub].api_keys == ()


def test_an_added_key_is_replayed_from_the_journal_text() -> None:
    added = AddApiKey(SubaccountId(1), "key-b")
    commands: list[Command] = [CreateAccount(api_keys=("key-a",)), added]
    original, replayed = EngineState(), EngineState()
    for command in commands:
        assert isinstance(execute(original, command, 0), Accepted)
        assert isinstance(execute(replayed, decode_command(encode_command(command)), 0), Accepted)

    assert encode_command(added) == '{"type":"AddApiKey","subaccount_id":1,"api_key":"key-b"}'
    assert replayed == original
    assert replayed.api_keys == {"key-a": SubaccountId(1), "key-b": SubaccountId(1)}


def test_a_revoked_key_signs_for_nothing_and_the_others_keep_working(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-a",)))
    assert isinstance(created, AccountCreated)
    sub = created.subaccount_id
    driver.accept(AddApiKey(sub, "key-b"))

    events = driver.accept(RevokeApiKey(sub, "key-b"))

    assert events == (ApiKeyRevoked(sub, "key-b"),)
    assert driver.state.subaccounts[sub].api_keys == ("key-a",)
    assert driver.state.api_keys == {"key-a": sub}
    assert all(check.ok for check in audit(driver.state))
    again = driver.refuse(RevokeApiKey(sub, "key-b"), RejectReason.API_KEY_NOT_FOUND)
    assert again.message == f"API key key-b does not sign for subaccount {sub}"
    driver.accept(AddApiKey(sub, "key-b"))  # a revoked key is free to be registered again
    assert driver.state.api_keys == {"key-a": sub, "key-b": sub}


def test_the_last_key_and_an_unknown_subaccount_are_refused(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-a",)))
    assert isinstance(created, AccountCreated)
    last = driver.refuse(RevokeApiKey(created.subaccount_id, "key-a"), RejectReason.API_KEY_LAST)
    unknown = driver.refuse(RevokeApiKey(SubaccountId(999), "key-a"), RejectReason.SUBACCOUNT_NOT_FOUND)
    other = driver.account()
    theirs = driver.refuse(RevokeApiKey(other, "key-a"), RejectReason.API_KEY_NOT_FOUND)

    assert last.message.endswith("a subaccount keeps at least one key")
    assert unknown.message == "Subaccount 999 does not exist"
    assert theirs.message == f"API key key-a does not sign for subaccount {other}"
    assert driver.state.api_keys == {"key-a": created.subaccount_id}


def test_a_subaccount_holds_at_most_the_key_limit(driver: Driver) -> None:
    (created,) = driver.accept(CreateAccount(api_keys=("key-0",)))
    assert isinstance(created, AccountCreated)
    sub = created.subaccount_id
    for index in range(1, API_KEYS_PER_SUBACCOUNT_MAX):
        driver.accept(AddApiKey(sub, f"key-{index}"))

    full = driver.refuse(AddApiKey(sub, "key-more"), RejectReason.API_KEY_LIMIT_REACHED)
    driver.accept(RevokeApiKey(sub, "key-0"))
    driver.accept(AddApiKey(sub, "key-more"))

    assert full.message.endswith(f"{API_KEYS_PER_SUBACCOUNT_MAX} API keys, the most it may hold: revoke one first")
    assert len(driver.state.subaccounts[sub].api_keys) == API_KEYS_PER_SUBACCOUNT_MAX


def test_a_key_revoked_in_a_transaction_signs_for_nothing_there() -> None:
    state = EngineState()
    assert isinstance(execute(state, CreateAccount(api_keys=("key-a", "key-b")), 0), Accepted)
    tx = Transaction(state, 0)
    sub = SubaccountId(1)
    assert tx.api_key_owner("key-b") == sub
    assert revoke_api_key(tx, RevokeApiKey(sub, "key-b")) is None
    assert Transaction(tx, 0).api_key_owner("key-b") is None
    assert tx.api_key_owner("key-b") is None
    assert tx.api_key_owner("key-a") == sub
    assert tx.api_key_owner("key-z") is None


def test_a_revoked_key_is_replayed_from_the_journal_text() -> None:
    revoked = RevokeApiKey(SubaccountId(1), "key-b")
    commands: list[Command] = [CreateAccount(api_keys=("key-a", "key-b")), revoked]
    original, replayed = EngineState(), EngineState()
    for command in commands:
        assert isinstance(execute(original, command, 0), Accepted)
        assert isinstance(execute(replayed, decode_command(encode_command(command)), 0), Accepted)

    assert encode_command(revoked) == '{"type":"RevokeApiKey","subaccount_id":1,"api_key":"key-b"}'
    assert replayed == original
    assert replayed.api_keys == {"key-a": SubaccountId(1)}
