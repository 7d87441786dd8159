"""ccxt's `backpack` class placing trigger orders, stop losses and take profits against a crossmargin server.

Usage (inside .venv-ccxt): ccxt_triggers.py BASE_URL API_KEY API_SECRET maker|place|after. The maker
quotes BTC/USDC and the BTC perp; `place` sends a trigger order (`triggerPrice`), a perp order with
an attached stop loss and take profit (ccxt's `stopLoss` / `takeProfit` params), a position's take
profit (`reduceOnly` with `takeProfit`), ccxt's unified `stopLossPrice` (which ccxt passes through
unmapped), and a limit trigger it cancels; `after` reads them back once the test moved the price.
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
    steps.run("load_markets", lambda: len(exchange.load_markets()))
    {"maker": _maker, "place": _place, "after": _after}[args.phase](exchange, steps)
    steps.print()


def _maker(exchange: Any, steps: Steps) -> None:
    for symbol in (SPOT, PERP):
        steps.run(f"{symbol} ask", lambda s=symbol: _order(exchange.create_order(s, "limit", "sell", 1, 60010)))
        steps.run(f"{symbol} bid", lambda s=symbol: _order(exchange.create_order(s, "limit", "buy", 1, 59990)))


def _place(exchange: Any, steps: Steps) -> None:
    steps.run(
        "trigger_buy",
        lambda: _order(
            exchange.create_order(SPOT, "market", "buy", 0.01, None, {"triggerPrice": 61000, "triggerBy": "IndexPrice"})
        ),
    )
    bracket = {
        "stopLoss": {"triggerPrice": 59000},
        "takeProfit": {"triggerPrice": 62000, "price": 62000},
        "stopLossTriggerBy": "MarkPrice",
    }
    steps.run("bracketed_buy", lambda: _order(exchange.create_order(PERP, "market", "buy", 0.1, None, bracket)))
    position_take_profit = {"reduceOnly": True, "takeProfit": {"triggerPrice": 63000}}
    steps.run(
        "position_take_profit",
        lambda: _order(exchange.create_order(PERP, "market", "sell", 0.05, None, position_take_profit)),
    )
    steps.run(
        "stop_loss_price",
        lambda: _order(exchange.create_order(PERP, "market", "sell", 0.1, None, {"stopLossPrice": 59000})),
    )
    limit = steps.run(
        "limit_trigger",
        lambda: _order(exchange.create_order(SPOT, "limit", "buy", 0.01, 50000, {"triggerPrice": 55000})),
    )
    steps.run("open_spot", lambda: [_order(order) for order in exchange.fetch_open_orders(SPOT)])
    steps.run("open_perp", lambda: [_order(order) for order in exchange.fetch_open_orders(PERP)])
    if isinstance(limit, dict):
        steps.run("cancel_trigger", lambda: _order(exchange.cancel_order(limit["id"], SPOT)))


def _after(exchange: Any, steps: Steps) -> None:
    steps.run("spot_orders", lambda: [_order(order) for order in exchange.fetch_orders(SPOT)])
    steps.run("perp_orders", lambda: [_order(order) for order in exchange.fetch_orders(PERP)])
    steps.run("open_perp", lambda: [_order(order) for order in exchange.fetch_open_orders(PERP)])
    steps.run("positions", lambda: [position["contracts"] for position in exchange.fetch_positions()])


def _order(order: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "symbol", "type", "side", "price", "amount", "filled", "status", "reduceOnly")
    prices = ("triggerPrice", "stopLossPrice", "takeProfitPrice")
    return {**{key: order[key] for key in keys}, **{key: order.get(key) for key in prices}, "raw": order["info"]}


if __name__ == "__main__":
    main()
