"""Nearest-rank percentiles: hand-picked examples and the refusals."""

from __future__ import annotations

import pytest

from crossmargin.simulation.percentiles import nearest_rank, percentile, summary


def test_examples_by_nearest_rank() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([7, 7, 9], 99) == 9
    assert summary([3]) == {"p50": 3, "p95": 3, "p99": 3, "max": 3}
    assert summary(range(1, 21)) == {"p50": 10, "p95": 19, "p99": 20, "max": 20}


@pytest.mark.parametrize(("percent", "count"), [(0, 5), (101, 5), (50, 0)])
def test_a_percentile_outside_0_to_100_or_of_nothing_is_refused(percent: int, count: int) -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank(percent, count)
