"""Asset and lending-pool parameters: what the operator configures per asset.

An `AssetSpec` fixes an asset's scale (decimals: one atom is 10**-decimals of a unit) once, at
listing, and carries the functions margin and interest need: the haircut function giving the
collateral weight, the IMF and MMF square-root functions for borrows, the rate curve of the pool,
and the pool's limits and state. Values are exact (`Ratio`, atoms); parsing from text happens in
the configuration loader at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossmargin.core.numbers import ZERO_RATIO, Ratio, format_scaled


class PoolState(StrEnum):
    """Backpack's `BorrowLendBookState`."""

    OPEN = "Open"
    CLOSED = "Closed"
    REPAY_ONLY = "RepayOnly"


class HaircutKind(StrEnum):
    """How the collateral weight depends on the size of a holding."""

    IDENTITY = "identity"
    INVERSE_SQRT = "inverseSqrt"


@dataclass(frozen=True, slots=True)
class HaircutFunction:
    """Collateral weight: `weight`, or min(weight, base / (1 + penalty * sqrt(notional)))."""

    weight: Ratio
    kind: HaircutKind = HaircutKind.IDENTITY
    base: Ratio = ZERO_RATIO
    positive_curve_penalty: Ratio = ZERO_RATIO


@dataclass(frozen=True, slots=True)
class SqrtFunction:
    """Margin fraction max(base, factor * sqrt(notional in USD)); Backpack's `sqrt` function."""

    base: Ratio
    factor: Ratio


@dataclass(frozen=True, slots=True)
class RateCurve:
    """Borrow APR against utilization: two slopes with a kink at `optimal_utilization`."""

    base: Ratio
    slope1: Ratio
    optimal_utilization: Ratio
    slope2: Ratio


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One asset and its lending pool."""

    symbol: str
    decimals: int
    step_atoms: int
    haircut: HaircutFunction
    imf: SqrtFunction
    mmf: SqrtFunction
    rate_curve: RateCurve
    max_utilization: Ratio
    throttle_utilization_threshold: Ratio
    fee: Ratio
    borrow_limit_atoms: int
    open_borrow_lend_limit_atoms: int
    pool_state: PoolState = PoolState.OPEN

    @property
    def unit_atoms(self) -> int:
        """Return the number of atoms in one whole unit."""
        unit: int = 10**self.decimals
        return unit


def describe(spec: AssetSpec, atoms: int) -> str:
    """Return a quantity as a person reads it: '1.5 BTC'."""
    return f"{format_scaled(atoms, spec.decimals)} {spec.symbol}"
