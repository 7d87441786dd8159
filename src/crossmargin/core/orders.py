"""Orders and fills: Backpack's order model, exact.

An order rests in its market's book at a price; `quantity_atoms` is what was asked and
`executed_atoms` what has filled. Spot orders lock what they may spend (`locked_atoms` of the quote
asset for a bid, of the base asset for an ask) so a resting order can always pay; perp orders lock
nothing and reserve initial margin instead. Orders are frozen: every change is a new value
written through the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final, NewType

from crossmargin.core.ids import SubaccountId

OrderId = NewType("OrderId", int)


class OrderSide(StrEnum):
    """Backpack's `Side`."""

    BID = "Bid"
    ASK = "Ask"


class OrderType(StrEnum):
    """Backpack's `OrderTypeEnum`."""

    LIMIT = "Limit"
    MARKET = "Market"


class TimeInForce(StrEnum):
    """Backpack's `TimeInForce`."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class SelfTradePrevention(StrEnum):
    """Backpack's `SelfTradePrevention`."""

    REJECT_TAKER = "RejectTaker"
    REJECT_MAKER = "RejectMaker"
    REJECT_BOTH = "RejectBoth"


class OrderStatus(StrEnum):
    """Backpack's `OrderStatus` (the ones we use)."""

    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    TRIGGER_PENDING = "TriggerPending"
    TRIGGER_FAILED = "TriggerFailed"


class ExpiryReason(StrEnum):
    """Backpack's `OrderExpiryReason` (the ones we use)."""

    FILL_OR_KILL = "FillOrKill"
    IMMEDIATE_OR_CANCEL = "ImmediateOrCancel"
    SELF_TRADE_PREVENTION = "SelfTradePrevention"
    INSUFFICIENT_LIQUIDITY = "InsufficientLiquidity"
    LIQUIDATION = "Liquidation"
    INSUFFICIENT_FUNDS = "InsufficientFunds"
    INSUFFICIENT_MARGIN = "InsufficientMargin"
    REDUCE_ONLY_NOT_REDUCED = "ReduceOnlyNotReduced"
    STOP_WITHOUT_POSITION = "StopWithoutPosition"
    INVALID_QUANTITY = "InvalidQuantity"
    POST_ONLY_TAKER = "PostOnlyTaker"
    UNKNOWN = "Unknown"
    PRICE_OUT_OF_BOUNDS = "PriceOutOfBounds"
    SLIPPAGE_TOLERANCE_EXCEEDED = "SlippageToleranceExceeded"
    POSITION_LIMIT = "PositionLimit"
    PRICE_IMPACT = "PriceImpact"


class SystemOrderType(StrEnum):
    """Backpack's `SystemOrderType`: orders the exchange places on a user's behalf."""

    NONE = ""
    COLLATERAL_CONVERSION = "CollateralConversion"
    LIQUIDATE_POSITION_ON_BOOK = "LiquidatePositionOnBook"
    LIQUIDATE_POSITION_ON_ADL = "LiquidatePositionOnAdl"


class TriggerBy(StrEnum):
    """The reference price a trigger watches (the `triggerBy` fields of Backpack's order payload)."""

    MARK_PRICE = "MarkPrice"
    LAST_PRICE = "LastPrice"
    INDEX_PRICE = "IndexPrice"


class SlippageToleranceType(StrEnum):
    """Backpack's `SlippageToleranceType`: how a market order's `slippageTolerance` is measured."""

    TICK_SIZE = "TickSize"
    PERCENT = "Percent"


@dataclass(frozen=True, slots=True)
class Slippage:
    """A market order's `slippageTolerance`: how far past the best opposite price at entry it may fill.

    `tolerance_wad` is a number of ticks (`TickSize`) or a percent of that price (`Percent`, so
    0.5 is half a percent), WAD-scaled; `price_impact.py` turns it into the worst price.
    """

    tolerance_wad: int
    kind: SlippageToleranceType


class TriggerLegKind(StrEnum):
    """What a trigger leg is: the order's own trigger, or a stop loss or take profit that closes a position."""

    ENTRY = "Trigger"
    STOP_LOSS = "StopLoss"
    TAKE_PROFIT = "TakeProfit"


class CancelScope(StrEnum):
    """Backpack's `CancelOrderTypeEnum`: which of a market's orders `DELETE /api/v1/orders` cancels."""

    RESTING_LIMIT_ORDER = "RestingLimitOrder"
    CONDITIONAL_ORDER = "ConditionalOrder"


@dataclass(frozen=True, slots=True)
class TriggerLeg:
    """One price condition of a trigger order: fire when the `by` price reaches `price_wad` from below or above.

    `rises` says from where: True fires once the price is at or above `price_wad`, False at or below.
    A stop-loss or take-profit leg enters as a limit order at `limit_price_wad`, or as a market order
    when it is None; an entry leg enters as the order itself (its own type and price).
    """

    kind: TriggerLegKind
    price_wad: int
    by: TriggerBy
    rises: bool
    limit_price_wad: int | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    """What makes an order a trigger order (`core/triggers.py`).

    The order rests off the book (status `TriggerPending`) until one of its `legs` is crossed (the
    first in order), then enters for `quantity_atoms`, or for the whole position when None. A
    stop loss or take profit asked with an order names it (`parent_order_id`, Backpack's
    `relatedOrderId`); while `follows_parent`, its quantity follows what the parent has filled and
    it is armed once that is above zero. `triggered_ms` is when it fired.
    """

    legs: tuple[TriggerLeg, ...]
    quantity_atoms: int | None = None
    parent_order_id: OrderId | None = None
    follows_parent: bool = False
    triggered_ms: int | None = None


