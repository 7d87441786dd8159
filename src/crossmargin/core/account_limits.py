"""Account-wide limits: Backpack's `borrowLimit` and `positionLimit` of `GET /api/v1/account`, enforced.

Each subaccount carries two limits in USD (WAD), Backpack's default 2,500,000 each until the
operator sets others (`SetAccountLimits`, `PATCH /admin/v1/subaccounts/{id}/limits`; Backpack's
`PATCH /api/v1/account` does not take them, so users cannot). The **borrow limit** bounds the value
of everything the subaccount owes (each debt at its asset's mark, rounded up); the **position
limit** the notional of its perp positions (|quantity| x mark x the quote's USD price, rounded up).
A voluntary action (an order, a borrow, a withdrawal) that ends above a limit is refused, with
Backpack's `BORROW_LIMIT` or `POSITION_LIMIT`, unless it lowers the figure: a subaccount a price
move has carried above its limit may still reduce. Liquidations, settlements and the engine's own
orders are not voluntary and are never refused by these limits.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.collateral import value_up
from crossmargin.core.commands import SetAccountLimits
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, format_scaled, mul_div_up
from crossmargin.core.pools import debt_atoms
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_subaccount

ACCOUNT_LIMIT_MAX_WAD = 10**15 * WAD
"""The largest limit the operator may set: a quadrillion USD (every real account is far below it)."""


def borrow_value_wad(tx: Transaction, subaccount_id: SubaccountId) -> int:
    """Return the USD value of everything a subaccount owes, each debt at its mark, rounded up."""
    total = 0
    for symbol in tx.held_symbols(subaccount_id):
        position = tx.position(subaccount_id, symbol)  # the debt alone: not the whole holding's balances
        if position is not None and position.debt_scaled:
            spec = tx.spec(symbol)
            assert spec is not None, "held assets are listed"
            debt = debt_atoms(position.debt_scaled, tx.pool(symbol).borrow_index_ray)
            total += value_up(debt, tx.mark_price(symbol), spec.unit_atoms)
    return total


def position_value_wad(tx: Transaction, subaccount_id: SubaccountId) -> int:
    """Return the USD notional of a subaccount's perp positions at their marks, rounded up."""
    total = 0
    for position in tx.subaccount_perp_positions(subaccount_id):
        spec = tx.market(position.market)
        assert spec is not None, "positions belong to listed markets"
        quote_usd = tx.mark_price(spec.quote)
        total += mul_div_up(
            abs(position.quantity_atoms) * tx.perp_mark(spec.symbol), quote_usd, spec.base_unit_atoms * WAD
        )
    return total


def check_account_limits(tx: Transaction, trial: Transaction, subaccount_id: SubaccountId) -> Rejection | None:
    """Refuse an action that leaves the subaccount above a limit and the figure higher than before."""
    subaccount = trial.subaccount(subaccount_id)
    assert subaccount is not None, "limits are checked for an existing subaccount"
    # `trial` is a child of `tx`: a figure whose inputs it did not write is unchanged, and not read.
    checks = (
        (
            bool(trial.positions),
            borrow_value_wad,
            subaccount.borrow_limit_wad,
            RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED,
            "borrows",
            "borrow",
        ),
        (
            bool(trial.perp_positions),
            position_value_wad,
            subaccount.position_limit_wad,
            RejectReason.ACCOUNT_POSITION_LIMIT_EXCEEDED,
            "perp positions",
            "position",
        ),
    )
    for changed, value, limit, reason, what, name in checks:
        if not changed:
            continue
        after = value(trial, subaccount_id)
        if after > limit and after > value(tx, subaccount_id):
            return Rejection(
                reason,
                f"Your {what} would be worth {format_scaled(after, 18)} USD, above your account's {name} limit "
                f"of {format_scaled(limit, 18)} USD: reduce them first, or ask the operator for a higher limit",
            )
    return None


def set_account_limits(tx: Transaction, command: SetAccountLimits) -> Rejection | None:
    """Set a subaccount's account-wide limits (the operator's command); `None` keeps a limit."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    borrow = subaccount.borrow_limit_wad if command.borrow_limit_wad is None else command.borrow_limit_wad
    position = subaccount.position_limit_wad if command.position_limit_wad is None else command.position_limit_wad
    for limit in (borrow, position):
        if not 0 <= limit <= ACCOUNT_LIMIT_MAX_WAD:
            return Rejection(
                RejectReason.QUANTITY_ABOVE_MAXIMUM,
                f"An account limit is between 0 and {format_scaled(ACCOUNT_LIMIT_MAX_WAD, 18)} USD",
            )
    tx.subaccounts[subaccount.subaccount_id] = replace(subaccount, borrow_limit_wad=borrow, position_limit_wad=position)
    return None
