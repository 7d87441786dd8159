"""`crossmargin statement`: every movement of your assets, as tables or as one CSV an accountant can tie out.

The server's `GET /wapi/v1/statement` answers, per asset, the opening (what the rows before
`--from` add up to), the rows of the window with their running totals, the closing and, without
`--to`, the balance and position now, which add up to the closing exactly. By default each asset is
a table (opening, rows, closing); `--csv` writes one CSV to stdout instead (`CSV_HEADER`): per
asset an `Opening` line, one line per row and a `Closing` line, so that in every asset the opening
plus the `change` column gives the closing. Amounts are the server's exact decimal strings, never
re-rounded; times are UTC. `--from`/`--to` take an ISO date or time (UTC unless it names an offset)
or milliseconds since 1970.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Final

from crossmargin.cli import tables
from crossmargin.cli.context import CommandError, Context

Body = Mapping[str, object]

CSV_HEADER: Final = (
    "subaccount",
    "symbol",
    "timestamp",
    "type",
    "cause",
    "reference",
    "balance_change",
    "position_change",
    "change",
    "running_total",
)
OPENING: Final = "Opening"
CLOSING: Final = "Closing"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND: Final = timedelta(milliseconds=1)


def _list(value: object) -> list[Body]:
    if not isinstance(value, list):
        raise CommandError(f"the server answered {value!r} where a JSON list belongs: is it a crossmargin server?")
    return [item for item in value if isinstance(item, Mapping)]


def parse_when(text: str, option: str) -> int:
    """Read `--from`/`--to`: milliseconds since 1970, or an ISO date or time (UTC unless it says otherwise)."""
    given = text.strip()
    if given.isascii() and given.isdigit():
        return int(given)
    try:
        moment = datetime.fromisoformat(given)
    except ValueError:
        raise CommandError(
            f"{option} {text!r} is not a time: write an ISO date or time in UTC (2026-01-01, 2026-01-01T05:00, "
            "2026-01-01T07:00+02:00) or milliseconds since 1970 (1767225600000)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment < EPOCH:
        raise CommandError(f"{option} {text!r} is before 1970: statements start at 1970-01-01")
    return (moment - EPOCH) // MILLISECOND


def utc_text(ms: int) -> str:
    """Write milliseconds since 1970 as the server writes times: '2026-01-01T05:00:00', '...05:00:00.250' (UTC)."""
    text = (EPOCH + ms * MILLISECOND).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ms % 1000:03d}" if ms % 1000 else text


def statement(ctx: Context) -> int:
    """Show the statement of every asset (or `--symbol`), from `--from` to `--to`, as tables, CSV or JSON."""
    ctx.require_credentials()
    arguments = ctx.arguments
    if arguments.csv and arguments.json:
        raise CommandError("--csv and --json each print the whole statement: pick one")
    query: dict[str, str | int | bool] = {}
    if arguments.symbol:
        query["symbol"] = arguments.symbol.upper()
    start = None if arguments.start is None else parse_when(arguments.start, "--from")
    end = None if arguments.end is None else parse_when(arguments.end, "--to")
    if start is not None:
        query["from"] = start
    if end is not None:
        query["to"] = end
    statements = _list(ctx.client.signed("GET", "/wapi/v1/statement", "statementQuery", query))
    ctx.out.data(statements)
    if arguments.csv:
        write_csv(statements, ctx.out.console.file, start, end)
        return 0
    if not statements:
        ctx.out.note("No movements yet: deposit, trade or borrow first.")
        return 0
    for asset in statements:
        ctx.out.show(tables.statement_table(asset))
    return 0


def csv_lines(statements: Sequence[Body], start: int | None, end: int | None) -> list[list[str]]:
    """Return the CSV's lines: the header, then per asset its opening, its rows and its closing."""
    lines = [list(CSV_HEADER)]
    for asset in statements:
        subaccount, symbol = str(asset.get("subaccountId")), str(asset.get("symbol"))
        opened = f"Total at {'the start' if start is None else utc_text(start)}"
        lines.append(_total_line(subaccount, symbol, start, OPENING, opened, asset.get("opening")))
        lines.extend(
            [
                subaccount,
                symbol,
                str(row.get("timestamp")),
                str(row.get("type")),
                str(row.get("cause")),
                str(row.get("reference")),
                str(row.get("balanceChange")),
                str(row.get("positionChange")),
                str(row.get("change")),
                str(row.get("runningTotal")),
            ]
            for row in _list(asset.get("rows", []))
        )
        lines.append(_total_line(subaccount, symbol, end, CLOSING, _closing_cause(asset, end), asset.get("closing")))
    return lines


def _total_line(subaccount: str, symbol: str, at_ms: int | None, kind: str, cause: str, total: object) -> list[str]:
    """Return an opening or closing line: no changes, only the total (at the window's edge, if it has one)."""
    return [subaccount, symbol, "" if at_ms is None else utc_text(at_ms), kind, cause, "", "", "", "", str(total)]


def _closing_cause(asset: Body, end: int | None) -> str:
    if "balance" in asset:
        return f"Balance {asset.get('balance')} + position {asset.get('position')} now"
    return "Total at the end" if end is None else f"Total before {utc_text(end)}"


def write_csv(statements: Sequence[Body], out: IO[str], start: int | None, end: int | None) -> None:
    """Write the statement as CSV (`csv_lines`) to `out`."""
    csv.writer(out, lineterminator="\n").writerows(csv_lines(statements, start, end))
