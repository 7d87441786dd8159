"""The `crossmargin` command: entry point and sub-commands."""

from __future__ import annotations

import argparse
import os
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
    serve = commands.add_parser("serve", help="serve Backpack's REST API and the operator API over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument(
        "--database-url",
        default=os.environ.get("CROSSMARGIN_DATABASE_URL"),
        help="postgresql://... (default: SQLite in the data directory)",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CROSSMARGIN_DATA_DIR", "crossmargin-data")),
        help="SQLite journal directory (default ./crossmargin-data)",
    )
    serve.add_argument(
        "--clock",
        choices=("wall", "manual"),
        default="wall",
        help="wall clock, or a manual one advanced by the operator API",
    )
    serve.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="seed demo prices and pool liquidity on a fresh journal",
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
    return parser


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `crossmargin` command."""
    arguments = build_parser().parse_args(argv)
    console = Console()
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
        )
        run_server(options, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
