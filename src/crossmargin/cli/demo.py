"""A short demo of the engine in the terminal: borrow against BTC, watch interest arrive.

It runs the real service (sequencer, SQLite journal in a temporary data directory, manual clock),
not a mock: every step below is a command that is journaled before its result is shown.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.bootstrap import open_service
from crossmargin.cli.present import percent, quantity, usd
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable
from crossmargin.core.events import AccountCreated, EntryFeeCharged
from crossmargin.core.history import compute_interest_history
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

USDC = 10**6
BTC = 10**8
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def run_demo(console: Console, data_dir: Path | None = None) -> None:
    """Play the demo, journaling into `data_dir` (a temporary directory by default)."""
    with tempfile.TemporaryDirectory(prefix="crossmargin-demo-") as scratch:
        directory = data_dir or Path(scratch)
        service = open_service(None, directory, ManualClock(START_MS), None)
        try:
            _play(console, service, directory)
        finally:
            service.close()


def _accept(service: Service, command: Command) -> Accepted:
    result = service.execute(command)
    assert isinstance(result, Accepted), result
    return result


def _new_subaccount(service: Service) -> SubaccountId:
    (event,) = _accept(service, CreateAccount()).events
    assert isinstance(event, AccountCreated)
    return event.subaccount_id


def _play(console: Console, service: Service, directory: Path) -> None:
    console.rule("[bold]crossmargin demo[/]: cross-margin borrowing, exact to the atom")
    console.print(f"Journal: SQLite in {directory} (every step is durable before it is shown)\n")
    _accept(service, SetMarkPrices((("BTC", 60_000 * WAD), ("USDC", WAD), ("USDT", WAD))))
    lender = _new_subaccount(service)
    _accept(service, Deposit(lender, "USDC", 1_000_000 * USDC))
    _accept(service, ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, 1_000_000 * USDC))
    console.print("A lender supplies [bold]1,000,000 USDC[/] to the USDC pool.")
    borrower = _new_subaccount(service)
    _accept(service, Deposit(borrower, "BTC", BTC))
    console.print("A borrower deposits [bold]1 BTC[/] at $60,000. Every asset held is collateral.\n")
    _show_margin(console, service, borrower, "Before borrowing")

    service.advance_clock(50 * 60)
    result = _accept(service, ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, 2_000 * USDC))
    fee = next(event for event in result.events if isinstance(event, EntryFeeCharged))
    console.print(
        f"00:50 — borrow [bold]2,000 USDC[/] at {percent(fee.rate_wad, 2)} APR: entry fee "
        f"[bold]{quantity(fee.quantity_atoms, 6, 'USDC')}[/] for the 10 minutes to the next full hour."
    )
    service.advance_clock(10 * 60)
    console.print("01:00 — the first hourly interest is added to the debt.")
    service.advance_clock(3 * 24 * 3600)
    console.print("…the clock jumps three days: 72 hourly charges, each at its own hour's rate.\n")
    _show_interest(console, service, borrower)
    _show_margin(console, service, borrower, "After three days")

    refused = service.execute(ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, 600_000 * USDC))
    assert isinstance(refused, Rejected)
    console.print(f"Borrow 600,000 USDC more → [red]refused[/]: {refused.rejection.message}\n")
    audit = service.audit()
    console.print(f"Audit: {sum(check.ok for check in audit)} of {len(audit)} invariant checks hold.")


def _show_margin(console: Console, service: Service, subaccount_id: SubaccountId, title: str) -> None:
    def read(state: EngineState) -> Table:
        tx = StateView(state)
        summary = compute_subaccount_margin(tx, state.subaccounts[subaccount_id])
        table = Table(title=title, title_justify="left")
        for column in ("net equity", "available", "margin fraction", "IMR", "MMR", "max borrowable"):
            table.add_column(column, justify="right")
        most = compute_max_borrowable(tx, subaccount_id, "USDC")
        table.add_row(
            usd(summary.net_equity_wad),
            usd(summary.available_wad),
            percent(summary.margin_fraction, 2),
            percent(summary.initial_margin_ratio, 2),
            percent(summary.maintenance_margin_ratio, 2),
            quantity(most, 6, "USDC"),
        )
        return table

    console.print(service.read(read))
    console.print()


def _show_interest(console: Console, service: Service, subaccount_id: SubaccountId) -> None:
    def read(state: EngineState) -> Table:
        rows = compute_interest_history(state, subaccount_id)
        table = Table(
            title=f"Interest history (newest first, {len(rows)} rows; first and last 3)", title_justify="left"
        )
        for column in ("hour (UTC)", "kind", "quantity", "APR"):
            table.add_column(column, justify="right")
        for row in [*rows[:3], *rows[-3:]]:
            minutes = (row.at_ms - START_MS) // 60_000
            table.add_row(
                f"day {minutes // 1440} {minutes % 1440 // 60:02d}:{minutes % 60:02d}",
                row.kind.value,
                quantity(row.quantity_atoms, 6, row.symbol),
                percent(row.rate_wad, 3),
            )
        total = sum(row.quantity_atoms for row in rows)
        table.caption = f"total interest: {quantity(total, 6, 'USDC')}"
        return table

    console.print(service.read(read))
    console.print()
