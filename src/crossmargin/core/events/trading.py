"""Trading events: orders, fills, perp positions, settlements, funding and shortfalls.

An order or a position event carries the whole object after the change; a settlement names the
USDC it moved, signed (+ is credit). Perp marks are set by the 10-second refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.orders import Fill, Order
from crossmargin.core.perps import PerpPosition


class SettlementSource(StrEnum):
    """Backpack's `SettlementSource` (the ones we produce)."""

    TRADING_FEES = "TradingFees"
    TRADING_FEES_SYSTEM = "TradingFeesSystem"
    FUNDING_PAYMENT = "FundingPayment"
    REALIZE_PNL = "RealizePnl"


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order was placed, filled (partly or fully), cancelled or expired: its state after."""

    order: Order
    at_ms: int


@dataclass(frozen=True, slots=True)
class Traded:
    """A fill between a maker and a taker."""

    fill: Fill


@dataclass(frozen=True, slots=True)
class PerpPositionChanged:
    """A perp position changed size by a trade: its state after."""

    position: PerpPosition
    at_ms: int


class Settled(NamedTuple):
    """USDC moved by a settlement: realized PnL, trading fees or funding (signed, + is credit).

    A NamedTuple rather than a frozen dataclass: a settlement pass makes one per moved position.
    """

    subaccount_id: SubaccountId
    market: str
    source: SettlementSource
    quantity_atoms: int
    position_id: PositionId
    at_ms: int


@dataclass(frozen=True, slots=True)
class FundingPaid:
    """An hourly funding payment of one position (signed, + is received), pending settlement."""

    subaccount_id: SubaccountId
    market: str
    rate_wad: int
    quantity_atoms: int
    interval_end_ms: int


@dataclass(frozen=True, slots=True)
class Conversion:
    """Collateral sold on the book for USDC to cover a shortfall."""

    symbol: str
    quantity_atoms: int
    proceeds_atoms: int


@dataclass(frozen=True, slots=True)
class ShortfallCovered:
    """A settlement left a USDC balance short; how it was covered, in the order the rules apply."""

    subaccount_id: SubaccountId
    symbol: str
    short_atoms: int
    redeemed_atoms: int
    borrowed_atoms: int
    conversions: tuple[Conversion, ...]
    uncovered_atoms: int
    auto_borrow_settlements: bool
    at_ms: int


@dataclass(frozen=True, slots=True)
class PerpMarksSet:
    """Perp mark prices were refreshed (median of index, best bid and best ask)."""

    marks_wad: tuple[tuple[str, int], ...]
    at_ms: int
