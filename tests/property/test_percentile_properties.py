"""Nearest-rank percentiles of exact integers agree with a naive sort, and never invent a value."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from crossmargin.simulation.percentiles import REPORTED, percentile, summary

money = st.lists(st.integers(min_value=-(10**30), max_value=10**30), min_size=1, max_size=300)
percents = st.integers(min_value=1, max_value=100)


def naive(values: list[int], percent: int) -> int:
    """The textbook definition: the smallest value with at least `percent`% of the values at or below it."""
    ordered = sorted(values)
    for value in ordered:
        if sum(other <= value for other in ordered) * 100 >= percent * len(ordered):
            return value
    raise AssertionError("p <= 100 always finds a value")


@given(money, percents)
@example([1, 2, 3, 4], 50)
@example([5], 1)
@example(list(range(100)), 95)
def test_the_nearest_rank_percentile_is_the_naive_sorts(values: list[int], percent: int) -> None:
    assert percentile(values, percent) == naive(values, percent)


@given(money, percents)
def test_a_percentile_is_one_of_the_values_at_rank_ceil_p_n_over_100(values: list[int], percent: int) -> None:
    found = percentile(values, percent)
    assert found in values, "no interpolation: atoms stay atoms"
    assert found == sorted(values)[math.ceil(percent * len(values) / 100) - 1]


@given(money)
def test_the_summary_is_ordered_and_ends_at_the_maximum(values: list[int]) -> None:
    figures = summary(values)
    assert list(figures) == ["p50", "p95", "p99", "max"]
    assert figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"] == max(values)
    assert [figures[key] for key in figures] == [percentile(values, p) for p in REPORTED]


@given(money, percents)
def test_a_percentile_does_not_depend_on_the_order_of_the_values(values: list[int], percent: int) -> None:
    assert percentile(values[::-1], percent) == percentile(values, percent)
