"""Percentiles of exact integers by the nearest-rank method, so a stress report never rounds money.

The p-th percentile (0 < p <= 100) of n values is the value at rank ceil(p x n / 100) in ascending
order (1-based): always one of the values themselves, never an interpolation between two, so
atoms stay atoms. p50 of [1, 2, 3, 4] is 2, p95 of 100 values is the 95th smallest, and p100 is
the maximum. The rank is computed in integers (`-(-p * n // 100)`), with no float anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

REPORTED: Final = (50, 95, 99, 100)
"""The percentiles a stress report gives: p50, p95, p99 and the maximum (p100)."""


def nearest_rank(percent: int, count: int) -> int:
    """Return the 1-based rank of the `percent`-th percentile among `count` values (nearest rank)."""
    if not 0 < percent <= 100:
        raise ValueError(f"a percentile is above 0 and at most 100, not {percent}")
    if count < 1:
        raise ValueError("a percentile needs at least one value")
    return -(-percent * count // 100)


def percentile(values: Sequence[int], percent: int) -> int:
    """Return the `percent`-th percentile of `values` by nearest rank (one of the values)."""
    ordered = sorted(values)
    return ordered[nearest_rank(percent, len(ordered)) - 1]


def summary(values: Iterable[int]) -> dict[str, int]:
    """Return p50, p95, p99 and max of `values`, keyed `p50`, `p95`, `p99`, `max`."""
    ordered = sorted(values)
    return {
        "max" if percent == 100 else f"p{percent}": ordered[nearest_rank(percent, len(ordered)) - 1]
        for percent in REPORTED
    }
