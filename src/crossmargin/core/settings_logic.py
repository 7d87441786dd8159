"""A subaccount's settings: leverage limit, auto-lend, auto-repay and auto-borrow of settlements.

A changed leverage limit is margin-checked (INV-MARGIN-1: one that leaves available margin below
zero is refused); auto settings apply at once (turning auto-lend on lends the idle balances,
turning it off redeems the lends: `auto_lend_off.py`).
While the subaccount is being liquidated only settings that cannot add risk or take balances the
liquidation needs are accepted.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.accounts import LEVERAGE_LIMIT_MAX, LEVERAGE_LIMIT_MIN, Subaccount
from crossmargin.core.auto_lend_off import redeem_all_lends
from crossmargin.core.commands import UpdateSettings
from crossmargin.core.events import SettingsUpdated
from crossmargin.core.funding import apply_auto_settings
from crossmargin.core.limits import is_margin_sufficient
from crossmargin.core.numbers import Ratio
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_subaccount, refuse_while_liquidating


def update_settings(tx: Transaction, command: UpdateSettings) -> Rejection | None:
    """Change settings; a lower leverage limit is margin-checked; auto settings apply at once."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    leverage = command.leverage_limit or subaccount.leverage_limit
    refused = _refuse_risky_settings(subaccount, command, leverage)
    if refused:
        return refused
    if not LEVERAGE_LIMIT_MIN <= leverage <= LEVERAGE_LIMIT_MAX:
        return Rejection(
            RejectReason.LEVERAGE_LIMIT_OUT_OF_RANGE,
            f"Leverage limit must be between {LEVERAGE_LIMIT_MIN} and {LEVERAGE_LIMIT_MAX}",
        )
    updated = replace(
        subaccount,
        leverage_limit=leverage,
        auto_lend=_choose(command.auto_lend, subaccount.auto_lend),
        auto_repay_borrows=_choose(command.auto_repay_borrows, subaccount.auto_repay_borrows),
        auto_borrow_settlements=_choose(command.auto_borrow_settlements, subaccount.auto_borrow_settlements),
    )
    tx.subaccounts[subaccount.subaccount_id] = updated
    if subaccount.auto_lend and not updated.auto_lend:
        refused = redeem_all_lends(tx, subaccount.subaccount_id)
        if refused:
            return refused
    apply_auto_settings(tx, subaccount.subaccount_id)
    # INV-MARGIN-1 covers every leverage change: one that leaves available < 0 is refused,
    # even a raise (which helps, but may not help enough). It is checked once the auto settings
    # have applied, because lending an idle balance rounds its value down by up to an atom.
    if leverage != subaccount.leverage_limit and not is_margin_sufficient(tx, subaccount.subaccount_id):
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"A leverage limit of {leverage}x would leave your available margin below zero: "
            "add collateral or repay borrows first",
        )
    tx.emit(
        SettingsUpdated(
            updated.subaccount_id,
            updated.leverage_limit,
            updated.auto_lend,
            updated.auto_repay_borrows,
            updated.auto_borrow_settlements,
        )
    )
    return None


def _refuse_risky_settings(subaccount: Subaccount, command: UpdateSettings, leverage: Ratio) -> Rejection | None:
    """While liquidating, refuse a setting that could add risk or take balances the liquidation needs."""
    if not subaccount.liquidating:
        return None
    risky = [
        (leverage > subaccount.leverage_limit, "raising the leverage limit"),
        (command.auto_lend is True and not subaccount.auto_lend, "turning auto-lend on"),
        (
            command.auto_borrow_settlements is True and not subaccount.auto_borrow_settlements,
            "turning auto-borrow of settlements on",
        ),
        (command.auto_repay_borrows is False and subaccount.auto_repay_borrows, "turning auto-repay off"),
    ]
    for adds_risk, action in risky:
        if adds_risk:
            return refuse_while_liquidating(subaccount, action)
    return None


def _choose(requested: bool | None, current: bool) -> bool:
    return current if requested is None else requested
