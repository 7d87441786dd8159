"""Every backpack-exchange-sdk REST method against a crossmargin server, each once.

Usage (inside .venv-sdk): sdk_sweep.py BASE_URL API_KEY API_SECRET sweep. The SDK raises
`BackpackAPIError` on an error response, which the step records with its status and code. The
step names are the method names, so the test can compare them with the client's list of methods.
"""

from __future__ import annotations

import base64
import json
import time

from _steps import Steps, arguments
from backpack_exchange_sdk.authenticated import AuthenticationClient
from backpack_exchange_sdk.public import PublicClient

BORROW = base64.b64encode(json.dumps({"symbol": "USDC", "side": "Borrow", "quantity": "100"}).encode()).decode()
ADDRESS = "9wSzkHNkePxZbG4PxKsH3wjXnMysAvkXkm1mWxiwqRkE"


def main() -> None:
    args = arguments()
    client = AuthenticationClient(args.api_key, args.api_secret, base_url=args.base_url + "/", timeout=10)
    public = PublicClient(base_url=args.base_url + "/", timeout=10)
    steps = Steps()
    run = steps.run
    now_s = int(time.time())

    run("get_assets", public.get_assets)
    run("get_collateral_public", public.get_collateral)
    run("get_borrow_lend_markets", public.get_borrow_lend_markets)
    run("get_borrow_lend_market_history", lambda: public.get_borrow_lend_market_history("1d", "USDC"))
    run("get_markets", public.get_markets)
    run("get_market", lambda: public.get_market("BTC_USDC"))
    run("get_ticker", lambda: public.get_ticker("BTC_USDC"))
    run("get_tickers", public.get_tickers)
    run("get_depth", lambda: public.get_depth("BTC_USDC"))
    run("get_klines", lambda: public.get_klines("BTC_USDC", "1h", now_s - 86400))
    run("get_mark_price", lambda: public.get_mark_price("BTC_USDC_PERP"))
    run("get_open_interest", lambda: public.get_open_interest("BTC_USDC_PERP"))
    run("get_funding_interval_rates", lambda: public.get_funding_interval_rates("BTC_USDC_PERP"))
    run("get_status", public.get_status)
    run("send_ping", public.send_ping)
    run("get_system_time", public.get_system_time)
    run("get_recent_trades", lambda: public.get_recent_trades("BTC_USDC"))
    run("get_historical_trades", lambda: public.get_historical_trades("BTC_USDC"))
    run("get_wallets", public.get_wallets)
    run("get_prediction_markets", public.get_prediction_markets)
    run("get_prediction_tags", public.get_prediction_tags)

    run("get_account", client.get_account)
    run("update_account", lambda: client.update_account(autoBorrowSettlements=True, leverageLimit="5"))
    run("get_balances", client.get_balances)
    run("get_collateral", client.get_collateral)
    run("execute_borrow_lend", lambda: client.execute_borrow_lend("100", "Borrow", "USDC"))
    run("get_borrow_lend_positions", client.get_borrow_lend_positions)
    run("get_max_borrow_quantity", lambda: client.get_max_borrow_quantity("USDC"))
    run("get_max_withdrawal_quantity", lambda: client.get_max_withdrawal_quantity("USDC", autoBorrow=True))
    run("get_max_order_quantity", lambda: client.get_max_order_quantity("BTC_USDC", "Bid", price="59000"))
    run("get_estimated_liquidation_price", lambda: client.get_estimated_liquidation_price(BORROW))
    run(
        "execute_order",
        lambda: client.execute_order("Limit", "Bid", "BTC_USDC", quantity="0.01", price="50000", clientId=7),
    )
    run("get_users_open_orders", lambda: client.get_users_open_orders("BTC_USDC", clientId=7))
    run("get_open_orders", lambda: client.get_open_orders(symbol="BTC_USDC"))
    run("cancel_open_order", lambda: client.cancel_open_order("BTC_USDC", clientId=7))
    run(
        "execute_batch_orders",
        lambda: client.execute_batch_orders(
            [{"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "quantity": "0.01", "price": "50000"}]
        ),
    )
    run("cancel_open_orders", lambda: client.cancel_open_orders("BTC_USDC"))
    run(
        "execute_order_trigger",
        lambda: client.execute_order(
            "Market", "Ask", "BTC_USDC_PERP", quantity="0.001", triggerPrice="50000", triggerQuantity="0.001"
        ),
    )
    run("get_open_positions", client.get_open_positions)
    run("get_deposits", client.get_deposits)
    run("get_deposit_address", lambda: client.get_deposit_address("Solana"))
    run("request_withdrawal", lambda: client.request_withdrawal(ADDRESS, "Solana", "10", "USDC"))
    run("get_withdrawals", client.get_withdrawals)
    run("create_withdrawal_delay", lambda: client.create_withdrawal_delay(2, "000000"))
    run("get_withdrawal_delay", client.get_withdrawal_delay)
    run("update_withdrawal_delay", lambda: client.update_withdrawal_delay(1, "000000"))
    run("convert_dust", lambda: client.convert_dust("SOL"))
    run("get_dust_history", client.get_dust_history)
    run("get_borrow_history", lambda: client.get_borrow_history(symbol="USDC"))
    run("get_interest_history", lambda: client.get_interest_history(asset="USDC"))
    run("get_borrow_position_history", lambda: client.get_borrow_position_history(symbol="USDC"))
    run("get_position_history", client.get_position_history)
    run("get_order_history", lambda: client.get_order_history(symbol="BTC_USDC"))
    run("get_fill_history", lambda: client.get_fill_history(symbol="BTC_USDC"))
    run("get_funding_payments", client.get_funding_payments)
    run("get_settlement_history", client.get_settlement_history)
    for name in (
        "get_open_strategies",
        "get_strategy_history",
        "get_quote_history",
        "get_quote_fill_history",
        "get_rfq_history",
        "get_rfq_fill_history",
    ):
        run(name, getattr(client, name))
    run("create_strategy", lambda: client.create_strategy("BTC_USDC", "Bid", "Scheduled", quantity="0.01"))
    run("get_strategy", lambda: client.get_strategy("BTC_USDC", strategyId="1"))
    run("cancel_strategy", lambda: client.cancel_strategy("BTC_USDC", strategyId="1"))
    run("cancel_all_strategies", lambda: client.cancel_all_strategies("BTC_USDC"))
    run("submit_rfq", lambda: client.submit_rfq("BTC_USDC", "Bid", quantity="0.01"))
    run("submit_quote", lambda: client.submit_quote("1", "59000", "61000"))
    run("accept_quote", lambda: client.accept_quote("1", rfqId="1"))
    run("refresh_rfq", lambda: client.refresh_rfq("1"))
    run("cancel_rfq", lambda: client.cancel_rfq(rfqId="1"))
    steps.print()


if __name__ == "__main__":
    main()
