"""Borrow-lend events: movements of a position, entry fees, hourly interest and lenders' losses.

Every borrow-lend movement names its source, so a user can always see why a borrow or lend exists.
Interest and a lend-index cut name a pool, not a subaccount: they move every position of the pool
at once, through its indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from crossmargin.core.ids import PositionId, SubaccountId


class BorrowLendEventType(StrEnum):
    """Backpack's `BorrowLendEventType`."""

    BORROW = "Borrow"
    BORROW_REPAY = "BorrowRepay"
    LEND = "Lend"
    LEND_REDEEM = "LendRedeem"


class BorrowLendSource(StrEnum):
    """Backpack's `BorrowLendSource`: why a movement happened.

    `Reconciliation` marks what a futures settlement did to cover a USDC shortfall (a redeemed
    USDC lend, an auto-borrow of USDC); `SpotMargin` what an order's margin flags did;
    `Liquidation` what a liquidation step repaid or redeemed; `LiquidationBackstop` and
    `BackstopProvider` the two sides of a position the insurance fund took over.
    """

    MANUAL = "Manual"
    AUTO_LEND = "AutoLend"
    AUTO_BORROW_REPAY = "AutoBorrowRepay"
    INTEREST = "Interest"
    WITHDRAWAL = "Withdrawal"
    SPOT_MARGIN = "SpotMargin"
    LIQUIDATION = "Liquidation"
    RECONCILIATION = "Reconciliation"
    LIQUIDATION_BACKSTOP = "LiquidationBackstop"
    BACKSTOP_PROVIDER = "BackstopProvider"
    LIQUIDATION_ADL = "LiquidationAdl"
    ADL_PROVIDER = "AdlProvider"
    DUST_CONVERSION = "DustConversion"


@dataclass(slots=True, init=False, unsafe_hash=True)
class BorrowLendMoved:
    """A borrow, repay, lend or redeem of `quantity_atoms`; the position's value before and after.

    `position_net_before_atoms` and `position_net_atoms` are the position's value (+lend, -debt) at
    the pool's indices of that moment, just before and just after the movement: their difference is
    the exact change the user's position shows, which differs from the quantity by the rounding of
    the scaled amounts (and, for a borrow, by its entry fee, recorded as its own row).
    `balance_change_atoms` is what the movement did to the spot balance: -quantity for a lend or a
    repay, +quantity for a redeem or a borrow, 0 for a position the backstop moved or a debt a
    loss share forgave.
    """

    subaccount_id: Final[SubaccountId]
    symbol: Final[str]
    event_type: Final[BorrowLendEventType]
    source: Final[BorrowLendSource]
    quantity_atoms: Final[int]
    position_id: Final[PositionId]
    position_net_atoms: Final[int]
    position_scaled_after: Final[int]
    at_ms: Final[int]
    position_net_before_atoms: Final[int]
    balance_change_atoms: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        subaccount_id: SubaccountId,
        symbol: str,
        event_type: BorrowLendEventType,
        source: BorrowLendSource,
        quantity_atoms: int,
        position_id: PositionId,
        position_net_atoms: int,
        position_scaled_after: int,
        at_ms: int,
        position_net_before_atoms: int = 0,
        balance_change_atoms: int = 0,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.symbol = symbol
        self.event_type = event_type
        self.source = source
        self.quantity_atoms = quantity_atoms
        self.position_id = position_id
        self.position_net_atoms = position_net_atoms
        self.position_scaled_after = position_scaled_after
        self.at_ms = at_ms
        self.position_net_before_atoms = position_net_before_atoms
        self.balance_change_atoms = balance_change_atoms


@dataclass(slots=True, init=False, unsafe_hash=True)
class EntryFeeCharged:
    """A new borrow paid interest from now to the next full hour, added to its debt.

    Lenders' share of it raised the lend index from `lend_index_before_ray` to
    `lend_index_after_ray`; `movements_before` counts the borrow-lend movements recorded before
    that credit, so each lender's share can be derived exactly (`core/history.py`).
    """

    subaccount_id: Final[SubaccountId]
    symbol: Final[str]
    position_id: Final[PositionId]
    quantity_atoms: Final[int]
    rate_wad: Final[int]
    interval_ms: Final[int]
    at_ms: Final[int]
    lend_index_before_ray: Final[int]
    lend_index_after_ray: Final[int]
    movements_before: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        subaccount_id: SubaccountId,
        symbol: str,
        position_id: PositionId,
        quantity_atoms: int,
        rate_wad: int,
        interval_ms: int,
        at_ms: int,
        lend_index_before_ray: int = 0,
        lend_index_after_ray: int = 0,
        movements_before: int = 0,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.symbol = symbol
        self.position_id = position_id
        self.quantity_atoms = quantity_atoms
        self.rate_wad = rate_wad
        self.interval_ms = interval_ms
        self.at_ms = at_ms
        self.lend_index_before_ray = lend_index_before_ray
        self.lend_index_after_ray = lend_index_after_ray
        self.movements_before = movements_before


@dataclass(frozen=True, slots=True)
class InterestCharged:
    """One pool's hourly interest: what borrowers paid, lenders got and the exchange kept."""

    symbol: str
    hour_ms: int
    borrow_rate_wad: int
    lend_rate_wad: int
    borrowers_atoms: int
    lenders_atoms: int
    fee_atoms: int


@dataclass(frozen=True, slots=True)
class LendIndexCut:
    """Lenders of a pool bore a loss: the lend index fell (INV-POOL-2's recorded exception).

    `movements_before` counts the borrow-lend movements recorded before the cut, so the interest
    history can tell which lends it hit even among movements of the same millisecond.
    """

    symbol: str
    lend_index_before_ray: int
    lend_index_after_ray: int
    loss_atoms: int
    debt_forgiven_atoms: int
    at_ms: int
    movements_before: int
