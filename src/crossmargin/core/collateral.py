"""Collateral value: quantity * mark price * weight, the weight from the asset's haircut function.

*Haircut* is the discount applied to a holding; *weight* is what remains (weight = 1 - haircut)
and what margin multiplies by. `identity` keeps the configured weight at every size;
`inverseSqrt` lowers it for large holdings: weight(N) = min(weight, base / (1 + penalty * sqrt(N)))
with N the holding's notional in USD. Values are USD scaled by WAD. The collateral value is the
exact real value rounded down *once*, so it never falls when the notional grows (rounding the
weight and the square root separately would let it dip by a fraction of a cent at some sizes).
"""

from __future__ import annotations

import math
from typing import Final

from crossmargin.core.assets import HaircutFunction, HaircutKind
from crossmargin.core.numbers import WAD, mul_div_down, mul_div_up

ROOT_SCALE: Final = 10**27


def value_down(atoms: int, mark_price_wad: int, unit_atoms: int) -> int:
    """Return the USD value (WAD) of `atoms` at a mark price, rounded down."""
    return mul_div_down(atoms, mark_price_wad, unit_atoms)


def value_up(atoms: int, mark_price_wad: int, unit_atoms: int) -> int:
    """Return the USD value (WAD) of `atoms` at a mark price, rounded up."""
    return mul_div_up(atoms, mark_price_wad, unit_atoms)


def compute_collateral_value(haircut: HaircutFunction, notional_wad: int) -> int:
    """Return notional * weight(notional) (WAD USD), the exact value rounded down once."""
    flat = mul_div_down(notional_wad, haircut.weight.wad, WAD)
    if haircut.kind is HaircutKind.IDENTITY or notional_wad == 0:
        return flat
    return min(flat, _inverse_sqrt_value(haircut.base.wad, haircut.positive_curve_penalty.wad, notional_wad))


def _inverse_sqrt_value(base_wad: int, penalty_wad: int, notional_wad: int) -> int:
    """Return floor(N * base / (1 + penalty * sqrt(N))) for N in USD, all WAD-scaled, exactly.

    A candidate c is at most the real value iff c * (WAD + penalty * sqrt(N)) <= N * base, that is
    c * penalty * sqrt(N) <= N * base - c, which squares into integers. The square root rounded
    down and up at 27 decimals brackets the answer; the exact check picks it within the bracket.
    """
    budget = notional_wad * base_wad

    def at_most_exact(candidate: int) -> bool:
        room = budget - candidate * WAD
        return room >= 0 and candidate * candidate * penalty_wad * penalty_wad * notional_wad <= room * room * WAD

    # sqrt(N in USD) to 27 decimals brackets the answer: with the root rounded up the value is at
    # most the exact one, with it rounded down (plus one) at least. The bracket is a few wei wide
    # (wider only for absurd holdings); the largest candidate in it that passes the exact check is
    # the answer, found by bisection since the check is monotone in the candidate.
    root = math.isqrt(notional_wad * ROOT_SCALE * ROOT_SCALE // WAD)
    low = budget * ROOT_SCALE // (WAD * ROOT_SCALE + penalty_wad * (root + 1))
    high = budget * ROOT_SCALE // (WAD * ROOT_SCALE + penalty_wad * root) + 1
    assert at_most_exact(low), "the lower bound is at most the exact value"
    while high - low > 1:
        middle = (low + high) // 2
        if at_most_exact(middle):
            low = middle
        else:
            high = middle
    return low


def compute_collateral_weight(haircut: HaircutFunction, notional_wad: int, value_wad: int | None = None) -> int:
    """Return the effective collateral weight (WAD) at a notional: value / notional, rounded down."""
    if notional_wad == 0:
        return haircut.weight.wad if haircut.kind is HaircutKind.IDENTITY else min(haircut.weight.wad, haircut.base.wad)
    if value_wad is None:
        value_wad = compute_collateral_value(haircut, notional_wad)
    return mul_div_down(value_wad, WAD, notional_wad)
