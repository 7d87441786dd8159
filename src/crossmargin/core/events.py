"""Events: the frozen outputs of the engine, in the past tense.

Read models (history, balances shown to users, streams) are built from events; the engine's own
state is rebuilt by replaying commands. Every borrow-lend movement names its source, so a user can
always see why a borrow or lend exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import Fill, Order
from crossmargin.core.perps import PerpPosition


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


@dataclass(frozen=True, slots=True)
class AssetsConfigured:
    """Assets were listed or their parameters changed."""

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountCreated:
    """An account was opened with its first subaccount."""

    account_id: AccountId
    subaccount_id: SubaccountId


@dataclass(frozen=True, slots=True)
class SubaccountCreated:
    """A further subaccount was opened."""

    account_id: AccountId
    subaccount_id: SubaccountId


@dataclass(frozen=True, slots=True)
class ApiKeyAdded:
    """A subaccount got one more API key (an ED25519 public key) to sign with."""

    subaccount_id: SubaccountId
    api_key: str


@dataclass(frozen=True, slots=True)
class Deposited:
    """Funds arrived from outside."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Withdrew:
    """Funds left to the outside, to an address on a chain, with the client's own id if given."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    at_ms: int
    address: str = ""
    blockchain: str = ""
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class Transferred:
    """Funds moved between two subaccounts of one account."""

    source_subaccount_id: SubaccountId
    target_subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
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

    subaccount_id: SubaccountId
    symbol: str
    event_type: BorrowLendEventType
    source: BorrowLendSource
    quantity_atoms: int
    position_id: PositionId
    position_net_atoms: int
    position_scaled_after: int
    at_ms: int
    position_net_before_atoms: int = 0
    balance_change_atoms: int = 0


@dataclass(frozen=True, slots=True)
class EntryFeeCharged:
    """A new borrow paid interest from now to the next full hour, added to its debt.

    Lenders' share of it raised the lend index from `lend_index_before_ray` to
    `lend_index_after_ray`; `movements_before` counts the borrow-lend movements recorded before
    that credit, so each lender's share can be derived exactly (`core/history.py`).
    """

    subaccount_id: SubaccountId
    symbol: str
    position_id: PositionId
    quantity_atoms: int
    rate_wad: int
    interval_ms: int
    at_ms: int
    lend_index_before_ray: int = 0
    lend_index_after_ray: int = 0
    movements_before: int = 0


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
class SettingsUpdated:
    """A subaccount's settings changed."""

    subaccount_id: SubaccountId
    leverage_limit: Ratio
    auto_lend: bool
    auto_repay_borrows: bool
    auto_borrow_settlements: bool


@dataclass(frozen=True, slots=True)
class MarkPricesSet:
    """Mark prices changed."""

    prices_wad: tuple[tuple[str, int], ...]
    at_ms: int


@dataclass(frozen=True, slots=True)
class OracleConfigured:
    """The oracle guards changed (None: that guard is off)."""

    price_max_age_ms: int | None
    price_jump_band: Ratio | None
    at_ms: int


class SettlementSource(StrEnum):
    """Backpack's `SettlementSource` (the ones we produce)."""

    TRADING_FEES = "TradingFees"
    TRADING_FEES_SYSTEM = "TradingFeesSystem"
    FUNDING_PAYMENT = "FundingPayment"
    REALIZE_PNL = "RealizePnl"


@dataclass(frozen=True, slots=True)
class MarketsConfigured:
    """Markets were listed or their parameters changed."""

    symbols: tuple[str, ...]


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


Event = (
    AssetsConfigured
    | AccountCreated
    | SubaccountCreated
    | ApiKeyAdded
    | Deposited
    | Withdrew
    | Transferred
    | BorrowLendMoved
    | EntryFeeCharged
    | InterestCharged
    | SettingsUpdated
    | MarkPricesSet
    | MarketsConfigured
    | OrderChanged
    | Traded
    | PerpPositionChanged
    | Settled
    | FundingPaid
    | ShortfallCovered
    | PerpMarksSet
    | OracleConfigured
    | LiquidationStarted
    | LiquidationStepped
    | LiquidationFinished
    | Backstopped
    | AutoDeleveraged
    | LendIndexCut
)
