"""The trading sub-commands' arguments: `order place|cancel`, `orders`, `positions`, `book`, `explain borrows`.

Only argparse here, so `crossmargin --help` stays fast; the handlers live in `cli.trading` and are
named by `handler` with `handler_module` pointing there.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Final

HANDLER_MODULE: Final = "crossmargin.cli.trading"
MARGIN_FLAGS: Final = (
    ("--post-only", "rest on the book or be refused; never take"),
    ("--reduce-only", "only reduce a perp position"),
    ("--auto-borrow", "borrow what a spot order lacks (a SpotMargin borrow)"),
    ("--auto-borrow-repay", "repay borrows with what a spot order receives"),
    ("--auto-lend", "lend what a spot order receives"),
    ("--auto-lend-redeem", "redeem lends for what a spot order lacks"),
)


def add_trading_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: Sequence[argparse.ArgumentParser]
) -> None:
    """Add the trading commands, each signed as the subaccount (`book` is public)."""

    def leaf(
        parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: str, text: str
    ) -> argparse.ArgumentParser:
        parser = parent.add_parser(name, parents=list(common), help=text, description=text)
        parser.set_defaults(handler=handler, handler_module=HANDLER_MODULE)
        return parser

    order = commands.add_parser("order", help="place or cancel an order", description="place or cancel an order")
    actions = order.add_subparsers(dest="action", required=True)
    place = leaf(actions, "place", "order_place", "place a limit order (with --price) or a market order")
    place.add_argument("symbol", help="market, e.g. BTC_USDC_PERP or SOL_USDC")
    place.add_argument("side", help="buy or sell (or Bid, Ask)")
    place.add_argument("quantity", help="base quantity, e.g. 0.1")
    place.add_argument("--price", help="limit price; without it the order is a market order")
    place.add_argument("--tif", choices=("GTC", "IOC", "FOK"), help="time in force (default GTC; market: IOC)")
    place.add_argument("--client-id", type=int, metavar="N", help="your own id for the order (uint32)")
    for flag, text in MARGIN_FLAGS:
        place.add_argument(flag, action="store_true", help=text)
    cancel = leaf(actions, "cancel", "order_cancel", "cancel an open order by its id")
    cancel.add_argument("symbol", help="market of the order")
    cancel.add_argument("order_id", metavar="ID", help="the order's id, as `crossmargin orders` shows it")

    leaf(commands, "orders", "orders", "your open orders").add_argument("symbol", nargs="?", help="only this market")
    leaf(commands, "positions", "positions", "your perp positions: size, entry, mark, PnL")
    book = leaf(commands, "book", "book", "a market's order book around the spread")
    book.add_argument("symbol", help="market, e.g. BTC_USDC_PERP")
    book.add_argument("--depth", type=int, default=5, help="price levels per side (default 5)")

    explain = commands.add_parser(
        "explain", help="explain what the engine did for you", description="explain what the engine did for you"
    )
    topics = explain.add_subparsers(dest="action", required=True)
    borrows = leaf(topics, "borrows", "explain_borrows", "why each of your borrows exists, in words")
    borrows.add_argument("symbol", nargs="?", help="only borrows of this asset, e.g. USDC")
    borrows.add_argument("--limit", type=int, default=20, help="at most this many, newest first (default 20)")
