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
from typing import NewType

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


class ExpiryReason(StrEnum):
    """Backpack's `OrderExpiryReason` (the ones we use)."""

    FILL_OR_KILL = "FillOrKill"
    IMMEDIATE_OR_CANCEL = "ImmediateOrCancel"
    SELF_TRADE_PREVENTION = "SelfTradePrevention"
    INSUFFICIENT_LIQUIDITY = "InsufficientLiquidity"
    LIQUIDATION = "Liquidation"
    PRICE_IMPACT = "PriceImpact"


class SystemOrderType(StrEnum):
    """Backpack's `SystemOrderType`: orders the exchange places on a user's behalf."""

    NONE = ""
    COLLATERAL_CONVERSION = "CollateralConversion"
    LIQUIDATE_POSITION_ON_BOOK = "LiquidatePositionOnBook"
    LIQUIDATE_POSITION_ON_ADL = "LiquidatePositionOnAdl"


class Keep(Enum):
    """The default of `Order.changed`'s `expiry_reason`: keep the order's own (None is a value)."""

    KEEP = "keep"


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True, slots=True)
class OrderFlags:
    """Spot-margin flags of an order, and the order's own options."""

    post_only: bool = False
    reduce_only: bool = False
    auto_borrow: bool = False
    auto_borrow_repay: bool = False
    auto_lend: bool = False
    auto_lend_redeem: bool = False


NO_FLAGS = OrderFlags()


@dataclass(frozen=True, slots=True)
class Order:
    """An order and how far it has filled."""

    order_id: OrderId
    subaccount_id: SubaccountId
    market: str
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    price_wad: int
    quantity_atoms: int
    created_ms: int
    client_id: int | None = None
    flags: OrderFlags = NO_FLAGS
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.REJECT_TAKER
    quote_quantity_atoms: int | None = None
    system_order_type: SystemOrderType = SystemOrderType.NONE
    executed_atoms: int = 0
    executed_quote_atoms: int = 0
    locked_atoms: int = 0
    status: OrderStatus = OrderStatus.NEW
    expiry_reason: ExpiryReason | None = None
    borrowed_atoms: int = 0
    """What locking a spot order borrowed (`autoBorrow`): repaid when it closes unused, with `autoBorrowRepay`."""

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
            self.borrowed_atoms,
        )


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade between a resting maker order and an incoming taker order."""

    trade_id: int
    market: str
    price_wad: int
    quantity_atoms: int
    quote_atoms: int
    taker_side: OrderSide
    maker_order_id: OrderId
    taker_order_id: OrderId
    maker_subaccount_id: SubaccountId
    taker_subaccount_id: SubaccountId
    maker_fee_atoms: int
    taker_fee_atoms: int
    maker_fee_symbol: str
    taker_fee_symbol: str
    at_ms: int
    system_order_type: SystemOrderType = SystemOrderType.NONE
    liquidation_fee_atoms: int = 0
    """The 1% liquidation fee the taker paid the insurance fund on this fill, in its fee asset."""

    def fee_atoms(self, *, maker: bool) -> int:
        """Return every fee one side paid on this fill: the trading fee, and the taker's liquidation fee."""
        return self.maker_fee_atoms if maker else self.taker_fee_atoms + self.liquidation_fee_atoms
