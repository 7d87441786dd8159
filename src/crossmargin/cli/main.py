"""The `crossmargin` command: entry point and sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `crossmargin` command."""
    arguments = build_parser().parse_args(argv)
    console = Console()
    if arguments.command == "demo":
        from crossmargin.cli.demo import run_demo  # noqa: PLC0415 -- keep `--help` fast

        run_demo(console, arguments.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
