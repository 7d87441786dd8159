"""ccxt's `backpack` class against a crossmargin server: unified methods and raw implicit endpoints.

Usage (inside .venv-ccxt): ccxt_client.py BASE_URL API_KEY API_SECRET open|read|market_data. ccxt takes its
server from `urls['api']` (`public` and `private`, without a trailing slash); it signs private
calls itself: `instruction=...&<params urlencoded, sorted>&timestamp=...&window=...`.
"""

from __future__ import annotations

import ccxt
from _steps import Steps, arguments


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
    if args.phase == "open":
        steps.run("load_markets", lambda: _markets(exchange.load_markets()))
        steps.run("fetch_balance", lambda: _balance(exchange.fetch_balance()))
        steps.run("fetch_ticker", lambda: _ticker(exchange.fetch_ticker("BTC/USDC")))
        steps.run(
            "post_borrow_lend",
            lambda: exchange.privatePostApiV1BorrowLend({"symbol": "USDC", "side": "Borrow", "quantity": "100"}),
        )
        steps.run(
            "patch_account",
            lambda: exchange.privatePatchApiV1Account({"autoBorrowSettlements": True, "leverageLimit": "5"}),
        )
    elif args.phase == "read":
        steps.run("get_account", exchange.privateGetApiV1Account)
        steps.run("get_borrow_lend_positions", exchange.privateGetApiV1BorrowLendPositions)
        steps.run("get_interest_history", lambda: exchange.privateGetWapiV1HistoryInterest({"asset": "USDC"}))
        steps.run(
            "get_borrow_lend_history",
            lambda: exchange.privateGetWapiV1HistoryBorrowLend({"sources": "Manual,AutoLend", "limit": 10}),
        )
        steps.run("fetch_balance", lambda: _balance(exchange.fetch_balance()))
    elif args.phase == "market_data":
        _market_data(exchange, steps)
    steps.print()


def _market_data(exchange: ccxt.backpack, steps: Steps) -> None:
    """Buy against the demo market maker, then read candles of every price type, the trade history and markets."""
    steps.run("load_markets", lambda: {symbol: market["created"] for symbol, market in exchange.load_markets().items()})
    steps.run("market_buy", lambda: exchange.create_order("BTC/USDC", "market", "buy", 0.001)["status"])
    steps.run("fetch_ohlcv", lambda: exchange.fetch_ohlcv("BTC/USDC", "1m"))
    steps.run("fetch_mark_ohlcv", lambda: exchange.fetch_mark_ohlcv("BTC/USDC:USDC", "1m"))
    steps.run("fetch_index_ohlcv", lambda: exchange.fetch_index_ohlcv("BTC/USDC:USDC", "1m"))
    steps.run("fetch_trades", lambda: _trades(exchange.fetch_trades("BTC/USDC", None, 5, {"offset": 0})))


def _trades(trades: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{key: trade[key] for key in ("id", "timestamp", "price", "amount", "side")} for trade in trades]


def _markets(markets: dict[str, dict[str, object]]) -> dict[str, object]:
    btc = markets["BTC/USDC"]
    return {
        "symbols": sorted(markets),
        "BTC/USDC": {key: btc[key] for key in ("id", "base", "quote", "type", "spot", "active", "precision", "limits")},
    }


def _balance(balance: dict[str, object]) -> dict[str, object]:
    return {code: balance[code] for code in ("BTC", "USDC") if code in balance}


def _ticker(ticker: dict[str, object]) -> dict[str, object]:
    return {key: ticker[key] for key in ("symbol", "last", "open", "high", "low", "change", "baseVolume")}


if __name__ == "__main__":
    main()
