"""ccxt's `backpack` class trading against a crossmargin server: orders, book, trades, candles, positions, funding.

Usage (inside .venv-ccxt): ccxt_trading.py BASE_URL API_KEY API_SECRET maker|taker|cleanup. The
maker quotes BTC/USDC and the BTC perp, and places and cancels one more order; the taker trades
against those quotes with market orders and reads everything back; the cleanup cancels the
maker's remaining spot orders. Every call goes through ccxt's unified methods, which sign
themselves (a batch as Backpack signs batches).
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
    steps.run("load_markets", lambda: _markets(exchange.load_markets()))
    {"maker": _maker, "taker": _taker, "cleanup": _cleanup}[args.phase](exchange, steps)
    steps.print()


def _maker(exchange: Any, steps: Steps) -> None:
    steps.run(
        "sell_limit", lambda: _order(exchange.create_order(SPOT, "limit", "sell", 0.5, 60010, {"clientOrderId": 11}))
    )
    steps.run("buy_limit", lambda: _order(exchange.create_order(SPOT, "limit", "buy", 0.5, 59990)))
    steps.run(
        "perp_quotes",
        lambda: [
            _order(order)
            for order in exchange.create_orders(
                [
                    {"symbol": PERP, "type": "limit", "side": "sell", "amount": 1, "price": 60010},
                    {"symbol": PERP, "type": "limit", "side": "buy", "amount": 1, "price": 59990},
                ]
            )
        ],
    )
    extra = steps.run("extra_limit", lambda: _order(exchange.create_order(SPOT, "limit", "sell", 0.1, 70000)))
    steps.run("fetch_open_orders", lambda: [_order(order) for order in exchange.fetch_open_orders(SPOT)])
    if isinstance(extra, dict):
        steps.run("fetch_open_order", lambda: _order(exchange.fetch_open_order(extra["id"], SPOT)))
        steps.run("cancel_order", lambda: _order(exchange.cancel_order(extra["id"], SPOT)))


def _taker(exchange: Any, steps: Steps) -> None:
    bought = steps.run("market_buy", lambda: _order(exchange.create_order(SPOT, "market", "buy", 0.1)))
    steps.run("perp_market_buy", lambda: _order(exchange.create_order(PERP, "market", "buy", 0.2)))
    if isinstance(bought, dict):
        steps.run("fetch_order", lambda: _order(exchange.fetch_order(bought["id"], SPOT)))
    steps.run("fetch_order_book", lambda: _book(exchange.fetch_order_book(SPOT)))
    steps.run("fetch_trades", lambda: [_trade(trade) for trade in exchange.fetch_trades(SPOT)])
    steps.run("fetch_my_trades", lambda: [_trade(trade) for trade in exchange.fetch_my_trades(SPOT)])
    steps.run("fetch_ohlcv", lambda: exchange.fetch_ohlcv(SPOT, "1m"))
    steps.run("fetch_positions", lambda: [_position(position) for position in exchange.fetch_positions()])
    steps.run("fetch_funding_rate", lambda: _funding(exchange.fetch_funding_rate(PERP)))
    steps.run("fetch_open_interest", lambda: exchange.fetch_open_interest(PERP)["openInterestValue"])


def _cleanup(exchange: Any, steps: Steps) -> None:
    steps.run("cancel_all_orders", lambda: [_order(order) for order in exchange.cancel_all_orders(SPOT)])
    steps.run("fetch_open_orders", lambda: [_order(order) for order in exchange.fetch_open_orders(SPOT)])


def _markets(markets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    perp = markets[PERP]
    return {
        "symbols": sorted(markets),
        PERP: {key: perp[key] for key in ("id", "type", "swap", "linear", "settle", "precision", "limits")},
    }


def _order(order: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "clientOrderId", "symbol", "type", "side", "price", "amount", "filled", "cost", "status")
    return {key: order[key] for key in keys}


def _book(book: dict[str, Any]) -> dict[str, Any]:
    return {"bids": book["bids"], "asks": book["asks"], "nonce": book["nonce"], "timestamp": book["timestamp"]}


def _trade(trade: dict[str, Any]) -> dict[str, Any]:
    fee = trade.get("fee") or {}
    keys = ("id", "order", "symbol", "side", "price", "amount", "cost", "takerOrMaker")
    return {**{key: trade[key] for key in keys}, "fee": fee.get("cost"), "feeCurrency": fee.get("currency")}


def _position(position: dict[str, Any]) -> dict[str, Any]:
    keys = ("symbol", "side", "contracts", "entryPrice", "markPrice", "notional", "liquidationPrice")
    return {key: position[key] for key in keys}


def _funding(rate: dict[str, Any]) -> dict[str, Any]:
    keys = ("symbol", "markPrice", "indexPrice", "fundingRate", "nextFundingTimestamp")
    return {key: rate[key] for key in keys}


if __name__ == "__main__":
    main()
