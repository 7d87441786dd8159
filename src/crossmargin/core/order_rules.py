"""Order rules that read the subaccount's own book of positions before an order is tried.

**Reduce-only sizing.** A user's reduce-only order larger than the position it reduces is refused,
not cut: Backpack's spec says only that such an order "can only reduce the position", and a
silently smaller order is one a bot did not send (its `quantity` would not be what it asked, and
the rest of its plan would go on as if the whole had traded). The refusal names the position's
size, so the bot can send exactly that. An order with no position to reduce is refused as before
(`reduce_only_not_reduced`). The engine's own reduce-only orders (liquidation steps) are still
sized to the position in `trading._size`: they are computed from it.
"""

from __future__ import annotations

from crossmargin.core.commands import PlaceOrder
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import format_scaled
from crossmargin.core.orders import OrderSide
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def check_reduce_only_size(tx: Transaction, spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    """Refuse a reduce-only order for more than the position it reduces (its direction is checked later)."""
    if not command.flags.reduce_only or command.quantity_atoms is None:
        return None
    position = tx.perp_position(command.subaccount_id, spec.symbol)
    held = position.quantity_atoms if position else 0
    reducing = (held > 0 and command.side is OrderSide.ASK) or (held < 0 and command.side is OrderSide.BID)
    if not reducing or command.quantity_atoms <= abs(held):
        return None
    size = format_scaled(abs(held), spec.base_decimals)
    asked = format_scaled(command.quantity_atoms, spec.base_decimals)
    return Rejection(
        RejectReason.REDUCE_ONLY_ABOVE_POSITION,
        f"A reduce-only order of {asked} is larger than your {spec.symbol} position of {size}: "
        f"send at most {size} {spec.base}",
    )
