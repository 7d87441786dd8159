"""A spot order's margin flags after it trades or closes: `autoBorrowRepay`, `autoLend`.

After its fills, an order's `autoBorrowRepay` repays the borrow of the asset it received and its
`autoLend` lends what is left idle. When a spot order closes (cancelled, expired, the rest of an
IOC or market order) with `autoBorrowRepay`, what its lock borrowed and did not spend is repaid at
once: the order records what its lock borrowed (`Order.borrowed_atoms`), closing gives back what
it still locked, and the repay takes the smaller of the two (and of the debt), so a cancelled
order leaves no loan of its own accruing interest. Without `autoBorrowRepay` the loan stays, as
the user asked (Backpack's flags are per order).
"""

from __future__ import annotations

from crossmargin.core.borrow_lend import lend, repay
from crossmargin.core.events import BorrowLendSource
from crossmargin.core.ledger import spot
from crossmargin.core.markets import MarketSpec
from crossmargin.core.matching import close_order
from crossmargin.core.orders import ExpiryReason, Order, OrderSide, OrderStatus
from crossmargin.core.transaction import Transaction


def close_and_repay(tx: Transaction, order: Order, status: OrderStatus, reason: ExpiryReason | None = None) -> Order:
    """Close an order; with `autoBorrowRepay`, repay what its lock borrowed and gives back unspent."""
    returned = order.locked_atoms
    closed = close_order(tx, order, status, reason)
    unused = min(order.borrowed_atoms, returned)
    if not unused or not order.flags.auto_borrow_repay:
        return closed
    spec = tx.market(order.market)
    assert spec is not None, "orders belong to listed markets"
    asset = tx.spec(spec.quote if order.side is OrderSide.BID else spec.base)
    assert asset is not None, "a market's assets are listed"
    debt = tx.holding(order.subaccount_id, asset.symbol).debt_atoms
    if debt:
        refused = repay(tx, order.subaccount_id, asset, min(unused, debt), BorrowLendSource.SPOT_MARGIN)
        assert refused is None, "a repay within what closing gave back always succeeds"
    return closed


def after_spot_fills(tx: Transaction, spec: MarketSpec, order: Order) -> None:
    """Apply an order's `autoBorrowRepay` and `autoLend` to what it received."""
    if not order.executed_atoms or not (order.flags.auto_borrow_repay or order.flags.auto_lend):
        return
    received = spec.base if order.side is OrderSide.BID else spec.quote
    asset = tx.spec(received)
    assert asset is not None, "a market's assets are listed"
    account = order.subaccount_id
    holding = tx.holding(account, received)
    if order.flags.auto_borrow_repay and holding.debt_atoms and holding.spot_atoms > 0:
        refused = repay(tx, account, asset, min(holding.spot_atoms, holding.debt_atoms), BorrowLendSource.SPOT_MARGIN)
        assert refused is None, "a repay within the spot balance always succeeds"
    idle = tx.balance(spot(account), received)
    if order.flags.auto_lend and idle > 0 and not tx.holding(account, received).debt_atoms:
        lend(tx, account, asset, idle, BorrowLendSource.SPOT_MARGIN)
