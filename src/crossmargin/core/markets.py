"""Markets: what can be traded, at which tick and step, for which fees.

A spot market exchanges a base asset for a quote asset (`BTC_USDC`); a perpetual market
(`BTC_USDC_PERP`) trades a position in the base asset, margined and settled in the quote asset
(USDC), with no base asset ever changing hands. Prices are quote USD per whole base unit, WAD;
quantities are base atoms. A market is only listed when every price on its tick grid times every
quantity on its step grid is a whole number of quote atoms, so trade values are exact (no
rounding anywhere in matching).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossmargin.core.assets import SqrtFunction
from crossmargin.core.numbers import WAD, ZERO_RATIO, Ratio

SETTLEMENT_INTERVAL_MS = 10_000
NO_FUNCTION = SqrtFunction(ZERO_RATIO, ZERO_RATIO)


class MarketKind(StrEnum):
    """Backpack's `MarketType` (the two we trade)."""

    SPOT = "SPOT"
    PERP = "PERP"


class BookState(StrEnum):
    """Backpack's `OrderBookState` (the ones we use)."""

    OPEN = "Open"
    CLOSED = "Closed"
    CANCEL_ONLY = "CancelOnly"
    POST_ONLY = "PostOnly"


@dataclass(frozen=True, slots=True)
class PriceBands:
    """Backpack's `PriceFilter` bands: how far a limit price may sit from the market's prices.

    `max_multiplier` / `min_multiplier` bound a limit price by the last active price (the market's
    index); `mark_max_multiplier` / `mark_min_multiplier` (Backpack's `meanMarkPriceBand`) by the
    mark; `max_impact_multiplier` / `min_impact_multiplier` how far a market order may walk past
    the best price (`price_impact.py`). A zero multiplier is no bound on that side.
    """

    max_multiplier: Ratio = ZERO_RATIO
    min_multiplier: Ratio = ZERO_RATIO
    mark_max_multiplier: Ratio = ZERO_RATIO
    mark_min_multiplier: Ratio = ZERO_RATIO
    max_impact_multiplier: Ratio = ZERO_RATIO
    min_impact_multiplier: Ratio = ZERO_RATIO


NO_BANDS = PriceBands()


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One order book's parameters."""

    symbol: str
    kind: MarketKind
    base: str
    quote: str
    base_decimals: int
    quote_decimals: int
    tick_size_wad: int
    step_atoms: int
    min_quantity_atoms: int
    maker_fee: Ratio
    taker_fee: Ratio
    imf: SqrtFunction = NO_FUNCTION
    mmf: SqrtFunction = NO_FUNCTION
    open_interest_limit_atoms: int = 0
    funding_bound: Ratio = ZERO_RATIO
    state: BookState = BookState.OPEN
    bands: PriceBands = NO_BANDS

    @property
    def is_perp(self) -> bool:
        """Return whether this is a perpetual futures market."""
        return self.kind is MarketKind.PERP

    @property
    def base_unit_atoms(self) -> int:
        """Return base atoms per whole base unit."""
        unit: int = 10**self.base_decimals
        return unit

    @property
    def quote_unit_atoms(self) -> int:
        """Return quote atoms per whole quote unit."""
        unit: int = 10**self.quote_decimals
        return unit

    def quote_atoms(self, quantity_atoms: int, price_wad: int) -> int:
        """Return the exact quote value of a quantity at a price on the grid."""
        numerator = quantity_atoms * price_wad * self.quote_unit_atoms
        denominator = self.base_unit_atoms * WAD
        assert numerator % denominator == 0, "prices on the tick and quantities on the step multiply exactly"
        return numerator // denominator

    def value_floor(self, quantity_atoms: int, price_wad: int) -> int:
        """Return quantity x price in quote atoms, rounded toward minus infinity (any price)."""
        return (quantity_atoms * price_wad * self.quote_unit_atoms) // (self.base_unit_atoms * WAD)

    def grid_is_exact(self) -> bool:
        """Return whether one tick times one step is a whole number of quote atoms."""
        numerator = self.tick_size_wad * self.step_atoms * self.quote_unit_atoms
        return self.tick_size_wad > 0 and self.step_atoms > 0 and numerator % (self.base_unit_atoms * WAD) == 0
