"""Deposits, withdrawals and transfers: funds entering, leaving and moving between subaccounts.

A deposit is always accepted (then auto-repay and auto-lend apply). A withdrawal and a transfer
out are funded from the spot balance, redeeming lends and borrowing what is lacking where the
command or the subaccount's settings allow, in a what-if transaction; they are refused if they
would leave the sender's available margin below zero or add risk valued by a stale price, and a
subaccount being liquidated may not send funds out. Transfers stay inside one account.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.account_limits import check_account_limits
from crossmargin.core.accounts import Subaccount
from crossmargin.core.assets import AssetSpec, describe
from crossmargin.core.commands import Deposit, Transfer, Withdraw
from crossmargin.core.events import Deposited, Transferred, Withdrew
from crossmargin.core.funding import apply_auto_settings, fund_outflow
from crossmargin.core.insurance import INSURANCE_FUND_ID, ensure_insurance_fund
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.ledger import PENDING_WITHDRAWALS, WORLD, entry, spot
from crossmargin.core.limits import is_margin_sufficient, refuse_new_risk_on_stale_prices
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_asset, find_subaccount, refuse_while_liquidating
from crossmargin.core.withdrawal_delay import delay_hours_at


def deposit(tx: Transaction, command: Deposit) -> Rejection | None:
    """Credit a deposit, then apply auto-repay and auto-lend (a deposit to subaccount 0 funds the insurance fund)."""
    if command.subaccount_id == INSURANCE_FUND_ID:
        ensure_insurance_fund(tx)
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    spec = find_asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    if isinstance(spec, Rejection):
        return spec
    atoms = command.quantity_atoms
    if atoms - tx.balance(WORLD, spec.symbol) > AMOUNT_ATOMS_MAX:
        return Rejection(
            RejectReason.QUANTITY_ABOVE_MAXIMUM,
            f"Deposits of {spec.symbol} would exceed the most the engine holds of one asset: 2^127 - 1 atoms",
        )
    tx.post(entry(spec.symbol, (spot(command.subaccount_id), atoms), (WORLD, -atoms)))
    tx.emit(Deposited(command.subaccount_id, spec.symbol, atoms, tx.now_ms))
    apply_auto_settings(tx, command.subaccount_id)
    return None


def withdraw(tx: Transaction, command: Withdraw) -> Rejection | None:
    """Send funds out, redeeming and borrowing as allowed; margin-checked."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    refused = refuse_while_liquidating(subaccount, "a withdrawal")
    if refused:
        return refused
    spec = find_asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    if isinstance(spec, Rejection):
        return spec
    trial = Transaction(tx, tx.now_ms)
    refused = fund_outflow(
        trial,
        command.subaccount_id,
        spec,
        command.quantity_atoms,
        auto_borrow=command.auto_borrow,
        auto_lend_redeem=command.auto_lend_redeem or subaccount.auto_lend,
    )
    if refused:
        return replace(refused, message=f"Withdrawal refused: {refused.message}")
    delay_hours = delay_hours_at(subaccount, tx.now_ms)
    release_ms = tx.now_ms + delay_hours * MS_PER_HOUR if delay_hours else None
    # A delayed withdrawal leaves the subaccount now and the exchange at its release (withdrawal_delay.py).
    outside = PENDING_WITHDRAWALS if delay_hours else WORLD
    trial.post(
        entry(spec.symbol, (spot(command.subaccount_id), -command.quantity_atoms), (outside, command.quantity_atoms))
    )
    refused = _check_withdrawal_margin(tx, trial, command)
    if refused:
        return refused
    trial.emit(
        Withdrew(
            command.subaccount_id,
            spec.symbol,
            command.quantity_atoms,
            tx.now_ms,
            command.address,
            command.blockchain,
            command.client_id,
            release_ms,
        )
    )
    trial.commit()
    return None


def _check_withdrawal_margin(tx: Transaction, trial: Transaction, command: Withdraw) -> Rejection | None:
    """Refuse a withdrawal leaving available margin below zero, or valued by a stale price."""
    if not is_margin_sufficient(trial, command.subaccount_id):
        # `engine.execute` and `engine.preview` add ": max withdrawal is X"; the max search's own
        # probes, which run this very handler, leave it out.
        return Rejection(RejectReason.MARGIN_INSUFFICIENT, "Withdrawal would leave your available margin below zero")
    return refuse_new_risk_on_stale_prices(tx, trial, command.subaccount_id) or check_account_limits(
        tx, trial, command.subaccount_id
    )


def _transfer_parties(tx: Transaction, command: Transfer) -> tuple[Subaccount, Subaccount, AssetSpec] | Rejection:
    source = find_subaccount(tx, command.source_subaccount_id)
    target = find_subaccount(tx, command.target_subaccount_id)
    if isinstance(source, Rejection):
        return source
    if isinstance(target, Rejection):
        return target
    if source.subaccount_id == target.subaccount_id:
        return Rejection(RejectReason.TRANSFER_TO_SELF, "A transfer needs two different subaccounts")
    if source.account_id != target.account_id:
        return Rejection(
            RejectReason.TRANSFER_BETWEEN_ACCOUNTS,
            f"Subaccounts {source.subaccount_id} and {target.subaccount_id} belong to different accounts",
        )
    spec = find_asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    return spec if isinstance(spec, Rejection) else (source, target, spec)


def transfer(tx: Transaction, command: Transfer) -> Rejection | None:
    """Move funds between subaccounts of one account; margin-checked on the sender."""
    parties = _transfer_parties(tx, command)
    if isinstance(parties, Rejection):
        return parties
    source, target, spec = parties
    refused = refuse_while_liquidating(source, "a transfer out")
    if refused:
        return refused
    trial = Transaction(tx, tx.now_ms)
    atoms = command.quantity_atoms
    refused = fund_outflow(
        trial, source.subaccount_id, spec, atoms, auto_borrow=False, auto_lend_redeem=source.auto_lend
    )
    if refused:
        return replace(refused, message=f"Transfer refused: {refused.message}")
    trial.post(entry(spec.symbol, (spot(source.subaccount_id), -atoms), (spot(target.subaccount_id), atoms)))
    if not is_margin_sufficient(trial, source.subaccount_id):
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"Transfer of {describe(spec, atoms)} would leave subaccount {source.subaccount_id}'s "
            "available margin below zero",
        )
    refused = refuse_new_risk_on_stale_prices(tx, trial, source.subaccount_id)
    if refused:
        return refused
    trial.emit(Transferred(source.subaccount_id, target.subaccount_id, spec.symbol, atoms, tx.now_ms))
    apply_auto_settings(trial, target.subaccount_id)
    trial.commit()
    return None
