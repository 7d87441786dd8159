"""Presentation helpers: turn atoms, WAD values and ratios into the strings people read."""

from __future__ import annotations

from crossmargin.core.numbers import WAD, Ratio, format_scaled, mul_div_down


def usd(value_wad: int) -> str:
    """Format a WAD-scaled USD value with cents, rounded toward zero: '$53,734.12'."""
    cents = mul_div_down(abs(value_wad), 100, WAD)
    sign = "-" if value_wad < 0 else ""
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def percent(ratio: Ratio | int | None, places: int = 4) -> str:
    """Format a ratio (Ratio or WAD int) as a percentage; '-' when absent."""
    if ratio is None:
        return "-"
    wad = ratio.wad if isinstance(ratio, Ratio) else ratio
    hundredths = mul_div_down(abs(wad), 100 * 10**places, WAD)
    sign = "-" if wad < 0 else ""
    return f"{sign}{format_scaled(hundredths, places)}%"


def quantity(atoms: int, decimals: int, symbol: str) -> str:
    """Format atoms of an asset: '2000.001142 USDC'."""
    return f"{format_scaled(atoms, decimals)} {symbol}"
