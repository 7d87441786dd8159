"""The insurance fund: a subaccount the engine owns, fed by liquidation fees, that backstops losses.

The fund is subaccount 0 in account 0, outside the id counters, created the first time a
liquidation or a deposit needs it (so an engine that never liquidates has no such subaccount).
The operator may top it up with an ordinary deposit (`POST /admin/v1/deposits` with
`subaccountId` 0). It has no API key, never lends or auto-borrows by itself, and is never
liquidated: when a takeover leaves its value below zero, the loss is shared instead
(`loss_sharing.py`). Its *value* is unweighted: everything it holds at mark, minus everything it
owes at mark, plus its unsettled perp PnL (collateral weights are a margin rule, not a loss).
"""

from __future__ import annotations

from typing import Final

from crossmargin.core.accounts import Subaccount
from crossmargin.core.ids import INSURANCE_ACCOUNT_ID, INSURANCE_FUND_ID
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.transaction import Transaction

# The fund's ids live in `ids.py` (events name the fund without importing this module); they are
# exported from here too, where they have always been read.
__all__ = [
    "INSURANCE_ACCOUNT_ID",
    "INSURANCE_FUND_ID",
    "LOSS_DUST_WAD",
    "ensure_insurance_fund",
    "fund_has_loss_to_share",
    "fund_value_wad",
]

LOSS_DUST_WAD: Final = 10**12
"""One micro-dollar: a deficit this small is rounding left by a lend-index cut, not a loss to share again."""


def ensure_insurance_fund(tx: Transaction) -> Subaccount:
    """Return the insurance fund's subaccount, creating it in `tx` if it does not exist yet."""
    found = tx.subaccount(INSURANCE_FUND_ID)
    if found is not None:
        return found
    fund = Subaccount(INSURANCE_FUND_ID, INSURANCE_ACCOUNT_ID, auto_borrow_settlements=False)
    tx.accounts[INSURANCE_ACCOUNT_ID] = [INSURANCE_FUND_ID]
    tx.subaccounts[INSURANCE_FUND_ID] = fund
    return fund


def fund_value_wad(tx: Transaction) -> int:
    """Return the fund's value in USD (WAD): holdings at mark, minus debts at mark, plus unsettled PnL."""
    summary = compute_subaccount_margin(tx, ensure_insurance_fund(tx))
    held = sum(line.balance_notional_wad for line in summary.assets)
    return held + summary.unsettled_wad - summary.borrow_liability_wad


def fund_has_loss_to_share(tx: Transaction) -> bool:
    """Return whether the fund exists and is worth less than zero by more than rounding dust."""
    return tx.subaccount(INSURANCE_FUND_ID) is not None and fund_value_wad(tx) < -LOSS_DUST_WAD
