"""Auto-lend, auto-repay and funding an outflow: the policies that move money on a user's behalf.

With `autoRepayBorrows`, incoming balance repays the borrow of its asset; with `autoLend`, every
idle balance repays borrows and the rest is lent. An outflow (withdrawal, transfer) that the spot
balance cannot cover redeems lends (if allowed) and then borrows (if allowed). Assets are visited
in symbol order so the outcome never depends on hash order.
"""

from __future__ import annotations

from crossmargin.core.assets import AssetSpec, PoolState, describe
from crossmargin.core.borrow_lend import borrow, lend, redeem, repay
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import spot
from crossmargin.core.pools import scaled_lend_to_mint
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def apply_auto_settings(tx: Transaction, subaccount_id: SubaccountId, cause: BorrowLendSource | None = None) -> None:
    """Repay borrows from idle balances and lend the rest, as the subaccount's settings ask.

    The movements' source is the setting (`AutoLend`, `AutoBorrowRepay`) unless a `cause` is
    given: a liquidation's trades record what the settings do with their proceeds as `Liquidation`.
    """
    subaccount = tx.subaccount(subaccount_id)
    assert subaccount is not None, "auto settings apply to an existing subaccount"
    if not (subaccount.auto_lend or subaccount.auto_repay_borrows):
        return
    source = cause or (BorrowLendSource.AUTO_LEND if subaccount.auto_lend else BorrowLendSource.AUTO_BORROW_REPAY)
    for symbol in sorted(tx.held_symbols(subaccount_id)):
        spec = tx.spec(symbol)
        assert spec is not None, "held assets are listed"
        holding = tx.holding(subaccount_id, symbol)
        if holding.spot_atoms > 0 and holding.debt_atoms:
            refused = repay(tx, subaccount_id, spec, min(holding.spot_atoms, holding.debt_atoms), source)
            assert refused is None, "a repay within the spot balance always succeeds"
        idle = tx.balance(spot(subaccount_id), symbol)
        if subaccount.auto_lend and idle and spec.pool_state is PoolState.OPEN:
            pool = tx.pool(symbol)
            room = spec.open_borrow_lend_limit_atoms - pool.lent_atoms
            # Dust too small to buy a share of the pool stays idle rather than being lost to rounding.
            if min(idle, room) > 0 and scaled_lend_to_mint(min(idle, room), pool.lend_index_ray) > 0:
                refused = lend(tx, subaccount_id, spec, min(idle, room), cause or BorrowLendSource.AUTO_LEND)
                assert refused is None, "an auto-lend within balance and limit always succeeds"


def fund_outflow(
    tx: Transaction,
    subaccount_id: SubaccountId,
    spec: AssetSpec,
    atoms: int,
    *,
    auto_borrow: bool,
    auto_lend_redeem: bool,
    source: BorrowLendSource = BorrowLendSource.WITHDRAWAL,
) -> Rejection | None:
    """Make `atoms` of spot balance available for an outflow, redeeming then borrowing if allowed."""
    symbol = spec.symbol
    holding = tx.holding(subaccount_id, symbol)
    short = atoms - holding.spot_atoms
    if short > 0 and auto_lend_redeem and holding.lend_atoms:
        refused = redeem(tx, subaccount_id, spec, min(short, holding.lend_atoms), source)
        if refused:
            return refused
        holding = tx.holding(subaccount_id, symbol)
        short = atoms - holding.spot_atoms
    if short > 0 and auto_borrow:
        if holding.lend_atoms:
            return Rejection(
                RejectReason.BORROW_REQUIRES_LEND_REDEEM,
                f"You lend {describe(spec, holding.lend_atoms)}: redeem it (autoLendRedeem) before borrowing {symbol}",
            )
        return borrow(tx, subaccount_id, spec, short, source)
    if short > 0:
        hint = " (more is lent: allow autoLendRedeem to use it)" if holding.lend_atoms else ""
        return Rejection(
            RejectReason.BALANCE_INSUFFICIENT,
            f"{describe(spec, atoms)} exceeds your available balance of {describe(spec, holding.spot_atoms)}{hint}",
        )
    return None
