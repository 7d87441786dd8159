"""`crossmargin statement` against a real `crossmargin serve --demo`: tables, a CSV that ties out, windows.

A lender lends USDC; a borrower deposits BTC, borrows USDC, buys SOL from the demo market maker,
pays three hours of interest and repays part. The CSV is read back with Python's `csv` module and
`Decimal`, as an accountant's spreadsheet would: in each asset the opening plus the `change` column
gives the closing, and the closing is the balance plus the position the server reports.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Result, live_server, point_cli_at, run_in_process

from crossmargin.cli.statement import CSV_HEADER, utc_text

DEADLINE_SECONDS = 20
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("journal")) as url:
        yield url


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *arguments: str) -> Result:
        return run_in_process(self.capsys, arguments)

    def ok(self, *arguments: str) -> str:
        result = self(*arguments)
        assert result.code == 0, f"{arguments}: {result.err}"
        return result.out

    def data(self, *arguments: str) -> Any:
        return json.loads(self.ok(*arguments, "--json"))


@pytest.fixture
def cli(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    point_cli_at(monkeypatch, server, tmp_path / "config")
    return Cli(capsys)


def _buy_sol_at_market(cli: Cli) -> None:
    """Buy 1 SOL at market, retrying until the demo market maker's first ladder is on the book."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        order = cli.data("order", "place", "SOL_USDC", "buy", "1")
        if order["executedQuantity"] == "1":
            return
        assert time.monotonic() < deadline, f"no SOL ask on the book within {DEADLINE_SECONDS} s: {order}"
        time.sleep(0.1)


