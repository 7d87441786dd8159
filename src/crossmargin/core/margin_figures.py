"""Margin figures: what a subaccount holds of each asset and its margin lines and summary.

The values `margin.py` computes and everything else reads: a `Holding` (spot, lent, owed and
locked atoms of one asset), the margin line of one asset (`AssetMargin`) and of one perp market
(`PerpMargin`), and a subaccount's `MarginSummary` (USD scaled by WAD) with the ratios derived
from it. Required margin rounds up and collateral down, as in `margin.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crossmargin.core.numbers import WAD, Ratio, mul_div_down, mul_div_up


@dataclass(slots=True, init=False, unsafe_hash=True)
class Holding:
    """What a subaccount has of one asset: spot balance, lent, owed and locked by orders, in atoms.

    A spot balance is negative only when a settlement could not be covered; it counts as owed.
    """

    spot_atoms: Final[int]
    lend_atoms: Final[int]
    debt_atoms: Final[int]
    locked_atoms: Final[int]

    def __init__(self, spot_atoms: int = 0, lend_atoms: int = 0, debt_atoms: int = 0, locked_atoms: int = 0) -> None:
        self.spot_atoms = spot_atoms
        self.lend_atoms = lend_atoms
        self.debt_atoms = debt_atoms
        self.locked_atoms = locked_atoms

    @property
    def is_empty(self) -> bool:
        """Return whether nothing is held in any way (told by the four amounts: no interpreted `__eq__`)."""
        return not (self.spot_atoms or self.lend_atoms or self.debt_atoms or self.locked_atoms)


@dataclass(slots=True, init=False, unsafe_hash=True)
class AssetMargin:
    """The margin view of one asset of a subaccount."""

    symbol: Final[str]
    quantity_atoms: Final[int]
    debt_atoms: Final[int]
    mark_price_wad: Final[int]
    balance_notional_wad: Final[int]
    weight_wad: Final[int]
    collateral_value_wad: Final[int]
    debt_notional_wad: Final[int]
    imf_wad: Final[int]
    mmf_wad: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        symbol: str,
        quantity_atoms: int,
        debt_atoms: int,
        mark_price_wad: int,
        balance_notional_wad: int,
        weight_wad: int,
        collateral_value_wad: int,
        debt_notional_wad: int,
        imf_wad: int,
        mmf_wad: int,
    ) -> None:
        self.symbol = symbol
        self.quantity_atoms = quantity_atoms
        self.debt_atoms = debt_atoms
        self.mark_price_wad = mark_price_wad
        self.balance_notional_wad = balance_notional_wad
        self.weight_wad = weight_wad
        self.collateral_value_wad = collateral_value_wad
        self.debt_notional_wad = debt_notional_wad
        self.imf_wad = imf_wad
        self.mmf_wad = mmf_wad


@dataclass(slots=True, init=False, unsafe_hash=True)
class PerpMargin:
    """The margin view of one perp position and its open orders, USD scaled by WAD.

    `reserve_notional_wad` is how much further open orders could take the position's size
    (the worse of all bids or all asks filling), valued at mark: it locks initial margin too.
    """

    market: Final[str]
    quantity_atoms: Final[int]
    mark_price_wad: Final[int]
    notional_wad: Final[int]
    reserve_notional_wad: Final[int]
    unsettled_wad: Final[int]
    imf_wad: Final[int]
    mmf_wad: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        market: str,
        quantity_atoms: int,
        mark_price_wad: int,
        notional_wad: int,
        reserve_notional_wad: int,
        unsettled_wad: int,
        imf_wad: int,
        mmf_wad: int,
    ) -> None:
        self.market = market
        self.quantity_atoms = quantity_atoms
        self.mark_price_wad = mark_price_wad
        self.notional_wad = notional_wad
        self.reserve_notional_wad = reserve_notional_wad
        self.unsettled_wad = unsettled_wad
        self.imf_wad = imf_wad
        self.mmf_wad = mmf_wad

    @property
    def locked_wad(self) -> int:
        """Return the initial margin of the position and its open orders."""
        return mul_div_up(self.imf_wad, self.notional_wad + self.reserve_notional_wad, WAD)

    @property
    def maintenance_wad(self) -> int:
        """Return the maintenance margin of the position."""
        return mul_div_up(self.mmf_wad, self.notional_wad, WAD)


@dataclass(slots=True, init=False, unsafe_hash=True)
class MarginSummary:
    """A subaccount's cross-margin figures, USD scaled by WAD."""

    assets: Final[tuple[AssetMargin, ...]]
    collateral_value_wad: Final[int]
    borrow_liability_wad: Final[int]
    locked_wad: Final[int]
    maintenance_wad: Final[int]
    perps: Final[tuple[PerpMargin, ...]]
    unsettled_wad: Final[int]
    perp_notional_wad: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        assets: tuple[AssetMargin, ...],
        collateral_value_wad: int,
        borrow_liability_wad: int,
        locked_wad: int,
        maintenance_wad: int,
        perps: tuple[PerpMargin, ...] = (),
        unsettled_wad: int = 0,
        perp_notional_wad: int = 0,
    ) -> None:
        self.assets = assets
        self.collateral_value_wad = collateral_value_wad
        self.borrow_liability_wad = borrow_liability_wad
        self.locked_wad = locked_wad
        self.maintenance_wad = maintenance_wad
        self.perps = perps
        self.unsettled_wad = unsettled_wad
        self.perp_notional_wad = perp_notional_wad

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
