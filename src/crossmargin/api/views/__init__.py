"""Views: pure functions from engine state to the JSON bodies of Backpack's REST API.

Each `view_*` function answers one endpoint with exactly the response shape of Backpack's
published OpenAPI spec (field names, types, every required field), made only of dicts, lists,
strings, integers, booleans and None, ready for any JSON encoder. Amounts are exact decimal
strings, never floats. A view never changes the state; a bad query raises `ApiError`
(`errors.py`), which carries the Backpack error code to answer with. History views return every matching row in
order; `page()` cuts the page a request asks for and the paging headers.
"""

from crossmargin.api.views.account import (
    view_account,
    view_borrow_lend_positions,
    view_capital,
    view_capital_collateral,
    view_max_borrow,
    view_max_withdrawal,
)
from crossmargin.api.views.common import LIMIT_DEFAULT, LIMIT_MAX, JsonObject, JsonValue, Page, page
from crossmargin.api.views.history import (
    view_borrow_lend_history,
    view_borrow_lend_position_history,
    view_deposits,
    view_interest_history,
    view_withdrawals,
)
from crossmargin.api.views.markets import view_market, view_markets, view_securities, view_ticker, view_tickers
from crossmargin.api.views.perps import view_mark_prices
from crossmargin.api.views.public import (
    view_assets,
    view_borrow_lend_markets,
    view_borrow_lend_markets_history,
    view_collateral,
    view_stale_prices,
    view_status,
    view_time,
)

__all__ = [
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "JsonObject",
    "JsonValue",
    "Page",
    "page",
    "view_account",
    "view_assets",
    "view_borrow_lend_history",
    "view_borrow_lend_markets",
    "view_borrow_lend_markets_history",
    "view_borrow_lend_position_history",
    "view_borrow_lend_positions",
    "view_capital",
    "view_capital_collateral",
    "view_collateral",
    "view_deposits",
    "view_interest_history",
    "view_mark_prices",
    "view_market",
    "view_markets",
    "view_max_borrow",
    "view_max_withdrawal",
    "view_securities",
    "view_stale_prices",
    "view_status",
    "view_ticker",
    "view_tickers",
    "view_time",
    "view_withdrawals",
]