class Keep(Enum):
    """The default of `Order.changed`'s `expiry_reason`: keep the order's own (None is a value)."""

    KEEP = "keep"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


@dataclass(slots=True, init=False, unsafe_hash=True)
class OrderFlags:
    """Spot-margin flags of an order, and the order's own options."""

    post_only: Final[bool]
    reduce_only: Final[bool]
    auto_borrow: Final[bool]
    auto_borrow_repay: Final[bool]
    auto_lend: Final[bool]
    auto_lend_redeem: Final[bool]
    slippage: Final[Slippage | None]
    """A market order's slippage tolerance (None: only the market's impact band bounds it)."""

    def __init__(
        self,
        post_only: bool = False,
        reduce_only: bool = False,
        auto_borrow: bool = False,
        auto_borrow_repay: bool = False,
        auto_lend: bool = False,
        auto_lend_redeem: bool = False,
        slippage: Slippage | None = None,
    ) -> None:
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.auto_borrow = auto_borrow
        self.auto_borrow_repay = auto_borrow_repay
        self.auto_lend = auto_lend
        self.auto_lend_redeem = auto_lend_redeem
        self.slippage = slippage


NO_FLAGS = OrderFlags()


@dataclass(slots=True, init=False, unsafe_hash=True)
class Order:
    """An order and how far it has filled."""

    order_id: Final[OrderId]
    subaccount_id: Final[SubaccountId]
    market: Final[str]
    side: Final[OrderSide]
    order_type: Final[OrderType]
    time_in_force: Final[TimeInForce]
    price_wad: Final[int]
    quantity_atoms: Final[int]
    created_ms: Final[int]
    client_id: Final[int | None]
    flags: Final[OrderFlags]
    self_trade_prevention: Final[SelfTradePrevention]
    quote_quantity_atoms: Final[int | None]
    system_order_type: Final[SystemOrderType]
    executed_atoms: Final[int]
    executed_quote_atoms: Final[int]
    locked_atoms: Final[int]
    status: Final[OrderStatus]
    expiry_reason: Final[ExpiryReason | None]
    trigger: Final[Trigger | None]
    """Set on a trigger order, pending or fired (`triggeredAt`); None on every other order."""
    brackets: Final[tuple[TriggerLeg, ...]]
    """The stop loss and take profit asked with the order: placed as a trigger order once it fills."""
    borrowed_atoms: Final[int]
    """What locking a spot order borrowed (`autoBorrow`): repaid when it closes unused, with `autoBorrowRepay`."""

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        order_id: OrderId,
        subaccount_id: SubaccountId,
        market: str,
        side: OrderSide,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price_wad: int,
        quantity_atoms: int,
        created_ms: int,
        client_id: int | None = None,
        flags: OrderFlags = NO_FLAGS,
        self_trade_prevention: SelfTradePrevention = SelfTradePrevention.REJECT_TAKER,
        quote_quantity_atoms: int | None = None,
        system_order_type: SystemOrderType = SystemOrderType.NONE,
        executed_atoms: int = 0,
        executed_quote_atoms: int = 0,
        locked_atoms: int = 0,
        status: OrderStatus = OrderStatus.NEW,
        expiry_reason: ExpiryReason | None = None,
        trigger: Trigger | None = None,
        brackets: tuple[TriggerLeg, ...] = (),
        borrowed_atoms: int = 0,
    ) -> None:
        self.order_id = order_id
        self.subaccount_id = subaccount_id
        self.market = market
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price_wad = price_wad
        self.quantity_atoms = quantity_atoms
        self.created_ms = created_ms
        self.client_id = client_id
        self.flags = flags
        self.self_trade_prevention = self_trade_prevention
        self.quote_quantity_atoms = quote_quantity_atoms
        self.system_order_type = system_order_type
        self.executed_atoms = executed_atoms
        self.executed_quote_atoms = executed_quote_atoms
        self.locked_atoms = locked_atoms
        self.status = status
        self.expiry_reason = expiry_reason
        self.trigger = trigger
        self.brackets = brackets
        self.borrowed_atoms = borrowed_atoms

    @property
    def remaining_atoms(self) -> int:
        """Return the quantity still to fill."""
        return self.quantity_atoms - self.executed_atoms

    @property
    def is_open(self) -> bool:
        """Return whether the order can still fill."""
        return self.status in OPEN_STATUSES

    def changed(
        self,
        *,
        quantity_atoms: int | None = None,
        executed_atoms: int | None = None,
        executed_quote_atoms: int | None = None,
        locked_atoms: int | None = None,
        status: OrderStatus | None = None,
        expiry_reason: ExpiryReason | Keep | None = Keep.KEEP,
        borrowed_atoms: int | None = None,
    ) -> Order:
        """Return the order with the given fields changed (`dataclasses.replace` costs twice as much per fill)."""
        return Order(
            self.order_id,
            self.subaccount_id,
            self.market,
            self.side,
            self.order_type,
            self.time_in_force,
            self.price_wad,
            self.quantity_atoms if quantity_atoms is None else quantity_atoms,
            self.created_ms,
            self.client_id,
            self.flags,
            self.self_trade_prevention,
            self.quote_quantity_atoms,
            self.system_order_type,
            self.executed_atoms if executed_atoms is None else executed_atoms,
            self.executed_quote_atoms if executed_quote_atoms is None else executed_quote_atoms,
            self.locked_atoms if locked_atoms is None else locked_atoms,
            self.status if status is None else status,
            self.expiry_reason if expiry_reason is Keep.KEEP else expiry_reason,
            self.trigger,
            self.brackets,
            self.borrowed_atoms if borrowed_atoms is None else borrowed_atoms,
        )
