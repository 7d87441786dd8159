"""`crossmargin statement`'s own parts: reading `--from`/`--to`, writing times, and the CSV's lines."""

from __future__ import annotations

import pytest

from crossmargin.cli.context import CommandError
from crossmargin.cli.statement import CSV_HEADER, csv_lines, parse_when, utc_text

NEW_YEAR_MS = 1_767_225_600_000  # 2026-01-01T00:00:00 UTC
FIVE_AM_MS = NEW_YEAR_MS + 5 * 3_600_000


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1767225600000", NEW_YEAR_MS),
        ("2026-01-01", NEW_YEAR_MS),
        ("2026-01-01T05:00", FIVE_AM_MS),
        ("2026-01-01T05:00:00Z", FIVE_AM_MS),
        ("2026-01-01T07:00:00+02:00", FIVE_AM_MS),
        ("2026-01-01T05:00:00.250", FIVE_AM_MS + 250),
        (" 0 ", 0),
    ],
)
def test_a_time_is_read_from_ms_or_iso_in_utc_unless_it_names_an_offset(given: str, expected: int) -> None:
    assert parse_when(given, "--from") == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("yesterday", "--to 'yesterday' is not a time"),
        ("-5", "--to '-5' is not a time"),
        ("1969-12-31T23:59:59Z", "--to '1969-12-31T23:59:59Z' is before 1970"),
    ],
)
def test_a_time_that_is_not_one_is_refused_saying_how_to_write_it(given: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_when(given, "--to")


def test_times_are_written_as_the_server_writes_them() -> None:
    assert utc_text(FIVE_AM_MS) == "2026-01-01T05:00:00"
    assert utc_text(FIVE_AM_MS + 250) == "2026-01-01T05:00:00.250"
    assert parse_when(utc_text(FIVE_AM_MS + 7), "--from") == FIVE_AM_MS + 7


def test_each_asset_gets_an_opening_its_rows_and_a_closing_that_names_balance_and_position() -> None:
    row = {
        "timestamp": "2026-01-01T05:00:00",
        "type": "Interest",
        "cause": "Borrow",
        "reference": "position 2",
        "balanceChange": "0",
        "positionChange": "-0.125",
        "change": "-0.125",
        "runningTotal": "99.875",
    }
    asset = {
        "subaccountId": 7,
        "symbol": "USDC",
        "opening": "100",
        "closing": "99.875",
        "balance": "1100",
        "position": "-1000.125",
        "rows": [row],
    }

    lines = csv_lines([asset], NEW_YEAR_MS, None)

    assert lines == [
        list(CSV_HEADER),
        ["7", "USDC", "2026-01-01T00:00:00", "Opening", "Total at 2026-01-01T00:00:00", "", "", "", "", "100"],
        ["7", "USDC", "2026-01-01T05:00:00", "Interest", "Borrow", "position 2", "0", "-0.125", "-0.125", "99.875"],
        ["7", "USDC", "", "Closing", "Balance 1100 + position -1000.125 now", "", "", "", "", "99.875"],
    ]


def test_a_window_with_an_end_closes_at_that_time_without_now() -> None:
    asset = {"subaccountId": 7, "symbol": "BTC", "opening": "0", "closing": "0", "rows": []}

    lines = csv_lines([asset], None, FIVE_AM_MS)

    assert lines[1][2:5] == ["", "Opening", "Total at the start"]
    assert lines[2][2:5] == ["2026-01-01T05:00:00", "Closing", "Total before 2026-01-01T05:00:00"]
