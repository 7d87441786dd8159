"""Collateral value: quantity * mark price * weight, the weight from the asset's haircut function.

*Haircut* is the discount applied to a holding; *weight* is what remains (weight = 1 - haircut)
and what margin multiplies by. `identity` keeps the configured weight at every size;
`inverseSqrt` lowers it for large holdings: weight(N) = min(weight, base / (1 + penalty * sqrt(N)))
with N the holding's notional in USD. Values are USD scaled by WAD; collateral rounds down.
"""

from __future__ import annotations

from crossmargin.core.assets import HaircutFunction, HaircutKind
from crossmargin.core.numbers import WAD, mul_div_down, mul_div_up, sqrt_wad_up


def value_down(atoms: int, mark_price_wad: int, unit_atoms: int) -> int:
    """Return the USD value (WAD) of `atoms` at a mark price, rounded down."""
    return mul_div_down(atoms, mark_price_wad, unit_atoms)


def value_up(atoms: int, mark_price_wad: int, unit_atoms: int) -> int:
    """Return the USD value (WAD) of `atoms` at a mark price, rounded up."""
    return mul_div_up(atoms, mark_price_wad, unit_atoms)


def compute_collateral_weight(haircut: HaircutFunction, notional_wad: int) -> int:
    """Return the collateral weight (WAD) of a holding of a given USD notional, rounded down."""
    if haircut.kind is HaircutKind.IDENTITY:
        return haircut.weight.wad
    penalty = mul_div_up(haircut.positive_curve_penalty.wad, sqrt_wad_up(notional_wad), WAD)
    curved = mul_div_down(haircut.base.wad, WAD, WAD + penalty)
    return min(haircut.weight.wad, curved)


def compute_collateral_value(haircut: HaircutFunction, notional_wad: int) -> int:
    """Return notional * weight (WAD USD), rounded down."""
    return mul_div_down(notional_wad, compute_collateral_weight(haircut, notional_wad), WAD)
