"""The stress report: distributions across scenarios (nearest-rank percentiles), the worst scenario, JSON and HTML.

Every figure is exact: percentiles are taken on the outcomes' integers (`percentiles.summary`)
and written as decimal strings (USD from WAD with all 18 decimals, USDC from atoms, counts as
integers). The report holds nothing that depends on the executor, the workers or the clock, so
one seed writes the same `stress.json` serially, on processes or on Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from crossmargin.core.numbers import format_scaled
from crossmargin.simulation.percentiles import summary
from crossmargin.simulation.report import JSON
from crossmargin.simulation.stress import ScenarioOutcome, StressSpec


@dataclass(frozen=True, slots=True)
class Metric:
    """One distribution of the report: its key, what it reads from an outcome, its unit and its scale."""

    key: str
    title: str
    read: Callable[[ScenarioOutcome], int]
    unit: str
    decimals: int

    def text(self, value: int) -> str:
        """Return a value of this metric as an exact decimal string."""
        return format_scaled(value, self.decimals)


METRICS: Final = (
    Metric("badDebtUsd", "bad debt", lambda o: o.bad_debt_wad, "USD", 18),
    Metric("fundDrawdownUsd", "fund drawdown", lambda o: o.fund_drawdown_wad, "USD", 18),
    Metric(
        "fundDeficitBeforeSharingUsd",
        "fund deficit before sharing",
        lambda o: o.fund_deficit_before_sharing_wad,
        "USD",
        18,
    ),
    Metric("lossToLendersUsd", "lender losses (index cuts)", lambda o: o.lender_loss_wad, "USD", 18),
    Metric("lossToAdlCounterpartiesUsd", "ADL counterparties' losses", lambda o: o.adl_loss_wad, "USD", 18),
    Metric("uncoveredByFundUsd", "left with the fund", lambda o: o.uncovered_wad, "USD", 18),
    Metric("lendIndexCuts", "lend-index cuts", lambda o: o.lend_index_cuts, "count", 0),
    Metric("autoDeleverages", "auto-deleverages", lambda o: o.auto_deleverages, "count", 0),
    Metric("liquidations", "liquidations", lambda o: o.liquidations, "count", 0),
    Metric("backstops", "backstops", lambda o: o.backstops, "count", 0),
    Metric("autoBorrows", "auto-borrows", lambda o: o.auto_borrows, "count", 0),
    Metric("autoBorrowedUsdc", "USDC auto-borrowed", lambda o: o.auto_borrowed_usdc_atoms, "USDC", 6),
)
"""Bad debt is what lenders (lend-index cuts) and ADL counterparties lost plus what the fund still
owes at the end; the fund's drawdown is its largest fall from a peak; its deficit before sharing is
how far below zero it would have gone had no loss been shared."""
PLOTTED: Final = (
    "badDebtUsd",
    "fundDrawdownUsd",
    "fundDeficitBeforeSharingUsd",
    "lossToLendersUsd",
    "liquidations",
    "autoBorrows",
)


def build_stress_report(spec: StressSpec, outcomes: Sequence[ScenarioOutcome], worst: ScenarioOutcome) -> JSON:
    """Return the report of a finished stress run as a JSON-ready dict."""
    return {
        "settings": spec.settings(),
        "percentileMethod": "nearest rank: the value at rank ceil(p x n / 100) in ascending order",
        "distributions": {metric.key: distribution(metric, outcomes) for metric in METRICS},
        "worstScenario": row(worst),
        "scenarios": [row(outcome) for outcome in outcomes],
    }


def distribution(metric: Metric, outcomes: Sequence[ScenarioOutcome]) -> JSON:
    """Return one metric's p50, p95, p99 and max across scenarios, with its unit and how many were above zero."""
    values = [metric.read(outcome) for outcome in outcomes]
    figures: JSON = {name: metric.text(value) for name, value in summary(values).items()}
    return {"unit": metric.unit, **figures, "scenariosAboveZero": sum(value > 0 for value in values)}


PERCENTILES: Final = ("p50", "p95", "p99", "max")


def _cents(text: str) -> str:
    whole, dot, fraction = text.partition(".")
    return f"{whole}.{fraction[:2]}" if dot and fraction[:2].strip("0") else whole


def row(outcome: ScenarioOutcome) -> JSON:
    """Return one scenario's outcome with exact decimal strings."""
    return {"index": outcome.index, "seed": outcome.seed, **{m.key: m.text(m.read(outcome)) for m in METRICS}}


def summary_rows(report: JSON, cents: bool = False) -> list[tuple[str, str, str, str, str, str]]:
    """Return (title, unit, p50, p95, p99, max) for every metric; with `cents`, USD rounded down to 0.01."""
    distributions = report["distributions"]
    assert isinstance(distributions, dict), "build_stress_report writes distributions as a dict"
    rows = []
    for metric in METRICS:
        figures = distributions[metric.key]
        p50, p95, p99, top = (_cents(str(figures[name])) if cents else str(figures[name]) for name in PERCENTILES)
        rows.append((metric.title, metric.unit, p50, p95, p99, top))
    return rows
