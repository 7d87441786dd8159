"""The `simulate` sub-command's arguments (argparse only, so `crossmargin --help` stays fast).

The run itself is `crossmargin.cli.simulate.run_simulate`, imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_simulate_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `crossmargin simulate`: a stress simulation replayed through the engine, with a report."""
    text = "replay a price path through the engine with generated subaccounts; write a report with plots"
    simulate = commands.add_parser("simulate", help=text, description=text)
    source = simulate.add_argument_group("price path (default: flat prices; add --shock)")
    source.add_argument("--prices", type=Path, metavar="CSV", help="a CSV of timestamp,symbol,price rows")
    source.add_argument("--random-walk", action="store_true", help="a seeded geometric random walk per asset")
    source.add_argument(
        "--demo-walk",
        action="store_true",
        help="the seeded, correlated walk with jumps that `serve --prices demo` runs (BTC, ETH, SOL move together)",
    )
    source.add_argument("--volatility", type=float, default=0.8, help="annual volatility of the walk (default 0.8)")
    source.add_argument("--steps", type=int, default=100, help="steps of a walk or flat path (default 100)")
    source.add_argument("--interval", default="1m", help="time between steps, e.g. 30s, 1m, 1h (default 1m)")
    source.add_argument(
        "--shock",
        action="append",
        default=[],
        metavar="SYMBOL=CHANGE%",
        help="move an asset, e.g. BTC=-30%% (repeatable)",
    )
    source.add_argument("--shock-at", metavar="DURATION", help="when shocks start, after the start (default: 1/4 in)")
    source.add_argument("--shock-duration", default="10m", metavar="DURATION", help="shock ramp (default 10m)")
    simulate.add_argument("--accounts", type=int, default=200, help="generated subaccounts (default 200)")
    simulate.add_argument("--seed", type=int, default=1, help="seed of the population and the walk (default 1)")
    simulate.add_argument(
        "--audit-every", type=int, default=0, metavar="K", help="also audit every K steps (default: at the end only)"
    )
    simulate.add_argument(
        "--out", type=Path, default=Path("simulation-report"), help="report directory (default ./simulation-report)"
    )
