"""`crossmargin serve`'s rate-limit and access-log options (`api/rate_limit.py`, `api/access_log.py`).

Each budget is `LIMIT/SECONDS[/BURST]`: at most LIMIT requests in any window of SECONDS, BURST of
them at once (default a tenth of LIMIT). The defaults follow Backpack's published 2,000 requests a
minute; each can also come from the environment (`CROSSMARGIN_RATE_LIMIT_PUBLIC`,
`CROSSMARGIN_RATE_LIMIT_SIGNED`, `CROSSMARGIN_RATE_LIMIT_SIGNED_IP`, `CROSSMARGIN_ACCESS_LOG`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from crossmargin.api.rate_budgets import Budget, RateLimitSettings

STDOUT = "-"
"""`--access-log -`: standard output (`access_log.STDOUT`; that module is not loaded for `--help`)."""

DEFAULTS = RateLimitSettings()


def _budget(text: str) -> Budget:
    try:
        return Budget.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _access_log(text: str) -> str:
    """Accept `-` or a file that can be appended to (created if missing)."""
    if text == STDOUT:
        return text
    try:
        with Path(text).open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot append to {text}: {error.strerror}") from None
    return text


def add_edge_arguments(serve: argparse.ArgumentParser) -> None:
    """Add `--rate-limit`/`--no-rate-limit`, the three budgets and `--access-log`."""
    serve.add_argument(
        "--rate-limit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="answer 429 TOO_MANY_REQUESTS beyond the budgets below, as Backpack does (default on)",
    )
    budgets = (
        ("public", "requests without X-API-Key and WebSocket connections, per client IP", DEFAULTS.public),
        ("signed", "requests with X-API-Key, per API key", DEFAULTS.signed),
        ("signed-ip", "requests with X-API-Key, per client IP whatever the key", DEFAULTS.signed_ip),
    )
    for name, what, default in budgets:
        variable = f"CROSSMARGIN_RATE_LIMIT_{name.upper().replace('-', '_')}"
        serve.add_argument(
            f"--rate-limit-{name}",
            type=_budget,
            default=os.environ.get(variable, default.describe()),  # argparse applies `type` to it
            metavar="LIMIT/SECONDS[/BURST]",
            help=f"{what}: at most LIMIT in any SECONDS, BURST at once (default {default.describe()}; also {variable})",
        )
    serve.add_argument(
        "--access-log",
        type=_access_log,
        default=os.environ.get("CROSSMARGIN_ACCESS_LOG") or None,
        metavar="PATH|-",
        help="append one JSON line per request to PATH, or to standard output with '-' "
        "(default: no access log; also CROSSMARGIN_ACCESS_LOG)",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("CROSSMARGIN_METRICS_PORT", "0")) or None,
        metavar="PORT",
        help="also serve /metrics without the admin token on 127.0.0.1:PORT, for a Prometheus on this machine "
        "(default: only the guarded /metrics on the main port; also CROSSMARGIN_METRICS_PORT)",
    )


def rate_limit_settings_from(arguments: argparse.Namespace) -> RateLimitSettings | None:
    """Return the budgets the arguments ask for, or None with `--no-rate-limit`."""
    if not arguments.rate_limit:
        return None
    return RateLimitSettings(
        public=arguments.rate_limit_public, signed=arguments.rate_limit_signed, signed_ip=arguments.rate_limit_signed_ip
    )
