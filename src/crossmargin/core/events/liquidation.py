"""Liquidation events: a subaccount's liquidation from start to finish, takeovers and ADL.

A step names what moved and the 1% fee the insurance fund received; a takeover lists every holding
and perp position the fund took over; an auto-deleverage names the fund and its counterparty.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from crossmargin.core.ids import SubaccountId


class LiquidationStepKind(StrEnum):
    """What one liquidation step did."""

    REDEEM = "Redeem"
    REPAY = "Repay"
    REDUCE_POSITION = "ReducePosition"
    BUY_BORROWED = "BuyBorrowed"
    SELL_COLLATERAL = "SellCollateral"


@dataclass(frozen=True, slots=True)
class LiquidationStarted:
    """A subaccount reached MMR >= 100%: it is now `liquidating` and its open orders are cancelled."""

    subaccount_id: SubaccountId
    maintenance_wad: int
    net_equity_wad: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class LiquidationStepped:
    """One partial liquidation step: what moved, the 1% fee to the insurance fund, MMR around it."""

    subaccount_id: SubaccountId
    kind: LiquidationStepKind
    symbol: str
    quantity_atoms: int
    quote_atoms: int
    fee_atoms: int
    fee_symbol: str
    order_id: int
    mmr_before_wad: int
    mmr_after_wad: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class LiquidationFinished:
    """A liquidation ended: back at its target (`backstopped` False) or taken over by the fund."""

    subaccount_id: SubaccountId
    maintenance_wad: int
    net_equity_wad: int
    backstopped: bool
    at_ms: int


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


@dataclass(frozen=True, slots=True)
class Backstopped:
    """The insurance fund took over everything of a subaccount at its bankruptcy price."""

    subaccount_id: SubaccountId
    fund_subaccount_id: SubaccountId
    net_equity_wad: int
    holdings: tuple[TakenOver, ...]
    perps: tuple[PerpTakenOver, ...]
    at_ms: int


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
