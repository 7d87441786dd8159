"""A fill: one trade between a resting maker order and an incoming taker order, with each side's fees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import OrderId, OrderSide, SystemOrderType


@dataclass(slots=True, init=False, unsafe_hash=True)
class Fill:
    """One trade between a resting maker order and an incoming taker order."""

    trade_id: Final[int]
    market: Final[str]
    price_wad: Final[int]
    quantity_atoms: Final[int]
    quote_atoms: Final[int]
    taker_side: Final[OrderSide]
    maker_order_id: Final[OrderId]
    taker_order_id: Final[OrderId]
    maker_subaccount_id: Final[SubaccountId]
    taker_subaccount_id: Final[SubaccountId]
    maker_fee_atoms: Final[int]
    taker_fee_atoms: Final[int]
    maker_fee_symbol: Final[str]
    taker_fee_symbol: Final[str]
    at_ms: Final[int]
    system_order_type: Final[SystemOrderType]
    liquidation_fee_atoms: Final[int]
    """The 1% liquidation fee the taker paid the insurance fund on this fill, in its fee asset."""

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        trade_id: int,
        market: str,
        price_wad: int,
        quantity_atoms: int,
        quote_atoms: int,
        taker_side: OrderSide,
        maker_order_id: OrderId,
        taker_order_id: OrderId,
        maker_subaccount_id: SubaccountId,
        taker_subaccount_id: SubaccountId,
        maker_fee_atoms: int,
        taker_fee_atoms: int,
        maker_fee_symbol: str,
        taker_fee_symbol: str,
        at_ms: int,
        system_order_type: SystemOrderType = SystemOrderType.NONE,
        liquidation_fee_atoms: int = 0,
    ) -> None:
        self.trade_id = trade_id
        self.market = market
        self.price_wad = price_wad
        self.quantity_atoms = quantity_atoms
        self.quote_atoms = quote_atoms
        self.taker_side = taker_side
        self.maker_order_id = maker_order_id
        self.taker_order_id = taker_order_id
        self.maker_subaccount_id = maker_subaccount_id
        self.taker_subaccount_id = taker_subaccount_id
        self.maker_fee_atoms = maker_fee_atoms
        self.taker_fee_atoms = taker_fee_atoms
        self.maker_fee_symbol = maker_fee_symbol
        self.taker_fee_symbol = taker_fee_symbol
        self.at_ms = at_ms
        self.system_order_type = system_order_type
        self.liquidation_fee_atoms = liquidation_fee_atoms

    def with_liquidation_fee(self, liquidation_fee_atoms: int) -> Fill:
        """Return this fill with its liquidation fee set (built directly: `dataclasses.replace` is interpreted)."""
        return Fill(
            self.trade_id,
            self.market,
            self.price_wad,
            self.quantity_atoms,
            self.quote_atoms,
            self.taker_side,
            self.maker_order_id,
            self.taker_order_id,
            self.maker_subaccount_id,
            self.taker_subaccount_id,
            self.maker_fee_atoms,
            self.taker_fee_atoms,
            self.maker_fee_symbol,
            self.taker_fee_symbol,
            self.at_ms,
            self.system_order_type,
            liquidation_fee_atoms,
        )

    def fee_atoms(self, *, maker: bool) -> int:
        """Return every fee one side paid on this fill: the trading fee, and the taker's liquidation fee."""
        return self.maker_fee_atoms if maker else self.taker_fee_atoms + self.liquidation_fee_atoms
