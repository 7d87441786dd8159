"""Scaled integers and rounding with a named direction.

Money in crossmargin is never a float. Quantities are integer atoms (see `money.py`); ratios
(weights, fees, rates, utilization) are integers scaled by WAD = 10**18; cumulative interest
indices are integers scaled by RAY = 10**27. Every division names its rounding direction:
`mul_div_down` rounds toward zero, `mul_div_up` away from it. The rule for choosing is to round
in favour of the pool: debt and required margin up, collateral value and lend interest down.

>>> mul_div_down(10, 1, 3), mul_div_up(10, 1, 3)
(3, 4)
>>> parse_decimal("1.5", 2), format_scaled(150, 2)
(150, '1.5')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

WAD: Final = 10**18
RAY: Final = 10**27
AMOUNT_ATOMS_MAX: Final = 2**127 - 1
"""The most atoms a quantity, a balance or an asset's total deposits may hold (fits NUMERIC(39, 0))."""
PRICE_WAD_MAX: Final = 10**30
"""The highest price (USD per whole unit, WAD-scaled) the engine accepts: 10^12 USD."""


def mul_div_down(a: int, b: int, c: int) -> int:
    """Return a * b / c rounded toward zero; all operands non-negative."""
    assert a >= 0, "mul_div operands are non-negative"
    assert b >= 0, "mul_div operands are non-negative"
    assert c > 0, "mul_div divisor is positive"
    return (a * b) // c


def mul_div_up(a: int, b: int, c: int) -> int:
    """Return a * b / c rounded away from zero; all operands non-negative."""
    assert a >= 0, "mul_div operands are non-negative"
    assert b >= 0, "mul_div operands are non-negative"
    assert c > 0, "mul_div divisor is positive"
    return -((-(a * b)) // c)


def sqrt_wad_down(x_wad: int) -> int:
    """Return sqrt(x) for a WAD-scaled x, WAD-scaled, rounded down."""
    assert x_wad >= 0, "square root of a non-negative value"
    return math.isqrt(x_wad * WAD)


def sqrt_wad_up(x_wad: int) -> int:
    """Return sqrt(x) for a WAD-scaled x, WAD-scaled, rounded up."""
    root = sqrt_wad_down(x_wad)
    return root if root * root == x_wad * WAD else root + 1


@dataclass(slots=True, init=False, unsafe_hash=True, order=True)
class Ratio:
    """A dimensionless ratio scaled by WAD: `Ratio(WAD)` is 1, `Ratio(WAD // 10)` is 0.1."""

    wad: Final[int]

    def __init__(self, wad: int) -> None:
        self.wad = wad

    @classmethod
    def parse(cls, text: str) -> Ratio:
        """Parse an exact decimal string; more than 18 decimals is an error, not a rounding."""
        return cls(parse_decimal(text, 18))

    def apply_down(self, value: int) -> int:
        """Return value * ratio rounded down."""
        return mul_div_down(value, self.wad, WAD)

    def apply_up(self, value: int) -> int:
        """Return value * ratio rounded up."""
        return mul_div_up(value, self.wad, WAD)

    def __str__(self) -> str:
        return format_scaled(self.wad, 18)


ZERO_RATIO: Final = Ratio(0)
ONE_RATIO: Final = Ratio(WAD)


def parse_decimal(text: str, scale: int) -> int:
    """Parse a plain decimal string into an integer scaled by 10**scale, exactly.

    Refuses signs other than a leading '-', exponents, NaN, infinities, empty parts and more
    fractional digits than `scale` (a value is never silently rounded).
    """
    if not isinstance(text, str):
        raise TypeError("decimal must be given as a string")
    body = text.strip()
    negative = body.startswith("-")
    if negative:
        body = body[1:]
    whole, dot, fraction = body.partition(".")
    if not whole.isdigit() or (dot and not fraction.isdigit()):
        raise ValueError(f"{text!r} is not a plain decimal number")
    if not whole.isascii() or not fraction.isascii():
        raise ValueError(f"{text!r} is not a plain decimal number")
    if len(fraction) > scale:
        trimmed = fraction.rstrip("0")
        if len(trimmed) > scale:
            raise ValueError(f"{text!r} has more than {scale} decimal places")
        fraction = trimmed
    unit: int = 10**scale
    value = int(whole) * unit + (int(fraction.ljust(scale, "0")) if scale else 0)
    return -value if negative else value


def format_scaled(value: int, scale: int) -> str:
    """Format an integer scaled by 10**scale as a decimal string without trailing zeros."""
    sign = "-" if value < 0 else ""
    unit: int = 10**scale
    whole, fraction = divmod(abs(value), unit)
    if scale == 0 or fraction == 0:
        return f"{sign}{whole}"
    digits = str(fraction).rjust(scale, "0").rstrip("0")
    return f"{sign}{whole}.{digits}"
