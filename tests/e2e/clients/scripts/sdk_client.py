"""backpack-exchange-sdk against a crossmargin server: public markets, borrow-lend, account, capital, history.

Usage (inside .venv-sdk): sdk_client.py BASE_URL API_KEY API_SECRET open|read. Both clients take
`base_url` (with a trailing slash) in their constructor; errors raise `BackpackAPIError`.
"""

from __future__ import annotations

from _steps import Steps, arguments
from backpack_exchange_sdk.authenticated import AuthenticationClient
from backpack_exchange_sdk.public import PublicClient


def main() -> None:
    args = arguments()
    client = AuthenticationClient(args.api_key, args.api_secret, base_url=args.base_url + "/", timeout=10)
    public = PublicClient(base_url=args.base_url + "/", timeout=10)
    steps = Steps()
    if args.phase == "open":
        steps.run("get_markets", public.get_markets)
        steps.run("get_market", lambda: public.get_market("BTC_USDC"))
        steps.run("get_ticker", lambda: public.get_ticker("BTC_USDC"))
        steps.run("get_tickers", public.get_tickers)
        steps.run("get_balances", client.get_balances)
        steps.run("execute_borrow_lend", lambda: client.execute_borrow_lend("100", "Borrow", "USDC"))
        steps.run("update_account", lambda: client.update_account(autoBorrowSettlements=True, leverageLimit="5"))
    elif args.phase == "read":
        steps.run("get_account", client.get_account)
        steps.run("get_borrow_lend_positions", client.get_borrow_lend_positions)
        steps.run("get_collateral", client.get_collateral)
        steps.run("get_max_borrow_quantity", lambda: client.get_max_borrow_quantity("USDC"))
        steps.run(
            "get_max_withdrawal_quantity",
            lambda: client.get_max_withdrawal_quantity("BTC", autoBorrow=True, autoLendRedeem=False),
        )
        steps.run("get_borrow_history", lambda: client.get_borrow_history(sources="Manual,AutoLend"))
        steps.run("get_interest_history", lambda: client.get_interest_history(asset="USDC"))
        steps.run("get_borrow_position_history", lambda: client.get_borrow_position_history(symbol="USDC"))
        steps.run("get_balances", client.get_balances)
    steps.print()


if __name__ == "__main__":
    main()
