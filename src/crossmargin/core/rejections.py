"""Every expected "no" of the engine, named after the rule it enforces.

A `Rejection` pairs a stable `RejectReason` (mapped to Backpack's error codes at the API edge)
with a message a person can act on. A rejected command leaves no trace in the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectReason(StrEnum):
    """Why a command was refused; values are stable and documented in docs/INVARIANTS.md."""

    # Identity and input.
    ACCOUNT_NOT_FOUND = "account_not_found"
    SUBACCOUNT_NOT_FOUND = "subaccount_not_found"
    ASSET_NOT_FOUND = "asset_not_found"
    QUANTITY_MUST_BE_POSITIVE = "quantity_must_be_positive"
    QUANTITY_MUST_BE_MULTIPLE_OF_STEP = "quantity_must_be_multiple_of_step"
    QUANTITY_BELOW_MINIMUM = "quantity_below_minimum"
    QUANTITY_ABOVE_MAXIMUM = "quantity_above_maximum"
    PRICE_MUST_BE_POSITIVE = "price_must_be_positive"
    PRICE_ABOVE_MAXIMUM = "price_above_maximum"
    MARK_PRICE_MISSING = "mark_price_missing"
    CLOCK_MUST_NOT_GO_BACK = "clock_must_not_go_back"
    ASSET_DECIMALS_MUST_NOT_CHANGE = "asset_decimals_must_not_change"
    API_KEY_TAKEN = "api_key_taken"
    API_KEY_NOT_FOUND = "api_key_not_found"
    API_KEY_LIMIT_REACHED = "api_key_limit_reached"
    API_KEY_LAST = "api_key_last"
    DEMO_ALREADY_SEEDED = "demo_already_seeded"
    # Prices (the oracle guards).
    PRICE_JUMP_BEYOND_BAND = "price_jump_beyond_band"
    PRICE_STALE = "price_stale"
    # Balances and positions.
    BALANCE_INSUFFICIENT = "balance_insufficient"
    LEND_INSUFFICIENT = "lend_insufficient"
    BORROW_REQUIRES_LEND_REDEEM = "borrow_requires_lend_redeem"
    LEND_REQUIRES_BORROW_REPAY = "lend_requires_borrow_repay"
    AUTO_LEND_MUST_BE_OFF = "auto_lend_must_be_off"
    POSITION_NOT_FOUND = "position_not_found"
    WHOLE_POSITION_ABOVE_QUANTITY = "whole_position_above_quantity"
    # Margin.
    MARGIN_INSUFFICIENT = "margin_insufficient"
    LEVERAGE_LIMIT_OUT_OF_RANGE = "leverage_limit_out_of_range"
    # Pools.
    POOL_CLOSED = "pool_closed"
    POOL_REPAY_ONLY = "pool_repay_only"
    POOL_THROTTLED = "pool_throttled"
    POOL_UTILIZATION_EXCEEDED = "pool_utilization_exceeded"
    POOL_LIQUIDITY_INSUFFICIENT = "pool_liquidity_insufficient"
    BORROW_LIMIT_EXCEEDED = "borrow_limit_exceeded"
    OPEN_BORROW_LEND_LIMIT_EXCEEDED = "open_borrow_lend_limit_exceeded"
    ACCOUNT_BORROW_LIMIT_EXCEEDED = "account_borrow_limit_exceeded"
    ACCOUNT_POSITION_LIMIT_EXCEEDED = "account_position_limit_exceeded"
    AUTO_LEND_OFF_NEEDS_REDEEM = "auto_lend_off_needs_redeem"
    # Orders and markets.
    MARKET_NOT_FOUND = "market_not_found"
    MARKET_CLOSED = "market_closed"
    PRICE_REQUIRED = "price_required"
    PRICE_MUST_BE_MULTIPLE_OF_TICK = "price_must_be_multiple_of_tick"
    MARKET_DECIMALS_MUST_MATCH_ASSETS = "market_decimals_must_match_assets"
    MARKET_GRID_MUST_BE_EXACT = "market_grid_must_be_exact"
    ORDER_REQUIRES_ONE_QUANTITY = "order_requires_one_quantity"
    QUOTE_QUANTITY_REQUIRES_MARKET_ORDER = "quote_quantity_requires_market_order"
    POST_ONLY_REQUIRES_LIMIT_ORDER = "post_only_requires_limit_order"
    SLIPPAGE_REQUIRES_MARKET_ORDER = "slippage_requires_market_order"
    POST_ONLY_REQUIRES_GTC = "post_only_requires_gtc"
    SPOT_OPTIONS_REQUIRE_SPOT_MARKET = "spot_options_require_spot_market"
    REDUCE_ONLY_REQUIRES_PERP_MARKET = "reduce_only_requires_perp_market"
    CANCEL_REQUIRES_ONE_ORDER_ID = "cancel_requires_one_order_id"
    ORDER_NOT_FOUND = "order_not_found"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    REDUCE_ONLY_NOT_REDUCED = "reduce_only_not_reduced"
    REDUCE_ONLY_ABOVE_POSITION = "reduce_only_above_position"
    PRICE_OUTSIDE_BAND = "price_outside_band"
    PRICE_OUTSIDE_MARK_BAND = "price_outside_mark_band"
    OPEN_INTEREST_LIMIT_EXCEEDED = "open_interest_limit_exceeded"
    NO_LIQUIDITY = "no_liquidity"
    # Trigger orders, stop losses and take profits.
    TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE = "trigger_field_without_trigger_price"
    TRIGGER_REQUIRES_QUANTITY = "trigger_requires_quantity"
    TRIGGER_ORDER_LIMIT_EXCEEDED = "trigger_order_limit_exceeded"
    STOP_LOSS_TAKE_PROFIT_REQUIRE_PERP_MARKET = "stop_loss_take_profit_require_perp_market"
    STOP_LOSS_TAKE_PROFIT_INVERTED = "stop_loss_take_profit_inverted"
    POSITION_TP_SL_REQUIRES_MARKET_ORDER = "position_tp_sl_requires_market_order"
    # Liquidation.
    NOT_LIQUIDATABLE = "not_liquidatable"
    ACCOUNT_LIQUIDATING = "account_liquidating"
    # Transfers.
    TRANSFER_TO_SELF = "transfer_to_self"
    TRANSFER_BETWEEN_ACCOUNTS = "transfer_between_accounts"

    # Dust conversion and withdrawal delay.
    NOT_DUST = "not_dust"
    WITHDRAWAL_DELAY_EXISTS = "withdrawal_delay_exists"
    WITHDRAWAL_DELAY_NOT_FOUND = "withdrawal_delay_not_found"
    WITHDRAWAL_DELAY_OUT_OF_RANGE = "withdrawal_delay_out_of_range"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused command: the rule broken and what the person can do about it."""

    reason: RejectReason
    message: str
