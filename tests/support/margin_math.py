"""The margin rules in plain `Decimal` arithmetic, to derive liquidation prices without the engine's code.

An `inverseSqrt` holding of notional N counts N * base / (1 + penalty * sqrt(N)) as collateral
(assets.toml: BTC 0.9 / 0.00002, ETH 0.9 / 0.00003); a USDC debt D below about $17M needs its MMF base,
5% of itself, for maintenance. The estimator (`core/liquidation_price.py`) walks a grid of 9
significant digits of the mark and stops at the last price on the safe side of the threshold.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Final

BTC_HAIRCUT: Final = (Decimal("0.9"), Decimal("0.00002"))
ETH_HAIRCUT: Final = (Decimal("0.9"), Decimal("0.00003"))
USDC_MMF_BASE: Final = Decimal("0.05")
PRECISION: Final = 60
SIGNIFICANT_DIGITS: Final = 9
WAD_DIGITS: Final = 18


def collateral_value(notional: Decimal, haircut: tuple[Decimal, Decimal]) -> Decimal:
    """Return what a holding of `notional` USD counts as collateral: notional * base / (1 + penalty * sqrt(notional))."""
    base, penalty = haircut
    with localcontext() as exact:
        exact.prec = PRECISION
        return notional * base / (1 + penalty * notional.sqrt())


def price_covering(quantity: Decimal, haircut: tuple[Decimal, Decimal], covered: Decimal) -> Decimal:
    """Return the price P at which `quantity` units count exactly `covered` USD as collateral.

    With x = sqrt(N), N = quantity * P: base * x^2 = covered * (1 + penalty * x), a quadratic in x.
    """
    base, penalty = haircut
    with localcontext() as exact:
        exact.prec = PRECISION
        b, c = -covered * penalty, -covered
        root = (-b + (b * b - 4 * base * c).sqrt()) / (2 * base)
        return root * root / quantity


def usdc_maintained(debt: Decimal) -> Decimal:
    """Return what collateral must cover before a USDC debt (at 1 USD) is liquidated: the debt plus 5%."""
    return debt * (1 + USDC_MMF_BASE)


def grid_step(mark: Decimal) -> Decimal:
    """Return the estimator's price step at this mark: 9 significant digits of the mark in wei."""
    wei = int(mark.scaleb(WAD_DIGITS))
    return Decimal(10) ** max(0, len(str(wei)) - SIGNIFICANT_DIGITS) / Decimal(10) ** WAD_DIGITS


def text(value: Decimal) -> str:
    """Print a decimal as the API does: no exponent, no trailing zeros."""
    printed = format(value, "f")
    return printed.rstrip("0").rstrip(".") if "." in printed else printed


def estimate_below(exact: Decimal, mark: Decimal) -> str:
    """Return the estimate of a threshold below the mark (a falling price): the first grid price above it."""
    step = grid_step(mark)
    return text(((exact / step).to_integral_value(ROUND_FLOOR) + 1) * step)


def estimate_above(exact: Decimal, mark: Decimal) -> str:
    """Return the estimate of a threshold above the mark (a rising price): the last grid price below it."""
    step = grid_step(mark)
    return text(((exact / step).to_integral_value(ROUND_CEILING) - 1) * step)
