"""Turning auto-lend off redeems what the subaccount lends, so its balances are available again.

With auto-lend on, every idle balance is lent (`funding.apply_auto_settings`) and an order or a
withdrawal redeems what it needs on its own. Turned off, that redemption stops; a lend left in
place would make the next order or withdrawal fail with "available balance of 0 ... allow
autoLendRedeem". So turning auto-lend off redeems every lend of the subaccount in full, with the
interest it has earned (the whole claim, so no share is left behind), source `AutoLend`. While
auto-lend was on, a lend made by hand is indistinguishable from one auto-lend would have made, so
all lends are redeemed; a user who wants to keep lending lends again by hand. If a pool cannot
pay a claim now (its liquidity is borrowed, or the redemption would pass its utilization limit),
the change is refused and changes nothing, saying which pool and how to go on.
"""

from __future__ import annotations

from crossmargin.core.borrow_lend import redeem
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def redeem_all_lends(tx: Transaction, subaccount_id: SubaccountId) -> Rejection | None:
    """Redeem every lend of a subaccount in full, in symbol order; refuse if a pool cannot pay one."""
    for symbol in sorted(tx.held_symbols(subaccount_id)):
        claim = tx.holding(subaccount_id, symbol).lend_atoms
        if not claim:
            continue
        spec = tx.spec(symbol)
        assert spec is not None, "held assets are listed"
        refused = redeem(tx, subaccount_id, spec, claim, BorrowLendSource.AUTO_LEND)
        if refused:
            return Rejection(
                RejectReason.AUTO_LEND_OFF_NEEDS_REDEEM,
                f"Turning auto-lend off redeems what you lend, but {refused.message}. Keep auto-lend on "
                f"and redeem what the {symbol} pool can pay now (POST /api/v1/borrowLend, side Redeem), "
                "or try again once borrowers have repaid",
            )
    return None
