"""Every unified method ccxt's `backpack` class declares (`has[...] is True`), called against a crossmargin server.

Usage (inside .venv-ccxt): ccxt_sweep.py BASE_URL API_KEY API_SECRET maker|sweep. The maker quotes
BTC/USDC and the BTC perp on both sides; the sweep then calls each declared method once with the
arguments a bot would pass, and also prints the list of declared methods, so the test notices a
method a newer ccxt adds. Each call is one step: `{"ok": ...}` or `{"error": "Type: message"}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
from _steps import Steps, arguments

SPOT = "BTC/USDC"
PERP = "BTC/USDC:USDC"
# Capability flags in `has` that are not methods.
NOT_METHODS = ("publicAPI", "privateAPI", "spot", "margin", "swap", "future", "option", "CORS", "sandbox")


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
    exchange.load_markets()
    if args.phase == "maker":
        for symbol in (SPOT, PERP):
            steps.run(f"{symbol} ask", lambda s=symbol: _brief(exchange.create_order(s, "limit", "sell", 2, 60010)))
            steps.run(f"{symbol} bid", lambda s=symbol: _brief(exchange.create_order(s, "limit", "buy", 2, 59990)))
    else:
        declared = sorted(name for name, value in exchange.has.items() if value is True and name not in NOT_METHODS)
        steps.run("declared", lambda: declared)
        calls = _calls(exchange)
        for name, call in calls.items():
            if name.split()[0] in declared:
                steps.run(name, lambda c=call: _brief(c()))
        for name in declared:
            if name not in calls:
                steps.run(name, _no_call(name))
    steps.print()


def _no_call(name: str) -> Callable[[], object]:
    def refuse() -> object:
        raise LookupError(f"ccxt_sweep.py has no call for {name}: add one")

    return refuse


def _calls(exchange: Any) -> dict[str, Callable[[], Any]]:
    """The call a bot makes for each method, in the order a bot makes them: resting orders are cancelled last."""
    return {
        "fetchTime": exchange.fetch_time,
        "fetchStatus": exchange.fetch_status,
        "fetchMarkets": exchange.fetch_markets,
        "fetchCurrencies": exchange.fetch_currencies,
        "fetchTicker": lambda: exchange.fetch_ticker(SPOT),
        "fetchTickers": exchange.fetch_tickers,
        "fetchOrderBook": lambda: exchange.fetch_order_book(SPOT),
        "fetchL2OrderBook": lambda: exchange.fetch_l2_order_book(PERP),
        "fetchTrades": lambda: exchange.fetch_trades(SPOT),
        "fetchOHLCV": lambda: exchange.fetch_ohlcv(SPOT, "1m"),
        "fetchMarkOHLCV": lambda: exchange.fetch_mark_ohlcv(PERP, "1m"),
        "fetchIndexOHLCV": lambda: exchange.fetch_index_ohlcv(PERP, "1m"),
        "fetchFundingRate": lambda: exchange.fetch_funding_rate(PERP),
        "fetchFundingRateHistory": lambda: exchange.fetch_funding_rate_history(PERP),
        "fetchOpenInterest": lambda: exchange.fetch_open_interest(PERP),
        "fetchOpenInterestHistory": lambda: exchange.fetch_open_interest_history(PERP, "1h"),
        "fetchBalance": exchange.fetch_balance,
        "fetchDepositAddress": lambda: exchange.fetch_deposit_address("USDC", {"network": "SOL"}),
        "fetchDeposits": exchange.fetch_deposits,
        "fetchWithdrawals": exchange.fetch_withdrawals,
        "withdraw": lambda: exchange.withdraw(
            "USDC", 1, "5K1rQq6rcbZRXrGb7Gkf4VvHBcZsnVZ6Ad3ApyMWJQUx", {"network": "SOL"}
        ),
        "createOrder": lambda: exchange.create_order(SPOT, "market", "buy", 0.01),
        "createMarketOrder": lambda: exchange.create_market_order(SPOT, "sell", 0.01),
        "createMarketBuyOrder": lambda: exchange.create_market_buy_order(SPOT, 0.01),
        "createMarketSellOrder": lambda: exchange.create_market_sell_order(SPOT, 0.01),
        "createMarketOrderWithCost": lambda: exchange.create_market_order_with_cost(SPOT, "buy", 100),
        "createMarketBuyOrderWithCost": lambda: exchange.create_market_buy_order_with_cost(SPOT, 100),
        "createMarketSellOrderWithCost": lambda: exchange.create_market_sell_order_with_cost(SPOT, 100),
        "createOrder with cost": lambda: exchange.create_order(SPOT, "market", "buy", None, None, {"cost": 100}),
        "createLimitOrder": (lambda: exchange.create_limit_order(SPOT, "buy", 0.01, 59000)),
        "createLimitBuyOrder": (lambda: exchange.create_limit_buy_order(SPOT, 0.01, 59100)),
        "createLimitSellOrder": (lambda: exchange.create_limit_sell_order(SPOT, 0.01, 61000)),
        "createPostOnlyOrder": (lambda: exchange.create_post_only_order(SPOT, "limit", "buy", 0.01, 59200)),
        "createOrders": lambda: exchange.create_orders(
            [
                {"symbol": PERP, "type": "market", "side": "buy", "amount": 0.02},
                {"symbol": PERP, "type": "limit", "side": "buy", "amount": 0.01, "price": 59300},
            ]
        ),
        "createReduceOnlyOrder": lambda: exchange.create_reduce_only_order(PERP, "market", "sell", 0.01),
        "createTriggerOrder": (lambda: exchange.create_trigger_order(PERP, "market", "sell", 0.01, None, 55000)),
        "createOrderWithTakeProfitAndStopLoss": lambda: exchange.create_order_with_take_profit_and_stop_loss(
            PERP, "market", "buy", 0.01, None, 65000, 55000
        ),
        "fetchOpenOrders": lambda: exchange.fetch_open_orders(SPOT),
        "fetchOpenOrder": lambda: exchange.fetch_open_order(exchange.fetch_open_orders(SPOT)[0]["id"], SPOT),
        "fetchOrders": lambda: exchange.fetch_orders(SPOT),
        "cancelOrder": lambda: exchange.cancel_order(exchange.fetch_open_orders(SPOT)[0]["id"], SPOT),
        "cancelAllOrders": lambda: exchange.cancel_all_orders(SPOT),
        "fetchMyTrades": lambda: exchange.fetch_my_trades(SPOT),
        "fetchPositions": exchange.fetch_positions,
        "fetchFundingHistory": lambda: exchange.fetch_funding_history(PERP),
        "fetchConvertQuote": lambda: exchange.fetch_convert_quote("USDC", "BTC", 10),
        "createConvertTrade": lambda: exchange.create_convert_trade("1", "USDC", "BTC", 10),
    }


def _brief(result: Any) -> Any:
    """Keep what the test reads of a result: an order's id, status and amounts; otherwise the value as JSON allows."""
    if isinstance(result, dict) and "status" in result and "id" in result:
        keys = ("id", "symbol", "status", "type", "side", "amount", "filled", "price", "triggerPrice", "reduceOnly")
        return {key: result.get(key) for key in keys}
    if isinstance(result, list):
        return [_brief(item) for item in result[:20]]
    return result


if __name__ == "__main__":
    main()
