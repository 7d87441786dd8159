"""The simulation's report: totals from the state's history and the run's samples, as JSON and HTML.

Every figure is read from what the engine keeps: interest from the pools' cumulative counters
(borrowers charged, lenders credited, the pool's fee) and the entry fees; auto-borrows from the
borrow-lend movements by source; liquidations from the liquidation steps and takeovers; bad debt
from the lend-index cuts and auto-deleverages, with what loss sharing covered (the fund's value
after each sharing less before, so `insuranceFundBeforeLossSharingUsd` is the fund had no loss been
shared: below zero where lenders or ADL counterparties paid); trading fees from the `TRADING_FEES`
ledger account.
Quantities are exact decimal strings; USD values in the time series are rounded down to 1e-6.
The report holds nothing that differs between two runs of one seed (no wall-clock time), so the
same seed writes the same `report.json`.
"""

from __future__ import annotations

import base64
import html
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, TypeAlias

from crossmargin.core.events import BorrowLendEventType
from crossmargin.core.ledger import TRADING_FEES
from crossmargin.core.numbers import format_scaled
from crossmargin.core.state import EngineState
from crossmargin.simulation.runner import Sample, Simulation

JSON: TypeAlias = dict[str, object]
AUTO_BORROW_SOURCES: Final = ("SpotMargin", "Reconciliation", "AutoBorrowRepay", "BackstopProvider")


