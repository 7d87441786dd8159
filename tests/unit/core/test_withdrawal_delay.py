"""Withdrawal delay: a configured delay holds withdrawals until the engine clock passes their release."""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import HOUR_MS, Driver

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.core.audit import audit
from crossmargin.core.commands import SetWithdrawalDelay, Tick
from crossmargin.core.due_work import next_due_ms
from crossmargin.core.engine import execute
from crossmargin.core.events import WithdrawalDelaySet, WithdrawalReleased
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import PENDING_WITHDRAWALS, WORLD
from crossmargin.core.rejections import RejectReason
from crossmargin.core.withdrawal_delay import delay_hours_at, pending_delay


def saver(driver: Driver, usdc: str = "1000") -> SubaccountId:
    sub = driver.account()
    driver.deposit(sub, "USDC", usdc)
    return sub


def test_a_delay_holds_a_withdrawal_until_its_release_then_sends_it(driver: Driver) -> None:
    sub = saver(driver)
    (event,) = driver.accept(SetWithdrawalDelay(sub, 2, create=True))
    assert event == WithdrawalDelaySet(sub, 2, None, None, driver.now_ms)
    requested = driver.now_ms

    driver.accept(driver.withdraw(sub, "USDC", "400"))

    (withdrawal,) = driver.state.withdrawals
    assert withdrawal.release_ms == requested + 2 * HOUR_MS
    assert driver.holding(sub, "USDC").spot_atoms == driver.atoms("USDC", "600"), "held funds are not spendable"
    assert driver.state.ledger[(PENDING_WITHDRAWALS, "USDC")] == driver.atoms("USDC", "400")
    assert list(driver.state.pending_withdrawals) == [0]
    assert next_due_ms(driver.state) == requested + 2 * HOUR_MS, "the scheduler ticks at the release"
    driver.refuse(driver.withdraw(sub, "USDC", "600.000001"), RejectReason.BALANCE_INSUFFICIENT)
    assert all(check.ok for check in audit(driver.state))

    driver.tick(requested + 2 * HOUR_MS - 1)
    assert driver.state.ledger[(PENDING_WITHDRAWALS, "USDC")] == driver.atoms("USDC", "400")
    events = driver.tick(requested + 2 * HOUR_MS + 5)

    released = [event for event in events if isinstance(event, WithdrawalReleased)]
    assert released == [WithdrawalReleased(sub, 0, "USDC", driver.atoms("USDC", "400"), requested + 2 * HOUR_MS)]
    assert driver.state.ledger[(PENDING_WITHDRAWALS, "USDC")] == 0
    assert driver.state.pending_withdrawals == {}
    assert next_due_ms(driver.state) is None
    assert all(check.ok for check in audit(driver.state))


def test_a_hold_survives_a_snapshot_and_a_refused_command_releases_nothing(driver: Driver) -> None:
    sub = saver(driver)
    driver.accept(SetWithdrawalDelay(sub, 1, create=True))
    driver.accept(driver.withdraw(sub, "USDC", "100"))

    loaded = decode_state(encode_state(driver.state))
    assert loaded.pending_withdrawals == {0: None}
    assert loaded.withdrawals == driver.state.withdrawals
    later = driver.now_ms + 2 * HOUR_MS
    before = copy.deepcopy(driver.state)
    driver.at(later).refuse(driver.withdraw(sub, "USDC", "5000"), RejectReason.BALANCE_INSUFFICIENT)
    assert driver.state == before
    execute(loaded, Tick(), later)
    assert loaded.ledger[(PENDING_WITHDRAWALS, "USDC")] == 0
    assert loaded.ledger[(WORLD, "USDC")] == driver.state.ledger[(WORLD, "USDC")] + driver.atoms("USDC", "100")


def test_without_a_delay_a_withdrawal_leaves_at_once(driver: Driver) -> None:
    sub = saver(driver)
    driver.accept(SetWithdrawalDelay(sub, 0, create=True))

    driver.accept(driver.withdraw(sub, "USDC", "100"))

    assert driver.state.withdrawals[0].release_ms is None
    assert driver.state.pending_withdrawals == {}


def test_a_change_applies_only_once_the_current_delay_has_passed(driver: Driver) -> None:
    sub = saver(driver)
    driver.accept(SetWithdrawalDelay(sub, 24, create=True))
    changed_at = driver.now_ms

    (event,) = driver.accept(SetWithdrawalDelay(sub, 1, create=False))

    assert event == WithdrawalDelaySet(sub, 24, 1, changed_at + 24 * HOUR_MS, changed_at)
    subaccount = driver.state.subaccounts[sub]
    assert delay_hours_at(subaccount, changed_at + 24 * HOUR_MS - 1) == 24
    assert pending_delay(subaccount, changed_at) == (1, changed_at + 24 * HOUR_MS)
    assert delay_hours_at(subaccount, changed_at + 24 * HOUR_MS) == 1
    assert pending_delay(subaccount, changed_at + 24 * HOUR_MS) is None
    driver.accept(driver.withdraw(sub, "USDC", "1"))
    assert driver.state.withdrawals[-1].release_ms == driver.now_ms + 24 * HOUR_MS
    driver.at(changed_at + 25 * HOUR_MS).accept(SetWithdrawalDelay(sub, 3, create=False))
    assert driver.state.subaccounts[sub].withdrawal_delay_hours == 1
    assert pending_delay(driver.state.subaccounts[sub], driver.now_ms) == (3, driver.now_ms + HOUR_MS)


def test_create_twice_change_before_create_and_out_of_range_are_refused(driver: Driver) -> None:
    sub = saver(driver)
    driver.refuse(SetWithdrawalDelay(sub, 2, create=False), RejectReason.WITHDRAWAL_DELAY_NOT_FOUND)
    driver.refuse(SetWithdrawalDelay(sub, 1441, create=True), RejectReason.WITHDRAWAL_DELAY_OUT_OF_RANGE)
    driver.refuse(SetWithdrawalDelay(sub, -1, create=True), RejectReason.WITHDRAWAL_DELAY_OUT_OF_RANGE)
    driver.refuse(SetWithdrawalDelay(SubaccountId(999), 1, create=True), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.accept(SetWithdrawalDelay(sub, 1440, create=True))
    driver.refuse(SetWithdrawalDelay(sub, 2, create=True), RejectReason.WITHDRAWAL_DELAY_EXISTS)


def test_no_delay_set_means_none_in_force() -> None:
    driver = Driver()
    sub = driver.account()
    subaccount = driver.state.subaccounts[sub]

    assert delay_hours_at(subaccount, 0) == 0
    assert pending_delay(subaccount, 0) is None
    assert delay_hours_at(replace(subaccount, pending_withdrawal_delay_hours=5), 0) == 0
