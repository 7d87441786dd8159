"""Rich tables of the API's JSON bodies: what `status`, `markets`, `audit`, `history` and `statement` show people.

Every figure arrives as Backpack's decimal string and is read exactly with `Decimal`; what is
derived here is for display only and rounded toward zero (USD to the cent, percentages to two
places). The overview's initial and maintenance margin ratios are the server's own
(`initialMarginRatio`, `maintenanceMarginRatio` of the collateral body, as the web page shows them);
leverage = borrow liability / net equity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from rich.table import Table
from rich.text import Text

CENT = Decimal("0.01")
STATEMENT_AMOUNTS = ("balance", "position", "change", "running total")
Body = Mapping[str, object]


def number(value: object) -> Decimal | None:
    """Read a decimal string (or number) exactly; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        read = Decimal(str(value))
    except InvalidOperation:
        return None
    return read if read.is_finite() else None


def plain(value: Decimal) -> str:
    """Write a decimal without an exponent: 1E-8 -> '0.00000001'."""
    return f"{value:f}"


def usd(value: object) -> str:
    """Format a USD value with cents, rounded toward zero: '$53,736.73'; '-' when absent."""
    read = number(value)
    if read is None:
        return "-"
    cents = read.quantize(CENT, rounding=ROUND_DOWN)
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def percent(value: object, places: int = 2) -> str:
    """Format a ratio as a percentage, rounded toward zero: '0.03' -> '3.00%'; '-' when absent."""
    read = number(value)
    if read is None:
        return "-"
    return f"{(read * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)}%"


def times(value: Decimal | None) -> str:
    """Format a multiple: '0.04x'; '-' when absent."""
    return "-" if value is None else f"{value.quantize(CENT, rounding=ROUND_DOWN)}x"


def ratio(numerator: object, denominator: object) -> Decimal | None:
    """Return numerator / denominator, or None when either is absent or the denominator is not positive."""
    top, bottom = number(numerator), number(denominator)
    if top is None or bottom is None or bottom <= 0:
        return None
    return top / bottom


def fraction(value: object, places: int = 4) -> str:
    """Format a ratio as a decimal, rounded toward zero: '0.895612413160906141' -> '0.8956'; '-' when absent."""
    read = number(value)
    return "-" if read is None else plain(read.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN).normalize())


def on_off(value: object) -> str:
    """Format a boolean setting."""
    return "on" if value is True else "off" if value is False else "-"


def _rows(value: object) -> list[Body]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def margin_figures(collateral: Body) -> dict[str, Decimal | None]:
    """Return the overview's derived ratios from a `/capital/collateral` body."""
    equity = collateral.get("netEquity")
    return {
        "marginFraction": number(collateral.get("marginFraction")),
        "initialMarginRatio": number(collateral.get("initialMarginRatio")),
        "maintenanceMarginRatio": number(collateral.get("maintenanceMarginRatio")),
        "leverage": ratio(collateral.get("borrowLiability"), equity),
    }


def overview_table(collateral: Body, account: Body, title: str) -> Table:
    """Return the subaccount's cross-margin summary: equity, available, ratios and settings."""
    figures = margin_figures(collateral)
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("net equity", usd(collateral.get("netEquity")))
    table.add_row("available", usd(collateral.get("netEquityAvailable")))
    table.add_row("locked (initial margin)", usd(collateral.get("netEquityLocked")))
    table.add_row("collateral value", usd(collateral.get("assetsValue")))
    table.add_row("borrow liability", usd(collateral.get("borrowLiability")))
    table.add_row("margin fraction", percent(figures["marginFraction"]))
    table.add_row("initial margin ratio (IMR)", percent(figures["initialMarginRatio"]))
    table.add_row("maintenance margin ratio (MMR)", percent(figures["maintenanceMarginRatio"]))
    table.add_row("leverage (limit)", f"{times(figures['leverage'])} ({account.get('leverageLimit', '-')}x)")
    table.add_row("auto-lend", on_off(account.get("autoLend")))
    table.add_row("auto-repay borrows", on_off(account.get("autoRepayBorrows")))
    table.add_row("liquidating", Text("yes", style="bold red") if account.get("liquidating") else "no")
    return table


