"""Every bpx-py method against a crossmargin server, each once, with arguments a bot would send.

Usage (inside .venv-bpx): bpx_sweep.py BASE_URL API_KEY API_SECRET sweep. bpx-py returns the
decoded body whatever the status, so a step whose result is Backpack's `{"code", "message"}` error
object is reported as an error here, with its code: the test then sees a 404 as a failure, not as
data. The step names are the method names, so the test can compare them with the client's own
list of methods.
"""

from __future__ import annotations

import time

from _steps import Steps, arguments
from bpx.account import Account
from bpx.public import Public


def checked(result: object) -> object:
    """Return a result, or raise if it is Backpack's error object (bpx-py does not raise on a status)."""
    if isinstance(result, dict) and set(result) == {"code", "message"}:
        raise RuntimeError(f"{result['code']}: {result['message']}")
    return result


def main() -> None:
    args = arguments()
    account = Account(args.api_key, args.api_secret)
    account.BPX_API_URL = args.base_url + "/"
    public = Public()
    public.BASE_URL = args.base_url + "/"
    steps = Steps()

    def run(name: str, call: object) -> None:
        steps.run(name, lambda: checked(call()))  # type: ignore[operator]

    now_s = int(time.time())
    run("get_assets", public.get_assets)
    run("get_collateral_public", public.get_collateral)
    run("get_borrow_lend_markets", public.get_borrow_lend_markets)
    run("get_borrow_lend_market_history", lambda: public.get_borrow_lend_market_history("1d", "USDC"))
    run("get_markets", public.get_markets)
    run("get_market", public.get_market)
    run("get_ticker", lambda: public.get_ticker("BTC_USDC"))
    run("get_tickers", public.get_tickers)
    run("get_depth", lambda: public.get_depth("BTC_USDC"))
    run("get_klines", lambda: public.get_klines("BTC_USDC", "1h", now_s - 86400))
    run("get_all_mark_prices", lambda: public.get_all_mark_prices("BTC_USDC_PERP"))
    run("get_open_interest", lambda: public.get_open_interest("BTC_USDC_PERP"))
    run("get_funding_interval_rates", lambda: public.get_funding_interval_rates("BTC_USDC_PERP"))
    run("get_status", public.get_status)
    run("get_ping", public.get_ping)
    run("get_time", public.get_time)
    run("get_recent_trades", lambda: public.get_recent_trades("BTC_USDC"))
    run("get_history_trades", lambda: public.get_history_trades("BTC_USDC"))

    run("get_account", account.get_account)
    run("update_account", lambda: account.update_account(auto_borrow_settlements=True, leverage_limit="5"))
    run("get_balances", account.get_balances)
    run("get_collateral", account.get_collateral)
    run("execute_borrow_lend", lambda: account.execute_borrow_lend("100", "Borrow", "USDC"))
    run("get_borrow_lend_positions", account.get_borrow_lend_positions)
    run("get_max_borrow_quantity", lambda: account.get_max_borrow_quantity("USDC"))
    run("get_max_withdrawal_quantity", lambda: account.get_max_withdrawal_quantity("USDC", auto_borrow=True))
    run(
        "get_max_order_quantity",
        lambda: account.get_max_order_quantity("BTC_USDC", "Bid", price="59000", auto_borrow=True),
    )
    run(
        "execute_order",
        lambda: account.execute_order("BTC_USDC", "Bid", "Limit", "GTC", quantity="0.01", price="50000", client_id=7),
    )
    run("get_open_order", lambda: account.get_open_order("BTC_USDC", client_id=7))
    run("get_open_orders", lambda: account.get_open_orders(symbol="BTC_USDC"))
    run("cancel_order", lambda: account.cancel_order("BTC_USDC", client_id=7))
    run("cancel_all_orders", lambda: account.cancel_all_orders("BTC_USDC"))
    run("get_open_positions", account.get_open_positions)
    run("get_deposits", account.get_deposits)
    run("get_deposit_address", lambda: account.get_deposit_address("Solana"))
    run(
        "withdrawal",
        lambda: account.withdrawal("9wSzkHNkePxZbG4PxKsH3wjXnMysAvkXkm1mWxiwqRkE", "USDC", "Solana", "10"),
    )
    run("get_withdrawals", account.get_withdrawals)
    run("get_borrow_history", lambda: account.get_borrow_history(symbol="USDC"))
    run("get_interest_history", lambda: account.get_interest_history(asset="USDC"))
    run("get_order_history", lambda: account.get_order_history(symbol="BTC_USDC"))
    run("get_fill_history", lambda: account.get_fill_history(symbol="BTC_USDC"))
    run("get_funding_payments", account.get_funding_payments)
    run("get_profit_and_loss_history", account.get_profit_and_loss_history)
    run("get_settlements_history", account.get_settlements_history)
    run(
        "execute_order_trigger",
        lambda: account.execute_order(
            "BTC_USDC_PERP", "Ask", "Market", quantity="0.001", trigger_price="50000", trigger_quantity="0.001"
        ),
    )
    run("submit_quote", lambda: account.submit_quote("1", "59000", "61000"))
    steps.print()


if __name__ == "__main__":
    main()
