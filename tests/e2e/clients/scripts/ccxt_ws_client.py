"""ccxt pro's `backpack` class against a crossmargin server's WebSocket streams.

Usage (inside .venv-ccxt): ccxt_ws_client.py BASE_URL MAKER_KEY MAKER_SECRET TAKER_KEY TAKER_SECRET.
Both clients take REST from `urls['api']['public'|'private']` and WebSocket from
`urls['api']['ws']['public'|'private']` (the server's root, as Backpack serves it). The maker
watches the BTC/USDC book, trades, ticker and best bid/ask (bookTicker), its orders, positions
and balance, all on one socket (ccxt rejects every pending watch of a socket when the server
refuses any one stream); orders go through REST
(`create_order`): the maker rests a bid, the taker sells into it, on BTC/USDC and then on the
BTC perp. ccxt sends no acknowledgement for a subscription, so each round places a fresh pair of
orders until every watcher has heard something (at most a few rounds). Prints one JSON object of
step results, as `_steps.Steps` does.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import ccxt.pro
from _steps import Steps

ROUNDS = 5
ROUND_WAIT_S = 5


def client(base_url: str, api_key: str, secret: str) -> Any:
    ws_url = base_url.replace("http://", "ws://", 1) + "/"
    exchange = ccxt.pro.backpack(
        {
            "apiKey": api_key,
            "secret": secret,
            "urls": {"api": {"public": base_url, "private": base_url, "ws": {"public": ws_url, "private": ws_url}}},
        }
    )
    exchange.options["watchOrderBook"] = {"snapshotDelay": 0}  # take the REST snapshot at the first update
    return exchange


async def place_pair(maker: Any, taker: Any, symbol: str, price: str) -> list[str]:
    bid = await maker.create_order(symbol, "limit", "buy", 0.01, float(price))
    ask = await taker.create_order(symbol, "limit", "sell", 0.002, float(price))
    return [bid["id"], ask["id"]]


async def main() -> None:
    base_url, maker_key, maker_secret, taker_key, taker_secret = sys.argv[1:6]
    maker, taker = (
        client(base_url.rstrip("/"), maker_key, maker_secret),
        client(base_url.rstrip("/"), taker_key, taker_secret),
    )
    steps = Steps()
    try:
        await maker.load_markets()
        await taker.load_markets()
        watchers = {
            "watch_order_book": asyncio.ensure_future(maker.watch_order_book("BTC/USDC")),
            "watch_trades": asyncio.ensure_future(maker.watch_trades("BTC/USDC")),
            "watch_ticker": asyncio.ensure_future(maker.watch_ticker("BTC/USDC")),
            "watch_bids_asks": asyncio.ensure_future(maker.watch_bids_asks(["BTC/USDC"])),
            "watch_orders": asyncio.ensure_future(maker.watch_orders()),
            "watch_positions": asyncio.ensure_future(maker.watch_positions()),
            "watch_balance": asyncio.ensure_future(maker.watch_balance()),
        }
        placed = []
        for round_number in range(ROUNDS):
            price = str(60000 - round_number)
            placed += await place_pair(maker, taker, "BTC/USDC", price)
            placed += await place_pair(maker, taker, "BTC/USDC:USDC", price)
            await asyncio.wait(watchers.values(), timeout=ROUND_WAIT_S)
            if all(watcher.done() for watcher in watchers.values()):
                break
        steps.results["placed"] = {"ok": placed}
        for name, watcher in watchers.items():
            steps.run(name, lambda watcher=watcher, name=name: summarize(name, watcher))
        if watchers["watch_order_book"].done():
            kept = maker.orderbooks["BTC/USDC"].limit()  # the book after every round, kept from the deltas
            rest = await maker.fetch_order_book("BTC/USDC")
            steps.results["books"] = {"ok": {"stream": kept["bids"][:5], "rest": rest["bids"][:5]}}
    finally:
        await maker.close()
        await taker.close()
    steps.print()


def fields(row: Any, *names: str) -> dict[str, Any]:
    return {name: row[name] for name in names}


SUMMARIES: dict[str, Any] = {
    "watch_order_book": lambda book: {
        "symbol": book["symbol"],
        "bids": book["bids"][:3],
        "asks": book["asks"][:3],
        "nonce": book["nonce"],
    },
    "watch_trades": lambda trades: [fields(trade, "id", "symbol", "price", "amount", "side") for trade in trades],
    "watch_orders": lambda orders: [
        fields(order, "id", "symbol", "status", "side", "type", "amount", "filled") for order in orders
    ],
    "watch_ticker": lambda ticker: fields(ticker, "symbol", "last", "open", "baseVolume", "quoteVolume", "timestamp"),
    "watch_bids_asks": lambda tops: {
        symbol: fields(top, "bid", "bidVolume", "ask", "askVolume", "timestamp") for symbol, top in tops.items()
    },
    "watch_positions": lambda positions: [
        fields(position, "symbol", "side", "contracts", "entryPrice") for position in positions
    ],
    "watch_balance": lambda balance: {code: balance[code] for code in ("USDC", "BTC") if code in balance},
}


def summarize(name: str, watcher: asyncio.Future[Any]) -> object:
    if not watcher.done():
        raise TimeoutError(f"{name} heard nothing in {ROUNDS} rounds")
    return SUMMARIES[name](watcher.result())


if __name__ == "__main__":
    asyncio.run(main())
