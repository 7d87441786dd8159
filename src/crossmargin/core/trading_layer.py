"""The trading part of a transaction's write set: markets, orders, perp positions, marks and open interest.

`Transaction` inherits it. Each layer keeps only what it changed; a read looks in the layer's own
writes, then in each parent's (nearest first), then in the state, with no recursion, exactly as
the rest of the transaction reads. The open bid and ask quantities of each subaccount's orders per
market are kept as they change (`order_totals`), so a perp margin check never walks the orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crossmargin.core.book import Book
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import OPEN_STATUSES, Order, OrderId, OrderSide, OrderStatus
from crossmargin.core.perps import PerpPosition
from crossmargin.core.state import EngineState, spot_markets_by_pair

if TYPE_CHECKING:
    from crossmargin.core.transaction import Transaction

_NO_ORDERS = (0, 0)


class TradingLayer:
    """A transaction layer's pending trading writes and the reads that see through them."""

    state: EngineState
    parents: tuple[Transaction, ...]

    def _open_trading_layer(self, settlement_due_ms: int | None) -> None:
        self.markets: dict[str, MarketSpec] = {}
        self.orders: dict[OrderId, Order] = {}
        self.trigger_orders: dict[OrderId, Order | None] = {}
        """Pending trigger orders this layer wrote: still pending, closed (cancelled, failed), or None once fired."""
        self.perp_positions: dict[tuple[SubaccountId, str], PerpPosition] = {}
        self.perp_marks_wad: dict[str, int] = {}
        self.open_interest_atoms: dict[str, int] = {}
        self.settlement_due_ms: int | None = settlement_due_ms
        self.order_totals: dict[tuple[SubaccountId, str], tuple[int, int]] = {}
        """Open bid and ask quantities per (subaccount, market) where this layer changed an order."""

    def market(self, symbol: str) -> MarketSpec | None:
        """Return a market's spec, or None if it is not listed."""
        found = self.markets.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.markets.get(symbol)
            if found is not None:
                return found
        return self.state.markets.get(symbol)

    def all_markets(self) -> dict[str, MarketSpec]:
        """Return every listed market's spec, as of this transaction."""
        merged = dict(self.state.markets)
        for layer in reversed(self.parents):
            merged.update(layer.markets)
        merged.update(self.markets)
        return merged

    def perp_markets(self) -> tuple[MarketSpec, ...]:
        """Return every listed perp market's spec as of this transaction, by symbol."""
        if not self.markets and not any(layer.markets for layer in self.parents):
            return self.state.perp_market_specs()
        return tuple(spec for _, spec in sorted(self.all_markets().items()) if spec.is_perp)

    def spot_market(self, base: str, quote: str) -> MarketSpec | None:
        """Return the spot market trading `base` for `quote` as of this transaction (the first by symbol), if any."""
        if not self.markets and not any(layer.markets for layer in self.parents):
            return self.state.spot_markets_by_pair().get((base, quote))
        return spot_markets_by_pair(self.all_markets()).get((base, quote))

    def order(self, order_id: OrderId) -> Order | None:
        """Return an order as of this transaction: open, or closed within it; None if unknown or closed before."""
        found = self.orders.get(order_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.orders.get(order_id)
            if found is not None:
                return found
        return self.state.orders.get(order_id)

    def open_orders(self, subaccount_id: SubaccountId) -> list[Order]:
        """Return a subaccount's open orders as of this transaction, oldest first."""
        ids = self.state.open_order_ids.get(subaccount_id, {})
        pending = [
            order_id
            for layer in (self, *self.parents)
            for order_id, order in layer.orders.items()
            if order.subaccount_id == subaccount_id
        ]
        if pending:
            ids = dict.fromkeys(sorted({*ids, *pending}))
        found = [self.order(order_id) for order_id in ids]
        return [order for order in found if order is not None and order.is_open]

    def trigger_order(self, order_id: OrderId) -> Order | None:
        """Return a pending trigger order as of this transaction; None if unknown, fired or closed."""
        for layer in (self, *self.parents):
            if order_id in layer.trigger_orders:
                found = layer.trigger_orders[order_id]
                return found if found is not None and found.status is OrderStatus.TRIGGER_PENDING else None
        return self.state.trigger_orders.get(order_id)

    def pending_trigger_orders(self) -> list[Order]:
        """Return every pending trigger order as of this transaction, oldest (lowest id) first."""
        if not self.state.trigger_orders and not any(layer.trigger_orders for layer in (self, *self.parents)):
            return []
        ids = set(self.state.trigger_orders)
        for layer in (self, *self.parents):
            ids.update(layer.trigger_orders)
        found = [self.trigger_order(order_id) for order_id in sorted(ids)]
        return [order for order in found if order is not None]

    def set_trigger_order(self, order_id: OrderId, order: Order | None) -> None:
        """Store a trigger order's new state: pending, closed (cancelled or failed), or None once it fired."""
        self.trigger_orders[order_id] = order

    def perp_order_totals(self, subaccount_id: SubaccountId, market: str) -> tuple[int, int]:
        """Return the open bid and ask quantities of a subaccount's orders in a perp market, as of this transaction."""
        key = (subaccount_id, market)
        found = self.order_totals.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.order_totals.get(key)
            if found is not None:
                return found
        return self.state.perp_order_totals.get(key, _NO_ORDERS)

    def book(self, market: str) -> Book:
        """Return a market's committed book (orders opened within this transaction are not in it)."""
        return self.state.books[market]

    def perp_position(self, subaccount_id: SubaccountId, market: str) -> PerpPosition | None:
        """Return a subaccount's position in a perp market, if any."""
        key = (subaccount_id, market)
        found = self.perp_positions.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.perp_positions.get(key)
            if found is not None:
                return found
        return self.state.perp_positions.get(key)

    def subaccount_perp_positions(self, subaccount_id: SubaccountId) -> list[PerpPosition]:
        """Return a subaccount's perp positions that are not flat, by market."""
        return [
            position
            for market in sorted(self.all_markets())
            if (position := self.perp_position(subaccount_id, market)) is not None and not position.is_flat
        ]

    def perp_mark(self, market: str) -> int:
        """Return a perp market's mark price (WAD), 0 if none yet."""
        found = self.perp_marks_wad.get(market)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.perp_marks_wad.get(market)
            if found is not None:
                return found
        return self.state.perp_marks_wad.get(market, 0)

    def open_interest(self, market: str) -> int:
        """Return a perp market's open interest: the sum of its long positions, in base atoms."""
        found = self.open_interest_atoms.get(market)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.open_interest_atoms.get(market)
            if found is not None:
                return found
        return self.state.open_interest_atoms.get(market, 0)

    def set_order(self, order: Order) -> None:
        """Store an order's new state (open or closed), keeping its owner's open totals in the market."""
        before = self.order(order.order_id)
        change_bids = change_asks = 0
        if before is not None and before.is_open:
            if before.side is OrderSide.BID:
                change_bids -= before.quantity_atoms - before.executed_atoms
            else:
                change_asks -= before.quantity_atoms - before.executed_atoms
        if order.status in OPEN_STATUSES:
            if order.side is OrderSide.BID:
                change_bids += order.quantity_atoms - order.executed_atoms
            else:
                change_asks += order.quantity_atoms - order.executed_atoms
        self.orders[order.order_id] = order
        if change_bids or change_asks:
            bids, asks = self.perp_order_totals(order.subaccount_id, order.market)
            self.order_totals[(order.subaccount_id, order.market)] = (bids + change_bids, asks + change_asks)

    def set_perp_position(self, position: PerpPosition) -> None:
        """Store a perp position (a flat one is removed at commit)."""
        self.perp_positions[(position.subaccount_id, position.market)] = position