def _story(cli: Cli) -> int:
    """Run the module docstring's story with the borrower as the default profile; return when it began (ms).

    The server's manual clock starts at the wall clock's time; the story starts a minute after the
    next full hour, so where the hours fall within it never depends on when the test runs.
    """
    now: int = cli.data("clock", "show")["now"]
    cli.ok("clock", "advance", str(-(-(HOUR_MS - now % HOUR_MS) // 1000) + 60))
    cli.ok("account", "create", "--save", "lender")
    cli.ok("deposit", "USDC", "10000", "--profile", "lender")
    cli.ok("lend", "USDC", "10000", "--profile", "lender")
    began: int = cli.data("clock", "show")["now"]
    cli.ok("account", "create", "--save")
    cli.ok("deposit", "BTC", "1")
    cli.ok("borrow", "USDC", "2000")
    _buy_sol_at_market(cli)
    cli.ok("clock", "advance", "3h")
    cli.ok("repay", "USDC", "500")
    return began


def _read_csv(text: str) -> tuple[list[str], dict[str, list[dict[str, str]]]]:
    """Return the CSV's header and its lines by symbol."""
    reader = csv.DictReader(io.StringIO(text))
    by_symbol: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in reader:
        by_symbol[line["symbol"]].append(line)
    return list(reader.fieldnames or []), by_symbol


def _tie_out(lines: list[dict[str, str]]) -> tuple[Decimal, Decimal]:
    """Assert opening + the change column = closing, as a spreadsheet sums it; return (opening, closing)."""
    opening, *rows, closing = lines
    assert (opening["type"], closing["type"]) == ("Opening", "Closing")
    assert opening["change"] == closing["change"] == "", "only movements carry a change"
    total = Decimal(opening["running_total"]) + sum((Decimal(row["change"]) for row in rows), Decimal(0))
    assert total == Decimal(closing["running_total"]), f"{opening['symbol']}: opening + changes = closing"
    return Decimal(opening["running_total"]), Decimal(closing["running_total"])


def test_the_statement_csv_ties_out_to_the_balance_and_position_of_every_asset(cli: Cli) -> None:
    _story(cli)

    header, by_symbol = _read_csv(cli.ok("statement", "--csv"))
    served: list[dict[str, Any]] = cli.data("statement")

    assert header == list(CSV_HEADER)
    assert sorted(by_symbol) == ["BTC", "SOL", "USDC"]
    for asset in served:
        lines = by_symbol[asset["symbol"]]
        opening, closing = _tie_out(lines)
        assert opening == 0
        assert closing == Decimal(asset["balance"]) + Decimal(asset["position"]), f"INV-STATEMENT-1: {asset}"
        assert {line["subaccount"] for line in lines} == {str(asset["subaccountId"])}
        assert [line["change"] for line in lines[1:-1]] == [row["change"] for row in asset["rows"]]
    usdc = {(line["type"], line["cause"]) for line in by_symbol["USDC"]}
    assert {("BorrowLend", "Borrow (Manual)"), ("Interest", "EntryFee"), ("Interest", "Borrow")} <= usdc
    assert ("BorrowLend", "BorrowRepay (Manual)") in usdc
    assert [line["type"] for line in by_symbol["SOL"]] == ["Opening", "Trade", "Closing"]


def test_a_lenders_csv_shows_its_entry_fee_share_and_ties_out(cli: Cli) -> None:
    _story(cli)

    _, by_symbol = _read_csv(cli.ok("statement", "--csv", "--profile", "lender"))
    (served,) = cli.data("statement", "--profile", "lender")

    (share,) = [line for line in by_symbol["USDC"] if (line["type"], line["cause"]) == ("Interest", "EntryFee")]
    assert Decimal(share["position_change"]) > 0
    _, closing = _tie_out(by_symbol["USDC"])
    assert closing == Decimal(served["balance"]) + Decimal(served["position"]) > 10000


def test_windows_given_in_ms_and_iso_chain_from_one_closing_to_the_next_opening(cli: Cli) -> None:
    began = _story(cli)
    cut = began + 2 * HOUR_MS

    _, early = _read_csv(cli.ok("statement", "--csv", "--symbol", "usdc", "--to", str(cut)))
    _, late = _read_csv(cli.ok("statement", "--csv", "--symbol", "USDC", "--from", utc_text(cut) + "Z"))
    (whole,) = cli.data("statement", "--symbol", "USDC")

    assert list(early) == list(late) == ["USDC"]
    early_opening, early_closing = _tie_out(early["USDC"])
    late_opening, late_closing = _tie_out(late["USDC"])
    assert early_opening == 0
    assert late_opening == early_closing
    assert late_closing == Decimal(whole["closing"])
    assert early["USDC"][-1]["timestamp"] == late["USDC"][0]["timestamp"] == utc_text(cut)
    assert len(early["USDC"]) + len(late["USDC"]) - 4 == len(whole["rows"]), "every row in one window"


def test_the_default_table_shows_opening_rows_closing_and_now(cli: Cli) -> None:
    _story(cli)

    shown = cli.ok("statement", "--symbol", "USDC")
    (served,) = cli.data("statement", "--symbol", "USDC")

    assert "USDC statement (oldest first)" in shown
    assert "Opening" in shown
    assert "Closing" in shown
    assert f"now: balance {served['balance']} + position {served['position']} = {served['closing']} USDC" in shown
    assert "EntryFee" in shown


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--from", "yesterday"), "--from 'yesterday' is not a time: write an ISO date or time"),
        (("--to", "1969-12-31"), "--to '1969-12-31' is before 1970"),
        (("--csv", "--json"), "--csv and --json each print the whole statement: pick one"),
        (("--from", "2026-01-02", "--to", "2026-01-01"), "error INVALID_CLIENT_REQUEST: from (1767312000000)"),
        (("--symbol", "DOGE"), "error INVALID_ASSET: Unknown asset 'DOGE'"),
    ],
)
def test_a_bad_statement_request_says_what_to_fix(cli: Cli, arguments: tuple[str, ...], message: str) -> None:
    cli.ok("account", "create", "--save")

    refused = cli("statement", *arguments)

    assert refused.code == 1
    assert message in refused.err
