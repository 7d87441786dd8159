"""The re-mark that ends every accepted command: perp marks from the prices and books it leaves.

Every price change re-marks everything in the same command (`marks.py`'s one price path): after
the handler, each perp market's mark is computed again from its index and its best bid and ask
as the command leaves them, and a change is emitted as `PerpMarksSet` (and asks for a settlement
when anyone holds a perp position). It runs inside the command's own transaction, before its one
commit, so it reads the book as it will be after that commit: the committed levels without the
orders the command closed, plus the orders it left open.
"""

from __future__ import annotations

from crossmargin.core.book import BookSide
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS
from crossmargin.core.marks import refresh_perp_marks
from crossmargin.core.orders import Order, OrderId, OrderSide
from crossmargin.core.transaction import Transaction


def remark(tx: Transaction) -> None:
    """Set every perp mark from its index and the book the transaction leaves; emit the changes."""
    pending = _orders_left_open(tx)

    def quotes_left(tx: Transaction, market: str) -> tuple[int | None, int | None]:
        book, orders = tx.book(market), pending.get(market, ())
        bid = _best_price(tx, book.bids, [order for order in orders if order.side is OrderSide.BID])
        ask = _best_price(tx, book.asks, [order for order in orders if order.side is OrderSide.ASK])
        return bid, ask

    if refresh_perp_marks(tx, quotes_left, _markets_moved(tx)) and _holds_perp_positions(tx):
        tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)


def _markets_moved(tx: Transaction) -> set[str] | None:
    """Return the markets whose book the transaction changed, or None (all) when it set a price or a market.

    A perp mark depends on its index and its book only: a command that set no price and listed no
    market can move the marks of the markets where it opened, changed or closed an order, and no
    other.
    """
    layers = (tx, *tx.parents)
    if any(layer.mark_prices_wad or layer.markets for layer in layers):
        return None
    return {order.market for layer in layers for order in layer.orders.values()}


def _orders_left_open(tx: Transaction) -> dict[str, list[Order]]:
    """Return the orders the transaction changed and left open, by market."""
    written = {order_id for layer in (tx, *tx.parents) for order_id in layer.orders}
    by_market: dict[str, list[Order]] = {}
    for order_id in sorted(written):
        order = tx.order(order_id)
        assert order is not None, "an order written in a transaction reads back"
        if order.is_open:
            by_market.setdefault(order.market, []).append(order)
    return by_market


def _best_price(tx: Transaction, side: BookSide, pending: list[Order]) -> int | None:
    """Return the best price of one side: its committed levels still open, or an order the transaction left open."""
    best = None
    for price, ids in side.iter_levels():
        if any(_is_open(tx, order_id) for order_id in ids):
            best = price
            break
    for order in pending:
        if best is None or side.sign * order.price_wad < side.sign * best:
            best = order.price_wad
    return best


def _is_open(tx: Transaction, order_id: OrderId) -> bool:
    order = tx.order(order_id)
    return order is not None and order.is_open


def _holds_perp_positions(tx: Transaction) -> bool:
    """Return whether anyone will hold a perp position once the transaction commits (flat ones are removed)."""
    pending = {}
    for layer in reversed((tx, *tx.parents)):
        pending.update(layer.perp_positions)
    if any(not position.is_flat for position in pending.values()):
        return True
    return any(key not in pending for key in tx.state.perp_positions)
