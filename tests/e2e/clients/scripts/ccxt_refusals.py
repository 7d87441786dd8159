"""ccxt's `backpack` class meeting the venue's refusals: a price band, a reduce-only order above the position.

Usage (inside .venv-ccxt): ccxt_refusals.py BASE_URL API_KEY API_SECRET maker|trader. The maker
quotes the BTC perp; the trader bids 1 USDC for BTC (refused: too far from the last active price),
buys 0.01 BTC of perp, then sends a reduce-only sell of 0.05 (refused: above the position) and one
of 0.01 (closes it). Every call goes through ccxt's unified `create_order`.
"""

from __future__ import annotations

from typing import Any

import ccxt
from _steps import Steps, arguments

SPOT = "BTC/USDC"
PERP = "BTC/USDC:USDC"


def main() -> None:
    args = arguments()
    exchange = ccxt.backpack(
        {
            "apiKey": args.api_key,
            "secret": args.api_secret,
            "urls": {"api": {"public": args.base_url, "private": args.base_url}},
        }
    )
    steps = Steps()
    steps.run("load_markets", lambda: sorted(exchange.load_markets()))
    {"maker": _maker, "trader": _trader}[args.phase](exchange, steps)
    steps.print()


def _maker(exchange: Any, steps: Steps) -> None:
    steps.run("perp_ask", lambda: _order(exchange.create_order(PERP, "limit", "sell", 1, 60010)))
    steps.run("perp_bid", lambda: _order(exchange.create_order(PERP, "limit", "buy", 1, 59990)))


def _trader(exchange: Any, steps: Steps) -> None:
    steps.run("bid_at_one", lambda: _order(exchange.create_order(SPOT, "limit", "buy", 0.001, 1)))
    steps.run("price_filter", lambda: exchange.market(SPOT)["info"]["filters"]["price"])
    steps.run("perp_buy", lambda: _order(exchange.create_order(PERP, "market", "buy", 0.01)))
    steps.run(
        "reduce_too_much",
        lambda: _order(exchange.create_order(PERP, "market", "sell", 0.05, None, {"reduceOnly": True})),
    )
    steps.run(
        "reduce_exactly",
        lambda: _order(exchange.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})),
    )
    steps.run("fetch_positions", lambda: [position["contracts"] for position in exchange.fetch_positions()])


def _order(order: dict[str, Any]) -> dict[str, Any]:
    keys = ("type", "side", "price", "amount", "filled", "status", "reduceOnly")
    return {key: order[key] for key in keys}


if __name__ == "__main__":
    main()
