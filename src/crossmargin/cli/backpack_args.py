"""The `serve` options of `--prices backpack`: where Backpack is and how often to ask it.

`add_backpack_arguments(serve_parser)` adds `--backpack-url`, `--backpack-ws-url` and
`--backpack-poll`; `backpack_options_from(arguments)` turns them (and the environment variables
`CROSSMARGIN_BACKPACK_URL`, `CROSSMARGIN_BACKPACK_WS_URL`) into the source's options.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import replace

from crossmargin.app.price_sources.backpack_options import (
    DEFAULT_REST_URL,
    DEFAULT_WS_URL,
    REST_URL_VARIABLE,
    WS_OFF,
    WS_URL_VARIABLE,
    BackpackOptions,
    backpack_options,
)

POLL_SECONDS_MAX = 3600.0


def _url(schemes: tuple[str, ...], *, off: bool) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if off and text == WS_OFF:
            return text
        if not text.startswith(schemes) or len(text) <= len(max(schemes, key=len)):
            allowed = " or ".join(schemes) + (f", or {WS_OFF!r}" if off else "")
            raise argparse.ArgumentTypeError(f"{text!r} is not a URL starting with {allowed}")
        return text

    return parse


def _poll_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= POLL_SECONDS_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 and at most 3600")
    return seconds


def add_backpack_arguments(serve: argparse.ArgumentParser) -> None:
    """Add the options that say where `--prices backpack` reads Backpack's prices."""
    group = serve.add_argument_group("prices from Backpack (--prices backpack)")
    group.add_argument(
        "--backpack-url",
        type=_url(("http://", "https://"), off=False),
        default=None,
        metavar="URL",
        help=f"Backpack's REST API (default: {REST_URL_VARIABLE} or {DEFAULT_REST_URL})",
    )
    group.add_argument(
        "--backpack-ws-url",
        type=_url(("ws://", "wss://"), off=True),
        default=None,
        metavar="URL",
        help=f"Backpack's WebSocket, or 'off' to poll REST only (default: {WS_URL_VARIABLE} or {DEFAULT_WS_URL})",
    )
    group.add_argument(
        "--backpack-poll",
        type=_poll_seconds,
        default=BackpackOptions().poll_seconds,
        metavar="SECONDS",
        help="ask Backpack's REST API for prices this often (default 5); the stream brings changes in between",
    )


def backpack_options_from(
    arguments: argparse.Namespace, environment: Mapping[str, str] = os.environ
) -> BackpackOptions:
    """Return the source options the parsed arguments and the environment ask for."""
    options = backpack_options(environment, rest_url=arguments.backpack_url, ws_url=arguments.backpack_ws_url)
    return replace(options, poll_seconds=arguments.backpack_poll)
