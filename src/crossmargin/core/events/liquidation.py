"""Liquidation events: a subaccount's liquidation from start to finish, takeovers and ADL.

A step names what moved and the 1% fee the insurance fund received; a takeover lists every holding
and perp position the fund took over; an auto-deleverage names the fund and its counterparty.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from crossmargin.core.ids import SubaccountId


class LiquidationStepKind(StrEnum):
    """What one liquidation step did."""

    REDEEM = "Redeem"
    REPAY = "Repay"
    REDUCE_POSITION = "ReducePosition"
    BUY_BORROWED = "BuyBorrowed"
    SELL_COLLATERAL = "SellCollateral"


@dataclass(slots=True, init=False, unsafe_hash=True)
class LiquidationStarted:
    """A subaccount reached MMR >= 100%: it is now `liquidating` and its open orders are cancelled."""

    subaccount_id: Final[SubaccountId]
    maintenance_wad: Final[int]
    net_equity_wad: Final[int]
    at_ms: Final[int]

    def __init__(self, subaccount_id: SubaccountId, maintenance_wad: int, net_equity_wad: int, at_ms: int) -> None:
        self.subaccount_id = subaccount_id
        self.maintenance_wad = maintenance_wad
        self.net_equity_wad = net_equity_wad
        self.at_ms = at_ms


@dataclass(slots=True, init=False, unsafe_hash=True)
class LiquidationStepped:
    """One partial liquidation step: what moved, the 1% fee to the insurance fund, MMR around it."""

    subaccount_id: Final[SubaccountId]
    kind: Final[LiquidationStepKind]
    symbol: Final[str]
    quantity_atoms: Final[int]
    quote_atoms: Final[int]
    fee_atoms: Final[int]
    fee_symbol: Final[str]
    order_id: Final[int]
    mmr_before_wad: Final[int]
    mmr_after_wad: Final[int]
    at_ms: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        subaccount_id: SubaccountId,
        kind: LiquidationStepKind,
        symbol: str,
        quantity_atoms: int,
        quote_atoms: int,
        fee_atoms: int,
        fee_symbol: str,
        order_id: int,
        mmr_before_wad: int,
        mmr_after_wad: int,
        at_ms: int,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.kind = kind
        self.symbol = symbol
        self.quantity_atoms = quantity_atoms
        self.quote_atoms = quote_atoms
        self.fee_atoms = fee_atoms
        self.fee_symbol = fee_symbol
        self.order_id = order_id
        self.mmr_before_wad = mmr_before_wad
        self.mmr_after_wad = mmr_after_wad
        self.at_ms = at_ms


@dataclass(slots=True, init=False, unsafe_hash=True)
class LiquidationFinished:
    """A liquidation ended: back at its target (`backstopped` False) or taken over by the fund."""

    subaccount_id: Final[SubaccountId]
    maintenance_wad: Final[int]
    net_equity_wad: Final[int]
    backstopped: Final[bool]
    at_ms: Final[int]

    def __init__(
        self,
        subaccount_id: SubaccountId,
        maintenance_wad: int,
        net_equity_wad: int,
        backstopped: bool,
        at_ms: int,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.maintenance_wad = maintenance_wad
        self.net_equity_wad = net_equity_wad
        self.backstopped = backstopped
        self.at_ms = at_ms


class TakenOver(NamedTuple):
    """One holding the insurance fund took over: spot, lent and owed atoms of an asset."""

    symbol: str
    spot_atoms: int
    lend_atoms: int
    debt_atoms: int


class PerpTakenOver(NamedTuple):
    """One perp position the insurance fund took over, with its basis and pending amounts."""

    market: str
    quantity_atoms: int
    basis_atoms: int
    pending_fee_atoms: int
    pending_funding_atoms: int
    pending_system_fee_atoms: int = 0


@dataclass(slots=True, init=False, unsafe_hash=True)
class Backstopped:
    """The insurance fund took over everything of a subaccount at its bankruptcy price."""

    subaccount_id: Final[SubaccountId]
    fund_subaccount_id: Final[SubaccountId]
    net_equity_wad: Final[int]
    holdings: Final[tuple[TakenOver, ...]]
    perps: Final[tuple[PerpTakenOver, ...]]
    at_ms: Final[int]

    def __init__(
        self,
        subaccount_id: SubaccountId,
        fund_subaccount_id: SubaccountId,
        net_equity_wad: int,
        holdings: tuple[TakenOver, ...],
        perps: tuple[PerpTakenOver, ...],
        at_ms: int,
    ) -> None:
        self.subaccount_id = subaccount_id
        self.fund_subaccount_id = fund_subaccount_id
        self.net_equity_wad = net_equity_wad
        self.holdings = holdings
        self.perps = perps
        self.at_ms = at_ms


@dataclass(frozen=True, slots=True)
class AutoDeleveraged:
    """The fund closed part of a perp position against an opposite one; `loss_atoms` the share it bore."""

    market: str
    fund_subaccount_id: SubaccountId
    counterparty_subaccount_id: SubaccountId
    quantity_atoms: int
    quote_atoms: int
    loss_atoms: int
    at_ms: int