def assets_table(collateral: Body, positions: Sequence[Body]) -> Table:
    """Return one row per asset held, lent or borrowed: quantities, weight, value, interest, IMF/MMF."""
    held = {str(row.get("symbol")): row for row in _rows(collateral.get("collateral"))}
    open_positions = {str(row.get("symbol")): row for row in positions}
    table = Table(title="Per asset", title_justify="left")
    for column in ("asset", "mark", "balance", "lent", "borrowed", "weight", "collateral", "interest", "IMF", "MMF"):
        table.add_column(column, justify="left" if column == "asset" else "right")
    for symbol in sorted(held.keys() | open_positions.keys()):
        row, position = held.get(symbol, {}), open_positions.get(symbol, {})
        net = number(position.get("netQuantity"))
        borrowed = plain(-net) if net is not None and net < 0 else "-"
        table.add_row(
            symbol,
            str(row.get("assetMarkPrice") or position.get("markPrice") or "-"),
            str(row.get("availableQuantity", "0")),
            str(row.get("lendQuantity", "0")),
            Text(borrowed, style="red") if borrowed != "-" else borrowed,
            fraction(row.get("collateralWeight")),
            usd(row.get("collateralValue")),
            str(position.get("cumulativeInterest", "-")),
            percent(position.get("imf")),
            percent(position.get("mmf")),
        )
    table.caption = "interest: paid on a borrow (entry fee included), earned on a lend"
    return table


def markets_table(markets: Sequence[Body]) -> Table:
    """Return the lending pools: state, size, utilization and rates."""
    table = Table(title="Borrow-lend markets", title_justify="left")
    columns = ("asset", "state", "mark", "lent", "borrowed", "utilization", "borrow APR", "lend APR", "kink", "max U")
    for column in columns:
        table.add_column(column, justify="left" if column in ("asset", "state") else "right")
    for market in markets:
        table.add_row(
            str(market.get("symbol")),
            str(market.get("state")),
            str(market.get("assetMarkPrice")),
            str(market.get("lentQuantity")),
            str(market.get("borrowedQuantity")),
            percent(market.get("utilization")),
            percent(market.get("borrowInterestRate"), 3),
            percent(market.get("lendInterestRate"), 4),
            percent(market.get("optimalUtilization"), 0),
            percent(market.get("maxUtilization"), 0),
        )
    return table


def audit_table(checks: Sequence[Body]) -> Table:
    """Return every invariant check with its verdict."""
    table = Table(title="Audit of the live state", title_justify="left")
    table.add_column("invariant")
    table.add_column("ok")
    table.add_column("detail")
    for check in checks:
        verdict = Text("ok", style="green") if check.get("ok") else Text("BROKEN", style="bold red")
        table.add_row(str(check.get("invariant")), verdict, str(check.get("detail")))
    return table


def interest_table(rows: Sequence[Body], total: str | None) -> Table:
    """Return interest payments (entry fees, hourly borrow interest, lend interest), as given."""
    table = Table(title="Interest history (newest first)", title_justify="left")
    for column in ("time (UTC)", "type", "asset", "quantity", "APR", "covers"):
        table.add_column(column, justify="right" if column in ("quantity", "APR", "covers") else "left")
    for row in rows:
        interval = number(row.get("interval"))
        minutes = "-" if interval is None else f"{(interval / 60_000).quantize(CENT, rounding=ROUND_DOWN)} min"
        table.add_row(
            str(row.get("timestamp")),
            str(row.get("paymentType")),
            str(row.get("symbol")),
            str(row.get("quantity")),
            percent(row.get("interestRate"), 3),
            minutes,
        )
    if total is not None:
        table.caption = f"{total} on the rows shown"
    return table


def movements_table(rows: Sequence[Body]) -> Table:
    """Return borrow-lend movements: borrows, repays, lends and redeems with their source."""
    table = Table(title="Borrow-lend history (newest first)", title_justify="left")
    for column in ("time (UTC)", "event", "asset", "quantity", "position after", "source"):
        table.add_column(column, justify="right" if column in ("quantity", "position after") else "left")
    for row in rows:
        table.add_row(
            str(row.get("timestamp")),
            str(row.get("eventType")),
            str(row.get("symbol")),
            str(row.get("quantity")),
            str(row.get("positionQuantity")),
            str(row.get("source")),
        )
    return table


def statement_table(statement: Body) -> Table:
    """Return one asset's statement: its opening, every row with its running total, its closing."""
    symbol = statement.get("symbol")
    table = Table(title=f"{symbol} statement (oldest first)", title_justify="left")
    for column in ("time (UTC)", "type", "cause", "reference", "balance", "position", "change", "running total"):
        table.add_column(column, justify="right" if column in STATEMENT_AMOUNTS else "left")
    table.add_row("", Text("Opening", style="bold"), "", "", "", "", "", str(statement.get("opening")))
    for row in _rows(statement.get("rows")):
        table.add_row(
            str(row.get("timestamp")),
            str(row.get("type")),
            str(row.get("cause")),
            str(row.get("reference")),
            str(row.get("balanceChange")),
            str(row.get("positionChange")),
            str(row.get("change")),
            str(row.get("runningTotal")),
        )
    table.add_row("", Text("Closing", style="bold"), "", "", "", "", "", str(statement.get("closing")))
    if "balance" in statement:
        table.caption = (
            f"now: balance {statement.get('balance')} + position {statement.get('position')} "
            f"= {statement.get('closing')} {symbol}"
        )
    return table
