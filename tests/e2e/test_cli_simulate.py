"""`crossmargin simulate`, end to end: a seeded stress run writes its report, plots and page, and repeats exactly.

The run replays a flat path with BTC falling 30% over an hour through the engine, with 50 generated
subaccounts and the simulation's market maker; the checks read what a user reads: the exit status,
report.json, report.html and the PNG files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossmargin.cli.main import main

SMALL_RUN = ["--accounts", "50", "--steps", "100", "--shock", "BTC=-30%", "--shock-duration", "1h", "--seed", "1"]
PLOTS = ("prices", "insurance_fund", "liquidations", "utilization", "usdc_borrowed_by_source")


def simulate(out: Path, *arguments: str) -> int:
    return main(["simulate", *arguments, "--out", str(out)])


def test_a_seeded_shock_liquidates_feeds_the_fund_and_repeats_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert simulate(tmp_path / "first", *SMALL_RUN, "--audit-every", "25") == 0
    printed = capsys.readouterr().out
    assert "audit" in printed
    assert "report.html" in printed
    report = json.loads((tmp_path / "first" / "report.json").read_text(encoding="utf-8"))
    assert report["audit"] == {"passed": True, "runs": 5}
    assert report["liquidations"]["started"] >= 1
    assert report["liquidations"]["steps"] >= report["liquidations"]["started"]
    assert float(report["liquidations"]["feesToInsuranceFund"]["USDC"]) > 0
    assert float(report["insuranceFund"]["finalValueUsd"]) > 0
    assert report["badDebt"]["uncoveredByFundUsd"] == "0"
    assert float(report["autoBorrows"]["Reconciliation"]["borrowed"]["USDC"]) > 0, "USDT-only traders' losses"
    assert float(report["autoBorrows"]["SpotMargin"]["borrowed"]["USDC"]) > 0
    assert float(report["interest"]["USDC"]["paidByBorrowers"]) > 0
    assert float(report["tradingFees"]["USDC"]) > 0
    assert report["finalPrices"]["BTC"] == "42000"
    assert len(report["series"]["atMs"]) == 101
    for name in PLOTS:
        assert (tmp_path / "first" / f"{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (tmp_path / "first" / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(PLOTS)
    assert "http://" not in page
    assert "https://" not in page, "self-contained: no CDN"

    assert simulate(tmp_path / "second", *SMALL_RUN, "--audit-every", "25") == 0
    first = (tmp_path / "first" / "report.json").read_bytes()
    assert (tmp_path / "second" / "report.json").read_bytes() == first, "the same seed writes the same report"


def test_a_bad_price_file_is_refused_with_its_line_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("timestamp,symbol,price\n1767225600000,BTC,60000\n1767225660000,BTC,sixty\n", encoding="utf-8")
    assert simulate(tmp_path / "out", "--prices", str(prices), "--accounts", "5") == 1
    error = capsys.readouterr().err
    assert "error:" in error
    assert "line 3: price 'sixty' is not a plain decimal number" in error
    assert not (tmp_path / "out").exists(), "nothing is written for a refused run"


def test_a_csv_path_runs_with_iso_timestamps(tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    rows = [f"2026-01-01T00:{minute:02d}:00Z,ETH,{3000 - 40 * minute}" for minute in range(30)]
    prices.write_text("timestamp,symbol,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert simulate(tmp_path / "out", "--prices", str(prices), "--accounts", "20", "--seed", "3") == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["settings"]["pricePath"] == "CSV prices.csv"
    assert report["finalPrices"]["ETH"] == "1840"
    assert len(report["series"]["atMs"]) == 30


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--shock", "BTC=-30"], "is not a shock"),
        (["--interval", "soon"], "is not a duration"),
        (["--random-walk", "--prices", "prices.csv"], "choose one price source"),
        (["--steps", "0"], "steps and the interval >= 1"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert simulate(tmp_path / "out", "--accounts", "3", *arguments) == 1
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_a_long_random_walk_with_a_crash_keeps_every_invariant(tmp_path: Path) -> None:
    """Goal: a larger crowd over a day of one-minute steps with a crash keeps the audit and ends the sweep clean."""
    arguments = ["--accounts", "1000", "--random-walk", "--steps", "1440", "--shock", "BTC=-40%", "--seed", "11"]
    assert simulate(tmp_path, *arguments, "--shock-at", "6h", "--audit-every", "120") == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["audit"]["passed"] is True
    assert report["liquidations"]["started"] > 0


def test_a_crash_that_shares_losses_reports_the_fund_deficit_before_sharing(tmp_path: Path) -> None:
    """Goal: the report shows the loss where it happened, not only in the text: the series dips below zero."""
    arguments = ["--accounts", "50", "--steps", "30", "--shock", "BTC=-50%", "--shock-duration", "1m", "--seed", "1"]
    assert simulate(tmp_path, *arguments) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["badDebt"]["autoDeleverages"] > 0
    assert report["badDebt"]["lendIndexCuts"] > 0
    before = [float(value) for value in report["series"]["insuranceFundBeforeLossSharingUsd"]]
    assert min(before) < 0
    assert min(before) == float(report["badDebt"]["fundMinBeforeLossSharingUsd"])
    assert min(float(value) for value in report["series"]["insuranceFundUsd"]) >= 0
    assert report["series"]["lendIndexCuts"][-1] == report["badDebt"]["lendIndexCuts"]
