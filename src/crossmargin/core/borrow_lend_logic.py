"""Backpack's `POST /api/v1/borrowLend`: one command that borrows, lends, repays or redeems.

A side nets against the opposite position first, as on Backpack: `Lend` with a debt repays it
(at most the debt, or all of it when the quantity is within one step above it), `Borrow` with a
lend redeems it the same way; only without an opposite position does `Lend` lend and `Borrow`
borrow. `whole_position` moves the whole opposite position, to the atom (repay all, redeem all).
Manual movements need auto-lend off, a borrow is margin-checked on the what-if state, and a
subaccount being liquidated may only repay.
"""

from __future__ import annotations

from crossmargin.core.account_limits import check_account_limits
from crossmargin.core.accounts import Subaccount
from crossmargin.core.assets import AssetSpec, describe
from crossmargin.core.borrow_lend import borrow, lend, redeem, repay
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.limits import is_margin_sufficient, refuse_new_risk_on_stale_prices
from crossmargin.core.margin import Holding
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_asset, find_subaccount, refuse_while_liquidating


def execute_borrow_lend(tx: Transaction, command: ExecuteBorrowLend) -> Rejection | None:
    """Borrow or lend, netting against an opposite position (Backpack's POST /borrowLend)."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    spec = find_asset(tx, command.symbol, command.quantity_atoms, stepped=not command.whole_position)
    if isinstance(spec, Rejection):
        return spec
    holding = tx.holding(subaccount.subaccount_id, spec.symbol)
    if command.whole_position:
        return _move_whole_position(tx, subaccount, spec, command, holding)
    if command.side is BorrowLendSide.LEND:
        return _lend_side(tx, subaccount, spec, command.quantity_atoms, holding.debt_atoms)
    return _borrow_side(tx, subaccount, spec, command.quantity_atoms, holding.lend_atoms)


def _lend_side(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, asked: int, debt: int) -> Rejection | None:
    if debt:
        return _repay_by_lend(tx, subaccount, spec, asked, debt)
    # Lending locks away a balance the liquidation may need to repay debts with.
    refused = refuse_while_liquidating(subaccount, "lending")
    if refused:
        return refused
    return lend(tx, subaccount.subaccount_id, spec, asked, BorrowLendSource.MANUAL)


def _move_whole_position(
    tx: Transaction, subaccount: Subaccount, spec: AssetSpec, command: ExecuteBorrowLend, holding: Holding
) -> Rejection | None:
    """Repay the whole debt (side Lend) or redeem the whole lend (side Borrow), at most `quantity_atoms`."""
    repaying = command.side is BorrowLendSide.LEND
    whole = holding.debt_atoms if repaying else holding.lend_atoms
    what = "debt" if repaying else "lend"
    if not whole:
        return Rejection(
            RejectReason.POSITION_NOT_FOUND,
            f"You have no {spec.symbol} {what} to {'repay' if repaying else 'redeem'} whole",
        )
    if whole > command.quantity_atoms:
        return Rejection(
            RejectReason.WHOLE_POSITION_ABOVE_QUANTITY,
            f"Your {what} of {describe(spec, whole)} is more than the most you allowed to move, "
            f"{describe(spec, command.quantity_atoms)}",
        )
    if repaying:
        return _repay_by_lend(tx, subaccount, spec, whole, whole)
    return _borrow_side(tx, subaccount, spec, whole, whole)


def _borrow_side(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, asked: int, lent: int) -> Rejection | None:
    refused = refuse_while_liquidating(subaccount, "borrowing or redeeming")
    if refused:
        return refused
    if subaccount.auto_lend:
        return Rejection(
            RejectReason.AUTO_LEND_MUST_BE_OFF,
            "Auto-lend is on: turn it off to borrow or redeem manually "
            "(with auto-lend on, idle balances are lent again at once)",
        )
    if not lent:
        return _borrow_checked(tx, subaccount, spec, asked)
    atoms = _within_step(asked, lent, spec)
    if atoms is None:
        return Rejection(
            RejectReason.BORROW_REQUIRES_LEND_REDEEM,
            f"You lend {describe(spec, lent)}: redeem it first (Borrow at most that much), then borrow",
        )
    return redeem(tx, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)


def _within_step(asked: int, whole: int, spec: AssetSpec) -> int | None:
    """Return the amount to move when `asked` is meant against `whole`: all of it within a step."""
    if asked <= whole:
        return asked
    return whole if asked - whole < spec.step_atoms else None


def _repay_by_lend(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, asked: int, debt: int) -> Rejection | None:
    if subaccount.auto_lend:
        return Rejection(
            RejectReason.AUTO_LEND_MUST_BE_OFF,
            "Auto-lend is on: it repays borrows by itself; turn it off to repay manually",
        )
    atoms = _within_step(asked, debt, spec)
    if atoms is None:
        return Rejection(
            RejectReason.LEND_REQUIRES_BORROW_REPAY,
            f"You owe {describe(spec, debt)}: repay it first (Lend at most that much), then lend",
        )
    return repay(tx, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)


def _borrow_checked(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, atoms: int) -> Rejection | None:
    trial = Transaction(tx, tx.now_ms)
    refused = borrow(trial, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)
    if refused:
        return refused
    if not is_margin_sufficient(trial, subaccount.subaccount_id):
        # `engine.execute` and `engine.preview` add ": max borrowable is X"; the max search's own
        # probes, which run this very handler, leave it out.
        return Rejection(RejectReason.MARGIN_INSUFFICIENT, "Borrow would exceed your available margin")
    refused = refuse_new_risk_on_stale_prices(tx, trial, subaccount.subaccount_id) or check_account_limits(
        tx, trial, subaccount.subaccount_id
    )
    if refused:
        return refused
    trial.commit()
    return None
