"""The `crossmargin` command: entry point and sub-commands.

`demo` plays the engine in the terminal and `serve` runs the HTTP server; every other
sub-command is a client of a running server (`crossmargin.cli.commands`), sharing the options
`--url`, `--admin-token`, `--profile`, `--api-key`/`--api-secret` and `--json`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from rich.console import Console

from crossmargin.cli.backpack_args import add_backpack_arguments, backpack_options_from
from crossmargin.cli.edge_args import add_edge_arguments, rate_limit_settings_from
from crossmargin.cli.replica_args import add_promote_arguments, add_replica_arguments
from crossmargin.cli.simulate_args import add_simulate_command
from crossmargin.cli.stress_args import add_stress_command
from crossmargin.cli.trading_args import add_trading_commands
from crossmargin.core.numbers import WAD, Ratio


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `crossmargin` command."""
    parser = argparse.ArgumentParser(
        prog="crossmargin", description="Cross-margin borrow/lend engine and exchange core."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="play a short demo of the engine in the terminal")
    demo.add_argument(
        "--data-dir", type=Path, default=None, help="keep the demo's journal here (default: a temporary directory)"
    )
    _add_backup_command(commands)
    serve = commands.add_parser("serve", help="serve Backpack's REST API and the operator API over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    _add_journal_location(serve, "postgresql://...", "SQLite journal directory")
    serve.add_argument(
        "--clock",
        type=_clock_choice,
        default="wall",
        metavar="wall|manual|accelerated:N",
        help="wall clock, a manual one advanced by the operator API, or engine time running N times as fast "
        "as the wall clock from the start (accelerated:60: an engine hour per wall minute)",
    )
    serve.add_argument(
        "--prices",
        default=None,
        metavar="demo|backpack|FILE|none",
        help="where index prices come from between operator updates: demo (a seeded correlated random walk), "
        "backpack (mirror Backpack's live index prices), a timestamp,symbol,price CSV replayed from the start, "
        "or none (default: demo with --demo on a flowing clock, else none)",
    )
    serve.add_argument("--price-seed", type=int, default=1, metavar="N", help="seed of the demo price walk (default 1)")
    serve.add_argument(
        "--price-file-times",
        choices=("relative", "absolute"),
        default="relative",
        help="replay a --prices FILE from the first row at the start (relative, default), "
        "or each row when engine time reaches its timestamp (absolute)",
    )
    add_backpack_arguments(serve)
    serve.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="seed demo prices and pool liquidity on a fresh journal",
    )
    serve.add_argument(
        "--market-maker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="in demo mode, quote every book around the index from a market-maker subaccount",
    )
    serve.add_argument(
        "--taker-flow",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="in demo mode, place small random market orders from a taker subaccount "
        "(default: on, except with --clock manual)",
    )
    serve.add_argument(
        "--risk-monitor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="screen every account after each batch and liquidate those at MMR >= 100%%",
    )
    serve.add_argument(
        "--assets-file",
        type=Path,
        default=_env_path("CROSSMARGIN_ASSETS_FILE"),
        help="your own asset file (default: the demo set)",
    )
    serve.add_argument(
        "--admin-token", default=None, help="operator token (default: CROSSMARGIN_ADMIN_TOKEN or a new random one)"
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        dest="allowed_hosts",
        metavar="NAME",
        default=_env_list("CROSSMARGIN_ALLOWED_HOSTS"),
        help="also serve requests whose Host is NAME (repeatable; also CROSSMARGIN_ALLOWED_HOSTS, comma-separated); "
        "loopback names and the --host address are always served",
    )
    serve.add_argument(
        "--edge-workers",
        type=int,
        default=0,
        metavar="N",
        help="parse and verify signed requests in N worker processes that forward commands to this one "
        "(default 0: one process)",
    )
    serve.add_argument(
        "--price-max-age",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="wall or accelerated clock (engine seconds): a price older than this is stale and no new risk "
        "may be opened against it (default: off)",
    )
    serve.add_argument(
        "--price-jump-band",
        type=_jump_band,
        default=DEFAULT_PRICE_JUMP_BAND,
        metavar="FRACTION",
        help="refuse one price update moving a price by more than this fraction unless forced "
        "(default 0.5: 50%%; 'off' to allow any move)",
    )
    add_edge_arguments(serve)
    add_replica_arguments(serve)
    _add_client_commands(commands)
    add_simulate_command(commands)
    add_stress_command(commands)
    return parser


DEFAULT_PRICE_JUMP_BAND: Final = "0.5"
SECONDS_MAX: Final = 365 * 24 * 3600


