"""Withdrawal delay: a subaccount's own hold on its withdrawals, and their release on the engine clock.

Backpack's security setting (`/wapi/v1/capital/withdrawals/delay`): with a delay of H hours, a
withdrawal leaves H hours after it is requested. Creating a delay applies at once (a second create
is refused); changing it applies only once the delay in force has passed, so someone who takes
over an account cannot lower the delay and withdraw at once (Backpack's spec: "changes will take
effect after the current delay period ends"). The delay in force is therefore a function of the
setting and the time (`delay_hours_at`); a change is recorded as pending with its time.

A held withdrawal is taken from the subaccount when it is requested (margin-checked then, like any
withdrawal, and so never spendable again) into the exchange's `PENDING_WITHDRAWALS` account, and
recorded with its `release_ms`; the work that falls due before every command (`due_work.py`)
moves it to `WORLD` at that time, emitting `WithdrawalReleased`. The hold is state (the ledger and
the withdrawal record), so it survives snapshots and replay. The longest delay is 1,440 hours (60
days), as on Backpack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from crossmargin.core.accounts import Subaccount
from crossmargin.core.commands import SetWithdrawalDelay
from crossmargin.core.events import WithdrawalDelaySet, WithdrawalReleased
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.ledger import PENDING_WITHDRAWALS, WORLD, entry
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_subaccount

WITHDRAWAL_DELAY_HOURS_MAX: Final = 1440


def delay_hours_at(subaccount: Subaccount, now_ms: int) -> int:
    """Return the withdrawal delay in force at `now_ms` (0 when none was ever set)."""
    pending_at = subaccount.pending_withdrawal_delay_at_ms
    if subaccount.pending_withdrawal_delay_hours is not None and pending_at is not None and pending_at <= now_ms:
        return subaccount.pending_withdrawal_delay_hours
    return subaccount.withdrawal_delay_hours or 0


def pending_delay(subaccount: Subaccount, now_ms: int) -> tuple[int, int] | None:
    """Return a change that has not applied yet at `now_ms` (its hours and when it applies), or None."""
    hours, at = subaccount.pending_withdrawal_delay_hours, subaccount.pending_withdrawal_delay_at_ms
    if hours is None or at is None or at <= now_ms:
        return None
    return hours, at


def set_withdrawal_delay(tx: Transaction, command: SetWithdrawalDelay) -> Rejection | None:
    """Create a withdrawal delay (in force at once), or change one (in force once the current delay has passed)."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    if not 0 <= command.hours <= WITHDRAWAL_DELAY_HOURS_MAX:
        return Rejection(
            RejectReason.WITHDRAWAL_DELAY_OUT_OF_RANGE,
            f"withdrawalDelayHours must be between 0 and {WITHDRAWAL_DELAY_HOURS_MAX} (60 days), not {command.hours}",
        )
    exists = subaccount.withdrawal_delay_hours is not None
    if command.create and exists:
        return Rejection(
            RejectReason.WITHDRAWAL_DELAY_EXISTS, "A withdrawal delay already exists: change it with PATCH instead"
        )
    if not command.create and not exists:
        return Rejection(
            RejectReason.WITHDRAWAL_DELAY_NOT_FOUND, "No withdrawal delay is set: create one with POST first"
        )
    if command.create:
        changed = replace(subaccount, withdrawal_delay_hours=command.hours)
    else:
        current = delay_hours_at(subaccount, tx.now_ms)
        changed = replace(
            subaccount,
            withdrawal_delay_hours=current,
            pending_withdrawal_delay_hours=command.hours,
            pending_withdrawal_delay_at_ms=tx.now_ms + current * MS_PER_HOUR,
        )
    tx.subaccounts[subaccount.subaccount_id] = changed
    waiting = pending_delay(changed, tx.now_ms)
    tx.emit(
        WithdrawalDelaySet(
            subaccount.subaccount_id,
            delay_hours_at(changed, tx.now_ms),
            None if waiting is None else waiting[0],
            None if waiting is None else waiting[1],
            tx.now_ms,
        )
    )
    return None


def release_due_withdrawals(tx: Transaction, since_ms: int, now_ms: int) -> None:
    """Send every held withdrawal whose release time is in (since_ms, now_ms], in release order."""
    due = [
        (withdrawal.release_ms, index)
        for index in tx.state.pending_withdrawals
        if (withdrawal := tx.state.withdrawals[index]).release_ms is not None
        and since_ms < withdrawal.release_ms <= now_ms
    ]
    for release_ms, index in sorted(due):
        withdrawal = tx.state.withdrawals[index]
        atoms = withdrawal.quantity_atoms
        tx.post(entry(withdrawal.symbol, (PENDING_WITHDRAWALS, -atoms), (WORLD, atoms)))
        tx.emit(WithdrawalReleased(withdrawal.subaccount_id, index, withdrawal.symbol, atoms, release_ms))
