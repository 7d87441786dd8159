"""Price bands: a limit order priced too far from its market's prices is refused, as on Backpack.

Backpack's `PriceFilter` carries `maxMultiplier` / `minMultiplier` ("from last active price") and,
for futures, `meanMarkPriceBand` (from the mark); an order outside is refused with `INVALID_PRICE`
"Price is too far from the last active price". Here the **last active price** is the market's
index (`marks.market_index_wad`: the oracle's price of the base in the quote, the price the venue
last saw active) and the **mark** is the perp mark (the index for a spot market, which has no
other mark). A bid and an ask are bounded alike, both ways: a bid at 1 for BTC is as much a
mistake as an ask at ten times the price. Each bound is rounded inward-safe: the lowest accepted
price is rounded up, the highest down, so no accepted price is outside the exact band. A market
without a price yet, or a band left at zero, bounds nothing. Only users' limit orders are
checked: the engine's own orders (liquidations, conversions) price themselves from the mark.
"""

from __future__ import annotations

from crossmargin.core.commands import PlaceOrder
from crossmargin.core.markets import MarketSpec
from crossmargin.core.marks import market_index_wad
from crossmargin.core.numbers import WAD, Ratio, format_scaled, mul_div_down, mul_div_up
from crossmargin.core.orders import OrderType
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def band_limits(reference_wad: int, low: Ratio, high: Ratio) -> tuple[int, int | None]:
    """Return the lowest and highest price (None: unbounded) a band of `reference_wad` accepts."""
    lowest = mul_div_up(reference_wad, low.wad, WAD)
    highest = mul_div_down(reference_wad, high.wad, WAD) if high.wad else None
    return lowest, highest


def check_price_bands(tx: Transaction, spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    """Refuse a limit order priced outside the market's last-active-price band or its mark band."""
    if command.order_type is not OrderType.LIMIT or command.price_wad is None:
        return None
    bands = spec.bands
    index = market_index_wad(tx, spec)
    mark = tx.perp_mark(spec.symbol) if spec.is_perp else index
    checks = (
        (index, bands.min_multiplier, bands.max_multiplier, RejectReason.PRICE_OUTSIDE_BAND, "last active price"),
        (
            mark,
            bands.mark_min_multiplier,
            bands.mark_max_multiplier,
            RejectReason.PRICE_OUTSIDE_MARK_BAND,
            "mark price",
        ),
    )
    for reference, low, high, reason, name in checks:
        if not reference:
            continue
        lowest, highest = band_limits(reference, low, high)
        if command.price_wad < lowest or (highest is not None and command.price_wad > highest):
            shown = "no limit" if highest is None else format_scaled(highest, 18)
            return Rejection(
                reason,
                f"Price is too far from the {name}: {spec.symbol} takes limit prices from "
                f"{format_scaled(lowest, 18)} to {shown} now ({low} to {high if high.wad else 'any'} times the "
                f"{name} {format_scaled(reference, 18)})",
            )
    return None
