"""bpx-py placing trigger orders, stop losses and take profits against a crossmargin server.

Usage (inside .venv-bpx): bpx_triggers.py BASE_URL API_KEY API_SECRET maker|place|taker|after.
bpx-py's `execute_order` needs `quantity` on every order (it sends `triggerQuantity` beside it),
and names the trigger reference `triggered_by`, sent as `triggeredBy`: a name Backpack's payload
does not have, so the trigger watches the default, the last price.
"""

from __future__ import annotations

from _steps import Steps, arguments
from bpx.account import Account

SPOT = "BTC_USDC"
PERP = "BTC_USDC_PERP"


def main() -> None:
    args = arguments()
    account = Account(args.api_key, args.api_secret)
    account.BPX_API_URL = args.base_url + "/"
    steps = Steps()
    if args.phase == "maker":
        for symbol in (SPOT, PERP):
            steps.run(
                f"{symbol} ask", lambda s=symbol: account.execute_order(s, "Ask", "Limit", quantity="1", price="60010")
            )
            steps.run(
                f"{symbol} bid", lambda s=symbol: account.execute_order(s, "Bid", "Limit", quantity="1", price="59990")
            )
    elif args.phase == "place":
        steps.run(
            "trigger_buy",
            lambda: account.execute_order(
                SPOT, "Bid", "Market", quantity="0.01", trigger_price="60010", trigger_quantity="0.01"
            ),
        )
        steps.run(
            "bracketed_buy",
            lambda: account.execute_order(
                PERP,
                "Bid",
                "Market",
                quantity="0.1",
                stop_loss_trigger_price="59000",
                stop_loss_trigger_by="IndexPrice",
                take_profit_trigger_price="62000",
                take_profit_limit_price="62000",
            ),
        )
        limit = steps.run(
            "limit_trigger",
            lambda: account.execute_order(
                SPOT, "Bid", "Limit", quantity="0.01", price="50000", trigger_price="55000", trigger_quantity="0.01"
            ),
        )
        steps.run("get_open_orders", lambda: account.get_open_orders(symbol=SPOT))
        steps.run("get_open_perp_orders", lambda: account.get_open_orders(symbol=PERP))
        if isinstance(limit, dict):
            steps.run("get_open_order", lambda: account.get_open_order(SPOT, order_id=limit["id"]))
            steps.run("cancel_order", lambda: account.cancel_order(SPOT, order_id=limit["id"]))
    elif args.phase == "taker":
        steps.run("market_buy", lambda: account.execute_order(SPOT, "Bid", "Market", quantity="0.01"))
    elif args.phase == "after":
        steps.run("spot_history", lambda: account.get_order_history(symbol=SPOT))
        steps.run("perp_history", lambda: account.get_order_history(symbol=PERP))
        steps.run("get_open_perp_orders", lambda: account.get_open_orders(symbol=PERP))
    steps.print()


if __name__ == "__main__":
    main()
