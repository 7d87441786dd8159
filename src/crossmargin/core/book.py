"""Order books: price levels in price-time priority, one book per market.

A book is an index over the open orders of its market, derived from them: bids best (highest)
first, asks best (lowest) first, and within a level the order ids in arrival order (an order id
is its arrival sequence, so rebuilding a book from the open orders sorted by id restores the same
priority). Prices are kept in an ascending list per side (bids negated) searched by bisection;
a level is an insertion-ordered dict, so removing an order is O(1). Only `Transaction.commit`
changes a book; matching reads the committed book through the transaction's view of the orders.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from crossmargin.core.orders import Order, OrderId, OrderSide


class BookSide:
    """One side of a book: levels keyed by a sort key (the price, negated for bids)."""

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.keys: list[int] = []
        self.levels: dict[int, dict[OrderId, None]] = {}

    def add(self, price_wad: int, order_id: OrderId) -> None:
        """Append an order at the back of its price level."""
        key = self.sign * price_wad
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = {}
            insort(self.keys, key)
        level[order_id] = None

    def remove(self, price_wad: int, order_id: OrderId) -> None:
        """Take an order out of its level; an emptied level goes."""
        key = self.sign * price_wad
        level = self.levels[key]
        del level[order_id]
        if not level:
            del self.levels[key]
            del self.keys[bisect_left(self.keys, key)]

    def best_price(self) -> int | None:
        """Return the best price on this side, if any."""
        return self.sign * self.keys[0] if self.keys else None

    def iter_levels(self) -> Iterator[tuple[int, dict[OrderId, None]]]:
        """Yield (price, order ids in time priority), best price first."""
        for key in self.keys:
            yield self.sign * key, self.levels[key]


class Book:
    """Both sides of one market's book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(-1)
        self.asks = BookSide(1)

    def side(self, side: OrderSide) -> BookSide:
        """Return the side where orders of `side` rest."""
        return self.bids if side is OrderSide.BID else self.asks

    def opposite(self, side: OrderSide) -> BookSide:
        """Return the side an order of `side` matches against."""
        return self.asks if side is OrderSide.BID else self.bids

    def add(self, order: Order) -> None:
        """Rest an order."""
        self.side(order.side).add(order.price_wad, order.order_id)

    def remove(self, order: Order) -> None:
        """Take a resting order out."""
        self.side(order.side).remove(order.price_wad, order.order_id)
