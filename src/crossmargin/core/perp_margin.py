"""The margin of perp positions and of the open orders that could grow them.

For a position of size q at mark P in a market with IMF/MMF functions: notional N = |q| x P
(rounded up), IMF = max(base, 1 / leverageLimit, factor x sqrt(N)), MMF = max(base, factor x
sqrt(N)). Open orders reserve initial margin on how far they could take the size: the worse of
"every bid fills" (|q + bids|) and "every ask fills" (|q - asks|), beyond |q|, at the IMF of that
larger size. Unsettled PnL, fees and funding count in net equity at 1 USDC = 1 USD (perp prices
are quoted in USDC).
"""

from __future__ import annotations

from collections.abc import Iterable

from crossmargin.core.margin import PerpMargin, compute_perp_margin_from_totals
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import Order, OrderSide
from crossmargin.core.perps import PerpPosition

__all__ = ["compute_perp_margin", "compute_perp_margin_from_totals"]


def compute_perp_margin(
    spec: MarketSpec,
    position: PerpPosition | None,
    open_orders: Iterable[Order],
    mark_price_wad: int,
    imf_floor_wad: int,
) -> PerpMargin:
    """Return the margin line of one perp market of a subaccount, from its open orders there."""
    bids = asks = 0
    for order in open_orders:
        if order.side is OrderSide.BID:
            bids += order.remaining_atoms
        else:
            asks += order.remaining_atoms
    return compute_perp_margin_from_totals(spec, position, (bids, asks), mark_price_wad, imf_floor_wad)
