"""bpx-py against a crossmargin server: public markets, borrow-lend, account, capital and history.

Usage (inside .venv-bpx): bpx_client.py BASE_URL API_KEY API_SECRET open|read. bpx-py builds every
URL from a class attribute, so the server is set on the instances: `Account.BPX_API_URL` and
`Public.BASE_URL` (both with a trailing slash). It returns the decoded body whatever the status,
so an error arrives as Backpack's `{"code", "message"}` object rather than an exception.
"""

from __future__ import annotations

from _steps import Steps, arguments
from bpx.account import Account
from bpx.public import Public


def main() -> None:
    args = arguments()
    account = Account(args.api_key, args.api_secret)
    account.BPX_API_URL = args.base_url + "/"
    public = Public()
    public.BASE_URL = args.base_url + "/"
    steps = Steps()
    if args.phase == "open":
        steps.run("get_markets", public.get_markets)
        steps.run("get_ticker", lambda: public.get_ticker("BTC_USDC"))
        steps.run("get_tickers", public.get_tickers)
        steps.run("get_balances", account.get_balances)
        steps.run("execute_borrow_lend", lambda: account.execute_borrow_lend("100", "Borrow", "USDC"))
        steps.run("update_account", lambda: account.update_account(auto_borrow_settlements=True, leverage_limit="5"))
    elif args.phase == "read":
        steps.run("get_account", account.get_account)
        steps.run("get_borrow_lend_positions", account.get_borrow_lend_positions)
        steps.run("get_collateral", account.get_collateral)
        steps.run("get_max_borrow_quantity", lambda: account.get_max_borrow_quantity("USDC"))
        steps.run(
            "get_max_withdrawal_quantity",
            lambda: account.get_max_withdrawal_quantity("BTC", auto_borrow=True, auto_lend_redeem=False),
        )
        steps.run("get_borrow_history", lambda: account.get_borrow_history(symbol="USDC"))
        steps.run("get_interest_history", lambda: account.get_interest_history(asset="USDC"))
        steps.run("get_balances", account.get_balances)
    steps.print()


if __name__ == "__main__":
    main()