def usd(value_wad: int) -> str:
    """Return a WAD USD value as a decimal string rounded down to 1e-6."""
    return format_scaled(value_wad // 10**12, 6)


def build_report(simulation: Simulation, settings: Mapping[str, object]) -> JSON:
    """Return the report of a finished run as a JSON-ready dict."""
    state = simulation.state
    samples = simulation.samples
    fund_values = [sample.fund_value_wad for sample in samples]
    return {
        "settings": dict(settings),
        "population": dict(sorted(Counter(role.value for role in simulation.roles.values()).items())),
        "setupRefusals": dict(sorted(simulation.refusals.items())),
        "commands": simulation.commands,
        "audit": {"passed": True, "runs": simulation.audits},
        "interest": _interest(state),
        "autoBorrows": _auto_borrows(state),
        "liquidations": _liquidations(simulation),
        "insuranceFund": {
            "finalValueUsd": usd(fund_values[-1]),
            "minValueUsd": usd(min(fund_values)),
            "maxValueUsd": usd(max(fund_values)),
        },
        "badDebt": {**_bad_debt(state, fund_values[-1]), **_shared(simulation)},
        "tradingFees": {
            symbol: _quantity(state, symbol, balance)
            for (account, symbol), balance in sorted(state.ledger.items(), key=lambda item: item[0][1])
            if account == TRADING_FEES and balance
        },
        "finalPrices": {symbol: format_scaled(price, 18) for symbol, price in sorted(state.mark_prices_wad.items())},
        "series": _series(samples),
    }


def _quantity(state: EngineState, symbol: str, atoms: int) -> str:
    return format_scaled(atoms, state.specs[symbol].decimals)


def _interest(state: EngineState) -> JSON:
    entry_fees: dict[str, int] = defaultdict(int)
    for fee in state.entry_fees:
        entry_fees[fee.symbol] += fee.quantity_atoms
    return {
        symbol: {
            "paidByBorrowers": _quantity(state, symbol, pool.interest_borrowers_atoms),
            "earnedByLenders": _quantity(state, symbol, pool.interest_lenders_atoms),
            "poolFee": _quantity(state, symbol, pool.interest_fee_atoms),
            "entryFees": _quantity(state, symbol, entry_fees[symbol]),
        }
        for symbol, pool in sorted(state.pools.items())
    }


def _auto_borrows(state: EngineState) -> JSON:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: Counter[str] = Counter()
    for movement in state.movements:
        if movement.event_type is BorrowLendEventType.BORROW and movement.source.value in AUTO_BORROW_SOURCES:
            totals[movement.source.value][movement.symbol] += movement.quantity_atoms
            counts[movement.source.value] += 1
    return {
        source: {
            "count": counts[source],
            "borrowed": {symbol: _quantity(state, symbol, atoms) for symbol, atoms in sorted(totals[source].items())},
        }
        for source in sorted(totals)
    }


def _liquidations(simulation: Simulation) -> JSON:
    state = simulation.state
    fees: dict[str, int] = defaultdict(int)
    for step in state.liquidation_steps:
        fees[step.fee_symbol] += step.fee_atoms
    liquidated = {step.subaccount_id for step in state.liquidation_steps} | {
        backstop.subaccount_id for backstop in state.backstops
    }
    return {
        "started": simulation.liquidations,
        "subaccounts": len(liquidated),
        "byRole": dict(
            sorted(Counter(simulation.roles[sub].value for sub in liquidated if sub in simulation.roles).items())
        ),
        "steps": len(state.liquidation_steps),
        "stepsByKind": dict(sorted(Counter(step.kind.value for step in state.liquidation_steps).items())),
        "feesToInsuranceFund": {symbol: _quantity(state, symbol, atoms) for symbol, atoms in sorted(fees.items())},
        "backstops": len(state.backstops),
    }


def _bad_debt(state: EngineState, fund_value_wad: int) -> JSON:
    cuts: dict[str, int] = defaultdict(int)
    for cut in state.lend_index_cuts:
        cuts[cut.symbol] += cut.loss_atoms
    adl: dict[str, int] = defaultdict(int)
    for deleverage in state.auto_deleverages:
        adl[deleverage.market] += deleverage.loss_atoms
    return {
        "lendIndexCuts": len(state.lend_index_cuts),
        "lossToLenders": {symbol: _quantity(state, symbol, atoms) for symbol, atoms in sorted(cuts.items())},
        "autoDeleverages": len(state.auto_deleverages),
        "lossToAdlCounterparties": {
            market: format_scaled(atoms, state.markets[market].quote_decimals) for market, atoms in sorted(adl.items())
        },
        "uncoveredByFundUsd": usd(max(-fund_value_wad, 0)),
    }


def _shared(simulation: Simulation) -> JSON:
    """Return what loss sharing covered and who paid, in USD at the marks of its step (see `Simulation`)."""
    fund = [sample.fund_before_sharing_wad for sample in simulation.samples]
    return {
        "lossSharingSteps": simulation.loss_sharing_steps,
        "coveredByLossSharingUsd": usd(simulation.loss_shared_wad),
        "lossToLendersUsd": usd(simulation.lender_loss_wad),
        "lossToAdlCounterpartiesUsd": usd(simulation.adl_loss_wad),
        "fundMinBeforeLossSharingUsd": usd(min(fund)),
    }


def _series(samples: Sequence[Sample]) -> JSON:
    symbols = sorted({symbol for sample in samples for symbol in sample.prices_wad})
    pools = sorted({symbol for sample in samples for symbol in sample.utilization_wad})
    sources = sorted({source for sample in samples for source in sample.usdc_borrowed_by_source})
    return {
        "atMs": [sample.at_ms for sample in samples],
        "prices": {s: [format_scaled(x.prices_wad.get(s, 0), 18) for x in samples] for s in symbols},
        "insuranceFundUsd": [usd(sample.fund_value_wad) for sample in samples],
        "insuranceFundBeforeLossSharingUsd": [usd(sample.fund_before_sharing_wad) for sample in samples],
        "lendIndexCuts": [sample.lend_index_cuts for sample in samples],
        "autoDeleverages": [sample.auto_deleverages for sample in samples],
        "liquidations": [sample.liquidations for sample in samples],
        "liquidationSteps": [sample.liquidation_steps for sample in samples],
        "backstops": [sample.backstops for sample in samples],
        "utilization": {s: [format_scaled(x.utilization_wad.get(s, 0), 18) for x in samples] for s in pools},
        "usdcBorrowedBySource": {
            source: [format_scaled(x.usdc_borrowed_by_source.get(source, 0), 6) for x in samples] for source in sources
        },
    }


def write_json(report: JSON, path: Path) -> None:
    """Write the report as indented JSON with sorted keys (byte-identical for one seed)."""
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_html(report: JSON, images: Sequence[Path], path: Path) -> None:
    """Write a self-contained HTML page: the totals as tables and every plot embedded as a PNG."""
    sections = [
        (title, report[key])
        for key, title in (
            ("settings", "Settings"),
            ("population", "Population"),
            ("liquidations", "Liquidations"),
            ("insuranceFund", "Insurance fund"),
            ("badDebt", "Bad debt"),
            ("interest", "Interest (exact, per asset)"),
            ("autoBorrows", "Auto-borrows by source"),
            ("tradingFees", "Trading fees"),
            ("setupRefusals", "Set-up commands the engine refused"),
        )
    ]
    audit = report["audit"]
    runs = audit["runs"] if isinstance(audit, dict) else 0
    intro = f"The audit passed {runs} time(s), at the end included. {report['commands']} commands ran."
    write_page(path, "crossmargin stress simulation", intro, images, sections)


def write_page(
    path: Path, heading: str, intro: str, images: Sequence[Path], sections: Sequence[tuple[str, object]]
) -> None:
    """Write a self-contained HTML page: a heading, an intro line, the PNGs embedded, then each section as a table."""
    figures = [
        f'<figure><img alt="{html.escape(image.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(image.read_bytes()).decode("ascii")}"></figure>'
        for image in images
    ]
    tables = [f"<h2>{html.escape(title)}</h2>{_table(value)}" for title, value in sections]
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(heading)}</h1>"
        f"<p>{html.escape(intro)}</p>" + "".join(figures) + "".join(tables) + "</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")


STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%}figure{margin:1em 0}"
)


def _table(value: object) -> str:
    if isinstance(value, dict):
        if not value:
            return "<p>none</p>"
        rows = "".join(
            f"<tr><th>{html.escape(str(key))}</th><td>{_table(item)}</td></tr>" for key, item in value.items()
        )
        return f"<table>{rows}</table>"
    if value is None:
        return "&mdash;"
    if isinstance(value, list):
        return html.escape(", ".join(str(item) for item in value)) or "none"
    return html.escape(str(value))
