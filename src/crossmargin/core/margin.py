"""Cross margin: one account, every holding is collateral, every borrow needs margin.

For a subaccount: net equity = sum of collateral values - sum of borrow notionals. Each borrow
of notional N locks IMF(N) * N, where IMF(N) = max(base, 1 / leverageLimit, factor * sqrt(N)),
and needs MMF(N) * N for maintenance. available = net equity - locked. Voluntary actions must
keep available >= 0; liquidation starts when maintenance >= net equity (MMR >= 100%).
Everything is USD scaled by WAD; required margin rounds up and collateral down, so the check is
never looser than exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crossmargin.core.assets import AssetSpec, SqrtFunction
from crossmargin.core.collateral import compute_collateral_value, compute_collateral_weight, value_down, value_up
from crossmargin.core.numbers import WAD, Ratio, mul_div_down, mul_div_up, sqrt_wad_up


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


def compute_margin_fraction(function: SqrtFunction, notional_wad: int, floor_wad: int) -> int:
    """Return max(floor, base, factor * sqrt(notional in USD)) as WAD, rounded up."""
    curved = mul_div_up(function.factor.wad, sqrt_wad_up(notional_wad), WAD)
    return max(floor_wad, function.base.wad, curved)


def leverage_floor_wad(leverage_limit: Ratio) -> int:
    """Return 1 / leverageLimit as WAD, rounded up: the least IMF the leverage limit allows."""
    return mul_div_up(WAD, WAD, leverage_limit.wad)


def compute_asset_margin(spec: AssetSpec, holding: Holding, mark_price_wad: int, imf_floor_wad: int) -> AssetMargin:
    """Return the margin view of one holding."""
    quantity = max(holding.spot_atoms, 0) + holding.locked_atoms + holding.lend_atoms
    owed = holding.debt_atoms + max(-holding.spot_atoms, 0)
    notional = value_down(quantity, mark_price_wad, spec.unit_atoms)
    collateral = compute_collateral_value(spec.haircut, notional)
    debt_notional = value_up(owed, mark_price_wad, spec.unit_atoms)
    imf = mmf = 0
    if owed:
        imf = compute_margin_fraction(spec.imf, debt_notional, imf_floor_wad)
        mmf = compute_margin_fraction(spec.mmf, debt_notional, 0)
    return AssetMargin(
        symbol=spec.symbol,
        quantity_atoms=quantity,
        debt_atoms=owed,
        mark_price_wad=mark_price_wad,
        balance_notional_wad=notional,
        weight_wad=compute_collateral_weight(spec.haircut, notional, collateral),
        collateral_value_wad=collateral,
        debt_notional_wad=debt_notional,
        imf_wad=imf,
        mmf_wad=mmf,
    )


def compute_margin(
    specs: Mapping[str, AssetSpec],
    mark_prices_wad: Mapping[str, int],
    holdings: Mapping[str, Holding],
    leverage_limit: Ratio,
    perps: tuple[PerpMargin, ...] = (),
) -> MarginSummary:
    """Return the cross-margin summary of a subaccount's holdings and perp lines, in symbol order.

    An asset without a mark price counts zero as collateral; a debt always has a price (a
    borrow is refused without one, and prices are never removed).
    """
    floor = leverage_floor_wad(leverage_limit)
    lines = []
    collateral = liability = locked = maintenance = 0
    for symbol in sorted(holdings):
        line = compute_asset_margin(specs[symbol], holdings[symbol], mark_prices_wad.get(symbol, 0), floor)
        lines.append(line)
        collateral += line.collateral_value_wad
        liability += line.debt_notional_wad
        locked += mul_div_up(line.imf_wad, line.debt_notional_wad, WAD)
        maintenance += mul_div_up(line.mmf_wad, line.debt_notional_wad, WAD)
    unsettled = perp_notional = 0
    for perp in perps:
        locked += perp.locked_wad
        maintenance += perp.maintenance_wad
        unsettled += perp.unsettled_wad
        perp_notional += perp.notional_wad
    return MarginSummary(
        assets=tuple(lines),
        collateral_value_wad=collateral,
        borrow_liability_wad=liability,
        locked_wad=locked,
        maintenance_wad=maintenance,
        perps=perps,
        unsettled_wad=unsettled,
        perp_notional_wad=perp_notional,
    )
