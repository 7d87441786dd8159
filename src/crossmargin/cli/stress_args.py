"""The `stress` sub-command's arguments (argparse only, so `crossmargin --help` stays fast).

The run itself is `crossmargin.cli.stress.run_stress`, imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_stress_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `crossmargin stress`: Monte-Carlo stress over many seeded price paths, on Ray or local processes."""
    text = (
        "run many seeded price paths over one generated population through the engine (on Ray, or local "
        "processes); write the distributions of bad debt, fund drawdown, lender losses, liquidations and "
        "auto-borrows with plots and the worst scenario"
    )
    stress = commands.add_parser("stress", help=text, description=text)
    stress.add_argument("--scenarios", type=int, default=100, metavar="N", help="price paths to run (default 100)")
    stress.add_argument("--seed", type=int, default=1, help="base seed: the population and every path (default 1)")
    stress.add_argument("--accounts", type=int, default=100, help="generated subaccounts (default 100)")
    path = stress.add_argument_group("price paths (default: a random walk with market-wide jumps)")
    path.add_argument("--price-file", type=Path, metavar="CSV", help="bootstrap the steps' returns of this CSV")
    path.add_argument("--steps", type=int, default=100, help="steps per path (default 100)")
    path.add_argument("--interval", default="1m", help="time between steps, e.g. 30s, 1m, 1h (default 1m)")
    path.add_argument("--volatility", type=float, default=0.8, help="annual volatility of the walk (default 0.8)")
    path.add_argument(
        "--jump-probability", type=float, default=0.02, help="chance of a market-wide jump per step (default 0.02)"
    )
    path.add_argument("--jump-mean", type=float, default=-0.05, help="mean log-move of a jump (default -0.05)")
    path.add_argument("--jump-std", type=float, default=0.08, help="deviation of a jump's log-move (default 0.08)")
    where = stress.add_argument_group("where it runs (default: a local Ray with this machine's cores)")
    where.add_argument("--ray", metavar="ADDRESS", help="a Ray cluster's address (HOST:PORT, ray://HOST:PORT, auto)")
    where.add_argument("--workers", type=int, metavar="K", help="run on K local processes (no Ray)")
    where.add_argument("--no-ray", action="store_true", help="run on local processes, one per core, without Ray")
    stress.add_argument(
        "--audit-every", type=int, default=0, metavar="K", help="also audit every K steps (default: at the end only)"
    )
    stress.add_argument(
        "--out", type=Path, default=Path("stress-report"), help="report directory (default ./stress-report)"
    )
