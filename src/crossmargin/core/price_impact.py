"""Impact bands: how far a user's market order may walk the book, as on Backpack.

Backpack's `PriceFilter` has `maxImpactMultiplier` ("how far above the best ask a market buy can
penetrate") and `minImpactMultiplier` (how far below the best bid a market sell can). A market
buy here fills at prices up to best ask x `maxImpactMultiplier` (rounded down), a market sell
down to best bid x `minImpactMultiplier` (rounded up); what the band stops expires with
Backpack's reason `PriceImpact`, and the order keeps the quantity it asked for. A fill-or-kill
order the band would cut expires whole (`FillOrKill`). The band bites only where the book goes
past it: an order the book cannot fill within it for want of depth expires as before. Limit
orders carry their own price (and its bands, `price_bands.py`); the engine's own orders
(liquidations, conversions) are not bounded: they must trade.

A market order's own `slippageTolerance` bounds it the same way, from the same best price at
entry (for a trigger order, when it fires): a buy up to best ask + tolerance ticks, or best ask x
(1 + tolerance / 100) for `Percent`, rounded down; a sell down to best bid - ticks, or x (1 -
tolerance / 100), rounded up. The tighter of the two bounds applies; what the tolerance stops
expires `SlippageToleranceExceeded`.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.matching import match, preview_fill
from crossmargin.core.numbers import WAD, mul_div_down, mul_div_up
from crossmargin.core.orders import (
    ExpiryReason,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Slippage,
    SlippageToleranceType,
    SystemOrderType,
    TimeInForce,
)
from crossmargin.core.transaction import Transaction


def impact_bound(tx: Transaction, spec: MarketSpec, order: Order) -> tuple[int, ExpiryReason] | None:
    """Return the worst price a user's market order may trade at now and what stops it there, or None."""
    if order.order_type is not OrderType.MARKET or order.system_order_type is not SystemOrderType.NONE:
        return None
    buying = order.side is OrderSide.BID
    best = tx.book(spec.symbol).opposite(order.side).best_price()
    if best is None:
        return None
    multiplier = spec.bands.max_impact_multiplier if buying else spec.bands.min_impact_multiplier
    bounds: list[tuple[int, ExpiryReason]] = []
    if multiplier.wad:
        band = mul_div_down(best, multiplier.wad, WAD) if buying else mul_div_up(best, multiplier.wad, WAD)
        bounds.append((band, ExpiryReason.PRICE_IMPACT))
    if order.flags.slippage is not None:
        bounds.append(
            (_slippage_bound(spec, best, buying, order.flags.slippage), ExpiryReason.SLIPPAGE_TOLERANCE_EXCEEDED)
        )
    if not bounds:
        return None
    return min(bounds, key=lambda bound: bound[0]) if buying else max(bounds, key=lambda bound: bound[0])


def _slippage_bound(spec: MarketSpec, best: int, buying: bool, slippage: Slippage) -> int:
    if slippage.kind is SlippageToleranceType.TICK_SIZE:
        room = mul_div_down(spec.tick_size_wad, slippage.tolerance_wad, WAD)
    else:
        room = mul_div_down(best, slippage.tolerance_wad, 100 * WAD)
    return best + room if buying else max(best - room, 0)


def match_within_impact(tx: Transaction, spec: MarketSpec, order: Order) -> tuple[Order, set[SubaccountId]]:
    """Match an order, a user's market order no further than its bound; the rest expires with the bound's reason."""
    bounded = impact_bound(tx, spec, order)
    if bounded is None:
        return match(tx, spec, order)
    bound, reason = bounded
    within, _ = preview_fill(tx, spec, replace(order, order_type=OrderType.LIMIT, price_wad=bound))
    if within >= preview_fill(tx, spec, order)[0]:
        return match(tx, spec, order)
    if order.time_in_force is TimeInForce.FOK:
        return order.changed(status=OrderStatus.EXPIRED, expiry_reason=ExpiryReason.FILL_OR_KILL), set()
    # The walks above stop where matching stops (self-trade prevention included), so the capped
    # match fills exactly `within`: what is left of the order is what the band stopped.
    matched, makers = match(tx, spec, order.changed(quantity_atoms=within))
    expired = matched.changed(quantity_atoms=order.quantity_atoms, status=OrderStatus.EXPIRED, expiry_reason=reason)
    return expired, makers
