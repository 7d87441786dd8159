"""Accounts, subaccounts and borrow-lend positions.

An account owns one or more subaccounts; each subaccount is one cross-margin account with its
own settings (its account-wide borrow and position limits, in USD, are set by the operator:
`account_limits.py`); `liquidating` is set while a liquidation is under way (only actions that improve
the account are accepted then). Per asset a subaccount has at most one borrow-lend position, which is either a lend
(scaled lend > 0) or a borrow (scaled debt > 0), never both. `principal_atoms` is what was put in
(lend) or taken out (borrow) net of redemptions and repayments, so the position's cumulative
interest is its value minus its principal. Spot balances live in the ledger, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.numbers import WAD, Ratio

LEVERAGE_LIMIT_DEFAULT = Ratio(10 * WAD)
LEVERAGE_LIMIT_MIN = Ratio(1 * WAD)
LEVERAGE_LIMIT_MAX = Ratio(100 * WAD)
ACCOUNT_BORROW_LIMIT_DEFAULT_WAD = 2_500_000 * WAD
"""Backpack's default account-wide borrow limit (its `GET /api/v1/account` figure), USD, WAD."""
ACCOUNT_POSITION_LIMIT_DEFAULT_WAD = 2_500_000 * WAD
"""Backpack's default account-wide position limit, USD of perp notional, WAD."""


@dataclass(frozen=True, slots=True)
class Subaccount:
    """One cross-margin account and its settings."""

    subaccount_id: SubaccountId
    account_id: AccountId
    leverage_limit: Ratio = LEVERAGE_LIMIT_DEFAULT
    auto_lend: bool = False
    auto_repay_borrows: bool = False
    auto_borrow_settlements: bool = True
    api_keys: tuple[str, ...] = ()
    liquidating: bool = False
    withdrawal_delay_hours: int | None = None
    """The withdrawal delay set with `SetWithdrawalDelay` (None: never set); see `withdrawal_delay.py`."""
    pending_withdrawal_delay_hours: int | None = None
    pending_withdrawal_delay_at_ms: int | None = None
    borrow_limit_wad: int = ACCOUNT_BORROW_LIMIT_DEFAULT_WAD
    position_limit_wad: int = ACCOUNT_POSITION_LIMIT_DEFAULT_WAD


@dataclass(frozen=True, slots=True)
class Position:
    """A subaccount's borrow-lend position in one asset: a lend or a borrow."""

    position_id: PositionId
    subaccount_id: SubaccountId
    symbol: str
    lend_scaled: int = 0
    debt_scaled: int = 0
    principal_atoms: int = 0

    def __post_init__(self) -> None:
        assert self.lend_scaled >= 0, "scaled amounts are non-negative"
        assert self.debt_scaled >= 0, "scaled amounts are non-negative"
        assert self.lend_scaled == 0 or self.debt_scaled == 0, (
            "INV-POSITION-1: a position never both lends and borrows one asset"
        )

    def moved(self, lend_scaled: int, debt_scaled: int, principal_atoms: int) -> Position:
        """Return this position with new scaled amounts and principal (built directly, not by `replace`)."""
        return Position(self.position_id, self.subaccount_id, self.symbol, lend_scaled, debt_scaled, principal_atoms)

    @property
    def is_empty(self) -> bool:
        """Return whether nothing is lent or owed."""
        return self.lend_scaled == 0 and self.debt_scaled == 0
