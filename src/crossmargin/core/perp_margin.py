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

from crossmargin.core.collateral import value_up
from crossmargin.core.margin import PerpMargin, compute_margin_fraction
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import Order, OrderSide
from crossmargin.core.perps import PerpPosition


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


def compute_perp_margin_from_totals(
    spec: MarketSpec,
    position: PerpPosition | None,
    open_totals: tuple[int, int],
    mark_price_wad: int,
    imf_floor_wad: int,
) -> PerpMargin:
    """Return the margin line of one perp market from the open bid and ask quantities there."""
    bids, asks = open_totals
    quantity = position.quantity_atoms if position else 0
    worst = max(abs(quantity + bids), abs(quantity - asks), abs(quantity))
    unit = spec.base_unit_atoms
    notional = value_up(abs(quantity), mark_price_wad, unit)
    worst_notional = value_up(worst, mark_price_wad, unit)
    unsettled_atoms = position.unsettled_atoms(spec, mark_price_wad) if position else 0
    return PerpMargin(
        market=spec.symbol,
        quantity_atoms=quantity,
        mark_price_wad=mark_price_wad,
        notional_wad=notional,
        reserve_notional_wad=worst_notional - notional,
        unsettled_wad=_quote_value_floor(spec, unsettled_atoms),
        imf_wad=compute_margin_fraction(spec.imf, worst_notional, imf_floor_wad) if worst else 0,
        mmf_wad=compute_margin_fraction(spec.mmf, notional, 0) if quantity else 0,
    )


def _quote_value_floor(spec: MarketSpec, atoms: int) -> int:
    return (atoms * WAD) // spec.quote_unit_atoms
