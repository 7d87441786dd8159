"""Margin figures: what a subaccount holds of each asset and its margin lines and summary.

The values `margin.py` computes and everything else reads: a `Holding` (spot, lent, owed and
locked atoms of one asset), the margin line of one asset (`AssetMargin`) and of one perp market
(`PerpMargin`), and a subaccount's `MarginSummary` (USD scaled by WAD) with the ratios derived
from it. Required margin rounds up and collateral down, as in `margin.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.core.numbers import WAD, Ratio, mul_div_down, mul_div_up


@dataclass(frozen=True, slots=True)
class Holding:
    """What a subaccount has of one asset: spot balance, lent, owed and locked by orders, in atoms.

    A spot balance is negative only when a settlement could not be covered; it counts as owed.
    """

    spot_atoms: int = 0
    lend_atoms: int = 0
    debt_atoms: int = 0
    locked_atoms: int = 0


@dataclass(frozen=True, slots=True)
class AssetMargin:
    """The margin view of one asset of a subaccount."""

    symbol: str
    quantity_atoms: int
    debt_atoms: int
    mark_price_wad: int
    balance_notional_wad: int
    weight_wad: int
    collateral_value_wad: int
    debt_notional_wad: int
    imf_wad: int
    mmf_wad: int


@dataclass(frozen=True, slots=True)
class PerpMargin:
    """The margin view of one perp position and its open orders, USD scaled by WAD.

    `reserve_notional_wad` is how much further open orders could take the position's size
    (the worse of all bids or all asks filling), valued at mark: it locks initial margin too.
    """

    market: str
    quantity_atoms: int
    mark_price_wad: int
    notional_wad: int
    reserve_notional_wad: int
    unsettled_wad: int
    imf_wad: int
    mmf_wad: int

    @property
    def locked_wad(self) -> int:
        """Return the initial margin of the position and its open orders."""
        return mul_div_up(self.imf_wad, self.notional_wad + self.reserve_notional_wad, WAD)

    @property
    def maintenance_wad(self) -> int:
        """Return the maintenance margin of the position."""
        return mul_div_up(self.mmf_wad, self.notional_wad, WAD)


@dataclass(frozen=True, slots=True)
class MarginSummary:
    """A subaccount's cross-margin figures, USD scaled by WAD."""

    assets: tuple[AssetMargin, ...]
    collateral_value_wad: int
    borrow_liability_wad: int
    locked_wad: int
    maintenance_wad: int
    perps: tuple[PerpMargin, ...] = ()
    unsettled_wad: int = 0
    perp_notional_wad: int = 0

    @property
    def net_equity_wad(self) -> int:
        """Return collateral value plus unsettled perp PnL minus borrow liability."""
        return self.collateral_value_wad + self.unsettled_wad - self.borrow_liability_wad

    @property
    def exposure_wad(self) -> int:
        """Return the total exposure: borrows plus perp notionals."""
        return self.borrow_liability_wad + self.perp_notional_wad

    @property
    def available_wad(self) -> int:
        """Return net equity minus what initial margin locks."""
        return self.net_equity_wad - self.locked_wad

    @property
    def is_liquidatable(self) -> bool:
        """Return whether the maintenance margin ratio has reached 100%."""
        return self.maintenance_wad > 0 and self.maintenance_wad >= self.net_equity_wad

    @property
    def margin_fraction(self) -> Ratio | None:
        """Return net equity / total exposure, or None without exposure."""
        if self.exposure_wad == 0:
            return None
        return Ratio(_signed_ratio(self.net_equity_wad, self.exposure_wad))

    @property
    def initial_margin_ratio(self) -> Ratio | None:
        """Return locked / net equity (None without exposure or without positive equity)."""
        return _ratio_to_equity(self.locked_wad, self.net_equity_wad)

    @property
    def maintenance_margin_ratio(self) -> Ratio | None:
        """Return maintenance / net equity (None without exposure or without positive equity)."""
        return _ratio_to_equity(self.maintenance_wad, self.net_equity_wad)


def _signed_ratio(numerator: int, denominator: int) -> int:
    if numerator >= 0:
        return mul_div_down(numerator, WAD, denominator)
    return -mul_div_up(-numerator, WAD, denominator)


def _ratio_to_equity(required_wad: int, equity_wad: int) -> Ratio | None:
    if required_wad == 0 or equity_wad <= 0:
        return None
    return Ratio(mul_div_up(required_wad, WAD, equity_wad))
