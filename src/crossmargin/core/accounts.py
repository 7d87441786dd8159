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
from typing import Final

from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.numbers import WAD, Ratio

LEVERAGE_LIMIT_DEFAULT = Ratio(10 * WAD)
LEVERAGE_LIMIT_MIN = Ratio(1 * WAD)
LEVERAGE_LIMIT_MAX = Ratio(100 * WAD)
ACCOUNT_BORROW_LIMIT_DEFAULT_WAD = 2_500_000 * WAD
"""Backpack's default account-wide borrow limit (its `GET /api/v1/account` figure), USD, WAD."""
ACCOUNT_POSITION_LIMIT_DEFAULT_WAD = 2_500_000 * WAD
"""Backpack's default account-wide position limit, USD of perp notional, WAD."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class Subaccount:
    """One cross-margin account and its settings."""

    subaccount_id: Final[SubaccountId]
    account_id: Final[AccountId]
    leverage_limit: Final[Ratio]
    auto_lend: Final[bool]
    auto_repay_borrows: Final[bool]
    auto_borrow_settlements: Final[bool]
    api_keys: Final[tuple[str, ...]]
    liquidating: Final[bool]
    withdrawal_delay_hours: Final[int | None]
    """The withdrawal delay set with `SetWithdrawalDelay` (None: never set); see `withdrawal_delay.py`."""
    pending_withdrawal_delay_hours: Final[int | None]
    pending_withdrawal_delay_at_ms: Final[int | None]
    borrow_limit_wad: Final[int]
    position_limit_wad: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        subaccount_id: SubaccountId,
        account_id: AccountId,
        leverage_limit: Ratio = LEVERAGE_LIMIT_DEFAULT,
        auto_lend: bool = False,
        auto_repay_borrows: bool = False,
        auto_borrow_settlements: bool = True,
        api_keys: tuple[str, ...] = (),
        liquidating: bool = False,
        withdrawal_delay_hours: int | None = None,
        pending_withdrawal_delay_hours: int | None = None,
        pending_withdrawal_delay_at_ms: int | None = None,
        borrow_limit_wad: int = ACCOUNT_BORROW_LIMIT_DEFAULT_WAD,
        position_limit_wad: int = ACCOUNT_POSITION_LIMIT_DEFAULT_WAD,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.account_id = account_id
        self.leverage_limit = leverage_limit
        self.auto_lend = auto_lend
        self.auto_repay_borrows = auto_repay_borrows
        self.auto_borrow_settlements = auto_borrow_settlements
        self.api_keys = api_keys
        self.liquidating = liquidating
        self.withdrawal_delay_hours = withdrawal_delay_hours
        self.pending_withdrawal_delay_hours = pending_withdrawal_delay_hours
        self.pending_withdrawal_delay_at_ms = pending_withdrawal_delay_at_ms
        self.borrow_limit_wad = borrow_limit_wad
        self.position_limit_wad = position_limit_wad

    def with_liquidating(self, liquidating: bool) -> Subaccount:
        """Return this subaccount with `liquidating` set (built directly: `dataclasses.replace` is interpreted)."""
        return Subaccount(
            self.subaccount_id,
            self.account_id,
            self.leverage_limit,
            self.auto_lend,
            self.auto_repay_borrows,
            self.auto_borrow_settlements,
            self.api_keys,
            liquidating,
            self.withdrawal_delay_hours,
            self.pending_withdrawal_delay_hours,
            self.pending_withdrawal_delay_at_ms,
            self.borrow_limit_wad,
            self.position_limit_wad,
        )


@dataclass(slots=True, init=False, unsafe_hash=True)
class Position:
    """A subaccount's borrow-lend position in one asset: a lend or a borrow."""

    position_id: Final[PositionId]
    subaccount_id: Final[SubaccountId]
    symbol: Final[str]
    lend_scaled: Final[int]
    debt_scaled: Final[int]
    principal_atoms: Final[int]

    def __init__(
        self,
        position_id: PositionId,
        subaccount_id: SubaccountId,
        symbol: str,
        lend_scaled: int = 0,
        debt_scaled: int = 0,
        principal_atoms: int = 0,
    ) -> None:
        self.position_id = position_id
        self.subaccount_id = subaccount_id
        self.symbol = symbol
        self.lend_scaled = lend_scaled
        self.debt_scaled = debt_scaled
        self.principal_atoms = principal_atoms
        assert lend_scaled >= 0, "scaled amounts are non-negative"
        assert debt_scaled >= 0, "scaled amounts are non-negative"
        assert lend_scaled == 0 or debt_scaled == 0, "INV-POSITION-1: a position never both lends and borrows one asset"

    def moved(self, lend_scaled: int, debt_scaled: int, principal_atoms: int) -> Position:
        """Return this position with new scaled amounts and principal (built directly, not by `replace`)."""
        return Position(self.position_id, self.subaccount_id, self.symbol, lend_scaled, debt_scaled, principal_atoms)

    @property
    def is_empty(self) -> bool:
        """Return whether nothing is lent or owed."""
        return self.lend_scaled == 0 and self.debt_scaled == 0
