"""AddApiKey: one more signing key for a subaccount, journaled like every command; keys are never shared."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.app.codec import decode_command, encode_command
from crossmargin.core.commands import AddApiKey, Command, CreateAccount, Deposit
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import AccountCreated, ApiKeyAdded
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState


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
