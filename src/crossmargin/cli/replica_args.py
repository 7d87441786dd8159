"""The `serve` options of a read replica, and the `promote` command that makes one the sequencer."""

from __future__ import annotations

import argparse
import os


def add_replica_arguments(serve: argparse.ArgumentParser) -> None:
    """Add `--replica`, `--primary-url` and `--replica-poll` to `serve`."""
    serve.add_argument(
        "--replica",
        action="store_true",
        help="serve a read replica: follow the journal from the PostgreSQL hot standby --database-url names, "
        "serve reads and streams, refuse writes (docs/REPLICATION.md)",
    )
    serve.add_argument(
        "--primary-url",
        default=os.environ.get("CROSSMARGIN_PRIMARY_URL"),
        metavar="URL",
        help="with --replica: the primary's URL, named in every refused write",
    )
    serve.add_argument(
        "--replica-poll",
        dest="replica_poll",
        type=_poll_seconds,
        default=0.05,
        metavar="SECONDS",
        help="with --replica: how often to poll the standby for new journal records (default 0.05)",
    )


def add_promote_arguments(promote: argparse.ArgumentParser) -> None:
    """Add `--fence-database-url` to `promote`."""
    promote.add_argument(
        "--fence-database-url",
        default=None,
        metavar="URL",
        help="the old primary's postgresql:// URL: fence its journal so no sequencer writes it again",
    )


def _poll_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0.001 <= seconds <= 60:  # a millisecond to a minute
        raise argparse.ArgumentTypeError(f"expected seconds between 0.001 and 60, got {text!r}")
    return seconds
