"""The simulation's plots: PNG files drawn with matplotlib's Agg backend (no display needed).

Five figures, each over the time since the start: the price path (one panel per asset that
moved), the insurance fund's value (with its value before loss sharing, below zero where lenders
or ADL counterparties paid, and a mark at each lend-index cut and ADL), cumulative liquidations
and their steps, utilization per pool, and cumulative USDC borrowed by source. Values are
converted to floats here, for drawing only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib as mpl

mpl.use("Agg")  # before pyplot loads: no display is needed or wanted
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from crossmargin.core.numbers import WAD
from crossmargin.simulation.runner import Sample

MS_PER_HOUR: Final = 3_600_000
SIZE: Final = (9.0, 4.0)
DPI: Final = 110


def write_plots(samples: Sequence[Sample], directory: Path, usdc_unit_atoms: int) -> list[Path]:
    """Draw every plot of a run into `directory`; return the PNG paths in reading order."""
    hours = [(sample.at_ms - samples[0].at_ms) / MS_PER_HOUR for sample in samples]
    figures = {
        "prices": _prices(samples, hours),
        "insurance_fund": _insurance_fund(samples, hours),
        "liquidations": _liquidations(samples, hours),
        "utilization": _utilization(samples, hours),
        "usdc_borrowed_by_source": _usdc_borrowed(samples, hours, usdc_unit_atoms),
    }
    paths = []
    for name, figure in figures.items():
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(figure)
        paths.append(path)
    return paths


def _axes_labels(figure: Figure, title: str, ylabel: str) -> None:
    axes = figure.axes[-1]
    axes.set_xlabel("hours since start")
    axes.set_ylabel(ylabel)
    figure.suptitle(title)
    for each in figure.axes:
        each.grid(visible=True, alpha=0.3)
    figure.tight_layout()


def _prices(samples: Sequence[Sample], hours: list[float]) -> Figure:
    symbols = [
        symbol
        for symbol in sorted(samples[0].prices_wad)
        if len({sample.prices_wad.get(symbol) for sample in samples}) > 1
    ] or sorted(samples[0].prices_wad)[:1]
    figure, axes = plt.subplots(len(symbols), 1, sharex=True, figsize=(SIZE[0], 1.0 + 1.8 * len(symbols)))
    for axis, symbol in zip(figure.axes, symbols, strict=True):
        axis.plot(hours, [sample.prices_wad.get(symbol, 0) / WAD for sample in samples], color="tab:blue")
        axis.set_ylabel(f"{symbol} (USD)")
    del axes
    _axes_labels(figure, "Index prices", figure.axes[-1].get_ylabel())
    return figure


@dataclass(frozen=True, slots=True)
class FundLines:
    """The fund chart's data: its value and its value before loss sharing (USD), and where sharing ran."""

    values: list[float]
    before_sharing: list[float]
    lend_index_cuts: list[int]
    auto_deleverages: list[int]


def fund_lines(samples: Sequence[Sample]) -> FundLines:
    """Return the fund chart's data; the marks are the indices of samples where a cut or an ADL was recorded."""
    return FundLines(
        values=[sample.fund_value_wad / WAD for sample in samples],
        before_sharing=[sample.fund_before_sharing_wad / WAD for sample in samples],
        lend_index_cuts=_rises(samples, lambda sample: sample.lend_index_cuts),
        auto_deleverages=_rises(samples, lambda sample: sample.auto_deleverages),
    )


def _rises(samples: Sequence[Sample], count: Callable[[Sample], int]) -> list[int]:
    return [index for index in range(1, len(samples)) if count(samples[index]) > count(samples[index - 1])]


def _insurance_fund(samples: Sequence[Sample], hours: list[float]) -> Figure:
    figure, axis = plt.subplots(figsize=SIZE)
    lines = fund_lines(samples)
    axis.plot(hours, lines.values, color="tab:green", label="fund value")
    axis.axhline(0.0, color="black", linewidth=0.8)
    axis.fill_between(
        hours, lines.values, 0.0, where=[v < 0 for v in lines.values], interpolate=True, color="tab:red", alpha=0.3
    )
    if lines.lend_index_cuts or lines.auto_deleverages:
        before = lines.before_sharing
        axis.plot(hours, before, color="tab:red", linestyle="--", label="before loss sharing (deficit below 0)")
        axis.fill_between(hours, before, 0.0, where=[v < 0 for v in before], interpolate=True, color="red", alpha=0.1)
        for marks, shape, colour, label in (
            (lines.auto_deleverages, "v", "tab:purple", "auto-deleverage (ADL counterparties pay)"),
            (lines.lend_index_cuts, "x", "tab:orange", "lend-index cut (lenders pay)"),
        ):
            if marks:
                axis.plot([hours[i] for i in marks], [before[i] for i in marks], shape, color=colour, label=label)
                for index in marks:
                    axis.axvline(hours[index], color=colour, linewidth=0.6, alpha=0.5)
        axis.legend(loc="lower left", fontsize="small")
    _axes_labels(figure, "Insurance fund value (holdings and debts at mark, plus unsettled PnL)", "USD")
    return figure


def _liquidations(samples: Sequence[Sample], hours: list[float]) -> Figure:
    figure, axis = plt.subplots(figsize=SIZE)
    axis.step(hours, [sample.liquidations for sample in samples], where="post", label="liquidations started")
    axis.step(hours, [sample.liquidation_steps for sample in samples], where="post", label="liquidation steps")
    axis.step(hours, [sample.backstops for sample in samples], where="post", label="backstops (fund takeovers)")
    axis.legend(loc="upper left")
    _axes_labels(figure, "Cumulative liquidations", "count")
    return figure


def _utilization(samples: Sequence[Sample], hours: list[float]) -> Figure:
    figure, axis = plt.subplots(figsize=SIZE)
    for symbol in sorted(samples[-1].utilization_wad):
        axis.plot(hours, [100 * sample.utilization_wad.get(symbol, 0) / WAD for sample in samples], label=symbol)
    axis.legend(loc="upper left")
    _axes_labels(figure, "Pool utilization (borrowed / supplied)", "%")
    return figure


def _usdc_borrowed(samples: Sequence[Sample], hours: list[float], unit_atoms: int) -> Figure:
    figure, axis = plt.subplots(figsize=SIZE)
    sources = sorted({source for sample in samples for source in sample.usdc_borrowed_by_source})
    for source in sources:
        values = [sample.usdc_borrowed_by_source.get(source, 0) / unit_atoms for sample in samples]
        axis.step(hours, values, where="post", label=source)
    if sources:
        axis.legend(loc="upper left")
    _axes_labels(figure, "USDC borrowed by source (cumulative)", "USDC")
    return figure