def _clock_choice(text: str) -> str:
    """Parse `--clock`: wall, manual or accelerated:N."""
    from crossmargin.app.clock import parse_clock  # noqa: PLC0415 -- keep `--help` fast

    try:
        return parse_clock(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_seconds(text: str) -> int:
    """Parse a number of seconds (at most a year) into milliseconds."""
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= SECONDS_MAX:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 and at most {SECONDS_MAX} seconds (a year)")
    return int(seconds * 1000)


def _jump_band(text: str) -> Ratio | None:
    """Parse a price jump band: a fraction above 0 and at most 100, or 'off'."""
    if text.lower() == "off":
        return None
    try:
        band = Ratio.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction such as 0.5, nor 'off'") from None
    if not 0 < band.wad <= 100 * WAD:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 and at most 100 (10,000%)")
    return band


def _client_options() -> argparse.ArgumentParser:
    """Return the options every client command takes (as a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("server and credentials")
    group.add_argument("--url", help="server URL (default: CROSSMARGIN_URL, the profile's, or http://127.0.0.1:8080)")
    group.add_argument("--admin-token", help="operator token for operator commands (default: CROSSMARGIN_ADMIN_TOKEN)")
    group.add_argument(
        "--profile", help="sign with a profile saved by `account create --save NAME` (default: CROSSMARGIN_PROFILE)"
    )
    group.add_argument("--api-key", help="sign with this API key (default: CROSSMARGIN_API_KEY)")
    group.add_argument("--api-secret", help="... and this API secret (default: CROSSMARGIN_API_SECRET)")
    group.add_argument("--json", action="store_true", help="print the JSON the server sent, for scripts")
    return common


def _add_client_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands that talk to a running server; each names its handler in `cli.commands`."""
    common = [_client_options()]

    def leaf(
        parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: str, text: str
    ) -> argparse.ArgumentParser:
        parser = parent.add_parser(name, parents=common, help=text, description=text)
        parser.set_defaults(handler=handler)
        return parser

    def group(name: str, text: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        return commands.add_parser(name, help=text, description=text).add_subparsers(dest="action", required=True)

    account = group("account", "create subaccounts and change their settings")
    create = leaf(account, "create", "account_create", "create an account with one subaccount and its API key pair")
    create.add_argument(
        "--save",
        nargs="?",
        const="default",
        metavar="NAME",
        help="save the credentials as a profile (default name: default) in the config dir, mode 0600",
    )
    create.add_argument("--force", action="store_true", help="overwrite a saved profile of that name")
    settings = leaf(account, "set", "account_set", "change the subaccount's settings")
    for flag in ("--auto-lend", "--auto-repay-borrows", "--auto-borrow-settlements"):
        settings.add_argument(flag, choices=("on", "off"))
    settings.add_argument("--leverage-limit", metavar="X", help="e.g. 10 (one knob for borrowing and futures)")

    funds = leaf(commands, "deposit", "deposit", "credit an on-chain deposit (operator)")
    funds.add_argument("symbol", help="asset, e.g. BTC")
    funds.add_argument("quantity", help="decimal quantity, e.g. 1 or 0.5")
    funds.add_argument("--subaccount", type=int, metavar="ID", help="subaccount id (default: the profile's)")

    prices = group("prices", "set index prices (operator)")
    prices_set = leaf(prices, "set", "prices_set", "set index prices; marks follow")
    prices_set.add_argument(
        "--force", action="store_true", help="apply a move beyond the server's price jump band (default 50%%)"
    )
    prices_set.add_argument("prices", nargs="+", metavar="SYMBOL=PRICE", help="e.g. BTC=65000 ETH=3000")

    clock = group("clock", "read or advance the server's manual clock (operator)")
    leaf(clock, "show", "clock_show", "print the server's clock")
    leaf(clock, "advance", "clock_advance", "advance the manual clock, running all that falls due").add_argument(
        "duration", help="e.g. 90s, 15m, 2h, 3d, 1w, 1h30m"
    )

    for name, text in (
        ("borrow", "borrow from a pool (entry fee to the next hour charged at once)"),
        ("lend", "lend into a pool"),
    ):
        verb = leaf(commands, name, name, text)
        verb.add_argument("symbol", help="asset, e.g. USDC")
        verb.add_argument("quantity", help="decimal quantity")
    for name, text in (("repay", "repay a borrow"), ("redeem", "redeem a lend")):
        verb = leaf(commands, name, name, text)
        verb.add_argument("symbol", help="asset, e.g. USDC")
        verb.add_argument("quantity", nargs="?", help="decimal quantity (or --all)")
        verb.add_argument("--all", action="store_true", help="the whole position, interest included")

    leaf(commands, "status", "status", "a subaccount's cross-margin overview: equity, margin, per asset")
    leaf(commands, "markets", "markets", "the lending pools: size, utilization, rates")
    leaf(commands, "audit", "audit", "check every invariant on the live state (operator)")
    promote = leaf(
        commands, "promote", "promote", "make the read replica at --url the sequencer, after PostgreSQL's promotion"
    )
    promote.set_defaults(handler_module="crossmargin.cli.promote")
    add_promote_arguments(promote)

    history = group("history", "a subaccount's history")
    for name, handler, text in (
        ("interest", "history_interest", "entry fees and hourly interest paid or earned"),
        ("borrow-lend", "history_borrow_lend", "borrows, repays, lends and redeems with their source"),
    ):
        rows = leaf(history, name, handler, text)
        rows.add_argument("--symbol", help="only this asset")
        rows.add_argument("--limit", type=int, default=100, help="at most this many rows, newest first (max 1000)")
    statement = leaf(commands, "statement", "statement", "every movement of your assets, from opening to closing")
    statement.set_defaults(handler_module="crossmargin.cli.statement")
    statement.add_argument("--symbol", help="only this asset (default: every asset you ever had)")
    for flag, dest, text in (("--from", "start", "rows at or after WHEN"), ("--to", "end", "rows before WHEN")):
        statement.add_argument(flag, dest=dest, metavar="WHEN", help=f"{text} (ISO date/time in UTC, or ms)")
    statement.add_argument("--csv", action="store_true", help="write one CSV to stdout, opening and closing per asset")
    add_trading_commands(commands, common)


def _add_backup_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup",
        help="copy the SQLite journal into a new data directory while the server runs (PostgreSQL: says how)",
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="a new or empty directory for the copy")
    _add_journal_location(backup, "the server's journal, as `serve` takes it", "the server's SQLite journal directory")


def _add_journal_location(parser: argparse.ArgumentParser, database_help: str, data_dir_help: str) -> None:
    """Add `--database-url` and `--data-dir`, read from the environment as `serve` reads them."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CROSSMARGIN_DATABASE_URL"),
        help=f"{database_help} (default: SQLite in the data directory)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CROSSMARGIN_DATA_DIR", "crossmargin-data")),
        help=f"{data_dir_help} (default ./crossmargin-data)",
    )


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _run_offline(arguments: argparse.Namespace, console: Console) -> int:
    """Run a sub-command that needs no server: `simulate`, `stress` or `backup`; return the exit status."""
    if arguments.command == "backup":
        from crossmargin.cli.backup import run_backup  # noqa: PLC0415 -- keep `--help` fast

        return run_backup(arguments.destination, arguments.database_url, arguments.data_dir, console)
    if arguments.command == "stress":
        from crossmargin.cli.stress import run_stress  # noqa: PLC0415 -- keep `--help` fast

        return run_stress(arguments, console)
    from crossmargin.cli.simulate import run_simulate  # noqa: PLC0415 -- keep `--help` fast

    return run_simulate(arguments, console)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `crossmargin` command."""
    arguments = build_parser().parse_args(argv)
    handler_name = getattr(arguments, "handler", None)
    if handler_name is not None:
        from crossmargin.cli import commands  # noqa: PLC0415 -- keep `--help` fast

        module = importlib.import_module(getattr(arguments, "handler_module", commands.__name__))
        return commands.run(arguments, getattr(module, handler_name))
    console = Console()
    if arguments.command in {"simulate", "stress", "backup"}:
        return _run_offline(arguments, console)
    if arguments.command == "demo":
        from crossmargin.cli.demo import run_demo  # noqa: PLC0415 -- keep `--help` fast

        run_demo(console, arguments.data_dir)
    elif arguments.command == "serve":
        from crossmargin.cli.serve import ServeOptions, run_server  # noqa: PLC0415 -- keep `--help` fast

        options = ServeOptions(
            host=arguments.host,
            port=arguments.port,
            database_url=arguments.database_url,
            data_dir=arguments.data_dir,
            clock=arguments.clock,
            demo=arguments.demo,
            assets_file=arguments.assets_file,
            admin_token=arguments.admin_token,
            market_maker=arguments.market_maker,
            taker_flow=arguments.taker_flow,
            risk_monitor=arguments.risk_monitor,
            allowed_hosts=tuple(arguments.allowed_hosts),
            price_max_age_ms=arguments.price_max_age,
            price_jump_band=arguments.price_jump_band,
            edge_workers=arguments.edge_workers,
            prices=arguments.prices,
            price_seed=arguments.price_seed,
            price_file_times=arguments.price_file_times,
            backpack=backpack_options_from(arguments),
            rate_limits=rate_limit_settings_from(arguments),
            access_log=arguments.access_log,
            metrics_port=arguments.metrics_port,
            replica=arguments.replica,
            primary_url=arguments.primary_url,
            replica_poll_seconds=arguments.replica_poll,
        )
        if options.edge_workers < 0:
            console.print("error: --edge-workers must be 0 (one process) or more")
            return 2
        if options.price_max_age_ms is not None and options.clock == "manual":
            console.print(
                "error: --price-max-age needs --clock wall or accelerated:N: on a manual clock time jumps by hours"
            )
            return 2
        return run_server(options, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
