"""The stress report's plots: per metric, a histogram and a CDF across scenarios (matplotlib Agg, as `plots`).

Each figure has two panels: how many scenarios fell in each bin, and the share of scenarios at or
below each value (the empirical CDF, a step per scenario), with the p50, p95 and p99 the report
gives marked on both. The worst scenario's own paths are drawn by `plots.write_plots`. Values
become floats here, for drawing only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import matplotlib as mpl

mpl.use("Agg")  # before pyplot loads: no display is needed or wanted
import matplotlib.pyplot as plt

from crossmargin.simulation.percentiles import nearest_rank
from crossmargin.simulation.plots import DPI
from crossmargin.simulation.stress import ScenarioOutcome
from crossmargin.simulation.stress_report import METRICS, PLOTTED, Metric

SIZE: Final = (10.0, 3.6)
MARKED: Final = (("p50", "tab:green"), ("p95", "tab:orange"), ("p99", "tab:red"))


def write_distribution_plots(outcomes: Sequence[ScenarioOutcome], directory: Path) -> list[Path]:
    """Draw one histogram-and-CDF figure per plotted metric into `directory`; return the PNG paths."""
    paths = []
    for metric in METRICS:
        if metric.key not in PLOTTED:
            continue
        path = directory / f"distribution_{metric.key}.png"
        _draw(metric, outcomes, path)
        paths.append(path)
    return paths


def _draw(metric: Metric, outcomes: Sequence[ScenarioOutcome], path: Path) -> None:
    exact = sorted(metric.read(outcome) for outcome in outcomes)
    values = [value / 10**metric.decimals for value in exact]
    figure, (histogram, cdf) = plt.subplots(1, 2, figsize=SIZE)
    histogram.hist(values, bins=min(30, max(5, len(values) // 5)), color="tab:blue", alpha=0.8)
    histogram.set_ylabel("scenarios")
    shares = [rank / len(values) for rank in range(len(values) + 1)]
    cdf.step([values[0], *values], shares, where="post", color="tab:blue")
    cdf.set_ylabel("share of scenarios at or below")
    cdf.set_ylim(0, 1.02)
    for name, colour in MARKED:
        rank = nearest_rank(int(name[1:]), len(exact))
        for axis in (histogram, cdf):
            axis.axvline(values[rank - 1], color=colour, linestyle="--", linewidth=1, label=name)
    cdf.legend(loc="lower right", fontsize="small")
    for axis in (histogram, cdf):
        axis.set_xlabel(metric.unit)
        axis.grid(visible=True, alpha=0.3)
    figure.suptitle(f"{metric.title}: {len(values)} scenarios")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(figure)
