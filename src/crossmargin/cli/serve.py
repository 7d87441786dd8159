"""`crossmargin serve`: the exchange over HTTP, on SQLite by default or PostgreSQL by URL.

It opens the service (rebuilding state from the journal), starts the scheduler on the wall clock
(hourly interest and funding, 10-second settlements), sets demo prices and a demo liquidity
provider on a fresh journal (so borrowing works at once), starts the demo market maker (unless
`--no-market-maker`) and the risk monitor that liquidates (unless `--no-risk-monitor`), prints
where it listens, the admin token (only one it generated: a chosen one is named by its source) and a
first command, and on Ctrl-C or SIGTERM stops taking requests, lets queued commands finish and
closes the journal with a snapshot.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from rich.console import Console

from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock, WallClock
from crossmargin.app.market_maker import MarketMaker, ensure_market_maker
from crossmargin.app.ports import Clock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.app.service import Service
from crossmargin.bootstrap import open_service
from crossmargin.cli.admin_token import choose_admin_token
from crossmargin.core.commands import BorrowLendSide, Command, CreateAccount, Deposit, ExecuteBorrowLend, SetMarkPrices
from crossmargin.core.engine import Accepted
from crossmargin.core.events import AccountCreated
from crossmargin.core.numbers import parse_decimal

DEMO_PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
DEMO_LIQUIDITY = {"USDC": "10000000", "USDT": "5000000", "BTC": "200", "ETH": "3000", "SOL": "50000"}


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `crossmargin serve` was asked for."""

    host: str
    port: int
    database_url: str | None
    data_dir: Path
    clock: str
    demo: bool
    assets_file: Path | None
    admin_token: str | None
    market_maker: bool = True
    risk_monitor: bool = True
    allowed_hosts: tuple[str, ...] = ()


def _accept(service: Service, command: Command) -> Accepted:
    result = service.execute(command)
    assert isinstance(result, Accepted), f"demo set-up is always accepted: {result}"
    return result


def seed_demo(service: Service) -> bool:
    """On a fresh journal, set demo prices and let a liquidity provider supply every pool."""
    if service.read(lambda state: bool(state.subaccounts) or bool(state.mark_prices_wad)):
        return False
    specs = service.read(lambda state: dict(state.specs))
    prices = tuple((symbol, parse_decimal(price, 18)) for symbol, price in DEMO_PRICES.items() if symbol in specs)
    _accept(service, SetMarkPrices(prices))
    created = next(event for event in _accept(service, CreateAccount()).events if isinstance(event, AccountCreated))
    for symbol, quantity in DEMO_LIQUIDITY.items():
        if symbol in specs:
            atoms = parse_decimal(quantity, specs[symbol].decimals)
            _accept(service, Deposit(created.subaccount_id, symbol, atoms))
            _accept(service, ExecuteBorrowLend(created.subaccount_id, symbol, BorrowLendSide.LEND, atoms))
    return True


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_server(options: ServeOptions, console: Console) -> None:
    """Serve until interrupted; lose nothing on the way out."""
    clock: Clock = ManualClock(int(time.time() * 1000)) if options.clock == "manual" else WallClock()
    service = open_service(options.database_url, options.data_dir, clock, options.assets_file)
    scheduler = (
        HourlyScheduler(
            service.submit, clock, settlement_due_ms=lambda: service.peek(lambda state: state.settlement_due_ms)
        )
        if options.clock == "wall"
        else None
    )
    maker: MarketMaker | None = None
    monitor = RiskMonitor(service) if options.risk_monitor else None
    admin_token = choose_admin_token(options.admin_token, os.environ)
    try:
        seeded = seed_demo(service) if options.demo else False
        if scheduler is not None:
            scheduler.start()
        if options.demo and options.market_maker:
            maker = MarketMaker(service, ensure_market_maker(service)[0])
            maker.start()
        if monitor is not None:
            monitor.start()
        where = options.database_url or f"SQLite in {options.data_dir}"
        url = f"http://{options.host}:{options.port}"
        console.print(
            f"[bold]crossmargin[/] listening on {url}  (journal: {where}, clock: {options.clock})", soft_wrap=True
        )
        if seeded:
            console.print("Demo: prices set and every pool supplied by a demo lender.", soft_wrap=True)
        if maker is not None:
            console.print(
                f"Demo: a market maker (subaccount {maker.subaccount_id}) quotes every book around the index "
                "(--no-market-maker to turn it off).",
                soft_wrap=True,
            )
        console.print(admin_token.describe(), soft_wrap=True)
        console.print(
            f"Web page: {url}/lend  (sign in with an API key and secret, or as operator with the admin token)",
            soft_wrap=True,
        )
        console.print(
            "First command:\n"
            f"  curl -s -X POST {url}/admin/v1/accounts {admin_token.curl_header()} "
            "-H 'Content-Type: application/json' -d '{}'",
            soft_wrap=True,
        )
        config = uvicorn.Config(
            create_app(
                service, admin_token.value, risk_monitor=monitor, allowed_hosts=(options.host, *options.allowed_hosts)
            ),
            host=options.host,
            port=options.port,
            log_level="warning",
        )
        # uvicorn shuts down gracefully, then re-raises the signal it caught; with SIGTERM's default
        # action that would end the process before the journal is closed, so make it an exception.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.Server(config).run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if monitor is not None:
            monitor.stop()
        if maker is not None:
            maker.stop()
        if scheduler is not None:
            scheduler.stop()
        service.close()
        console.print("Stopped; every acknowledged command is in the journal.", soft_wrap=True)
