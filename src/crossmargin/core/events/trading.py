"""Trading events: orders, fills, perp positions, settlements, funding and shortfalls.

An order or a position event carries the whole object after the change. A settlement pass is one
`PositionsSettled` per perp market, which stands for one `Settled` row (the USDC moved, signed, + is
credit) per position and amount, expanded on read. Perp marks are set by the 10-second refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from crossmargin.core.fills import Fill
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.orders import Order
from crossmargin.core.perps import PerpPosition


class SettlementSource(StrEnum):
    """Backpack's `SettlementSource` (the ones we produce)."""

    TRADING_FEES = "TradingFees"
    TRADING_FEES_SYSTEM = "TradingFeesSystem"
    FUNDING_PAYMENT = "FundingPayment"
    REALIZE_PNL = "RealizePnl"


@dataclass(slots=True, init=False, unsafe_hash=True)
class OrderChanged:
    """An order was placed, filled (partly or fully), cancelled or expired: its state after."""

    order: Final[Order]
    at_ms: Final[int]

    def __init__(self, order: Order, at_ms: int) -> None:
        self.order = order
        self.at_ms = at_ms


@dataclass(slots=True, init=False, unsafe_hash=True)
class Traded:
    """A fill between a maker and a taker."""

    fill: Final[Fill]

    def __init__(self, fill: Fill) -> None:
        self.fill = fill


@dataclass(slots=True, init=False, unsafe_hash=True)
class PerpPositionChanged:
    """A perp position changed size by a trade: its state after."""

    position: Final[PerpPosition]
    at_ms: Final[int]

    def __init__(self, position: PerpPosition, at_ms: int) -> None:
        self.position = position
        self.at_ms = at_ms


SETTLED_ROWS_PER_POSITION = 4
"""A settled position's rows at most: realized PnL, trading fees, system trading fees, funding."""


class Settled(NamedTuple):
    """USDC moved by a settlement: realized PnL, trading fees or funding (signed, + is credit).

    A row of a `PositionsSettled` pass, made when read (`PositionsSettled.rows`), never stored.
    """

    subaccount_id: SubaccountId
    market: str
    source: SettlementSource
    quantity_atoms: int
    position_id: PositionId
    at_ms: int


@dataclass(frozen=True, slots=True)
class PositionsSettled:
    """One settlement pass over one perp market: every position it moved, as it stood before the pass.

    One event per market and pass instead of one or two `Settled` rows per position (a pass moves
    100,000s of positions every 10 seconds); `rows` expands it into those rows, in the positions'
    order, each position's in the order realized PnL, trading fees, liquidation fees, funding. A
    position's realized PnL is its value at the pass's mark, `quantity_atoms * value_numerator //
    value_denominator` (toward minus infinity), minus its basis; the rest is what it had pending.
    """

    market: str
    value_numerator: int
    """The perp mark (WAD) times the market's quote unit in atoms."""
    value_denominator: int
    """The market's base unit in atoms times WAD."""
    positions: tuple[PerpPosition, ...]
    at_ms: int

    def rows(self) -> Iterator[Settled]:
        """Yield the `Settled` rows the pass stands for: every nonzero amount it moved, per position."""
        for position in self.positions:
            yield from self.rows_of(position)

    def rows_of(self, position: PerpPosition) -> list[Settled]:
        """Return the rows of one of the pass's positions (at most `SETTLED_ROWS_PER_POSITION`), in order."""
        pnl = position.quantity_atoms * self.value_numerator // self.value_denominator - position.basis_atoms
        return [
            Settled(position.subaccount_id, self.market, source, amount, position.position_id, self.at_ms)
            for source, amount in (
                (SettlementSource.REALIZE_PNL, pnl),
                (SettlementSource.TRADING_FEES, -position.pending_fee_atoms),
                (SettlementSource.TRADING_FEES_SYSTEM, -position.pending_system_fee_atoms),
                (SettlementSource.FUNDING_PAYMENT, position.pending_funding_atoms),
            )
            if amount
        ]

    def subaccounts(self) -> tuple[SubaccountId, ...]:
        """Return the subaccounts the pass moved USDC for, in the positions' order."""
        return tuple(position.subaccount_id for position in self.positions)


def settled_rows(records: Iterable[object]) -> Iterator[Settled]:
    """Yield the `Settled` rows of every settlement pass among `records` (events, or the state's passes), in order."""
    for each in records:
        if isinstance(each, PositionsSettled):
            yield from each.rows()


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
