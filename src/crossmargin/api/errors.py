"""The one error of the HTTP edge, and the map from the engine's refusals to it.

Everything the edge refuses is raised as `ApiError` (HTTP status, Backpack `code`, `message`) and
leaves through one handler in `app.py` as Backpack's body `{"code", "message"}`: malformed input
(400, naming the field), a bad query (400, or 404 for `RESOURCE_NOT_FOUND`), a signature problem
(401, `unauthorized`) and an engine refusal (`from_rejection`). Every `RejectReason` maps to one of
Backpack's `ApiErrorCode` values (the published enum) and a status; the message is the engine's
own, written for the person reading it. The mapping is a `match` with `assert_never`, so a new
reason without a mapping fails type checking.
"""

from __future__ import annotations

from typing import Final, assert_never

from crossmargin.core.rejections import RejectReason

BAD_REQUEST: Final = 400
UNAUTHORIZED: Final = 401
NOT_FOUND: Final = 404
CONFLICT: Final = 409
SERVER_ERROR_STATUS: Final = 500
INVALID_CLIENT_REQUEST: Final = "INVALID_CLIENT_REQUEST"
RESOURCE_NOT_FOUND: Final = "RESOURCE_NOT_FOUND"


class ApiError(Exception):
    """A Backpack error response on its way out: HTTP status, `code` and `message`.

    Without a `status`, the code decides it: 404 for `RESOURCE_NOT_FOUND`, else 400 (a request
    the client must change).
    """

    def __init__(self, message: str, code: str = INVALID_CLIENT_REQUEST, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status if status is not None else NOT_FOUND if code == RESOURCE_NOT_FOUND else BAD_REQUEST

    def body(self) -> dict[str, str]:
        """Return the JSON body Backpack clients expect."""
        return {"code": self.code, "message": self.message}


def server_error() -> ApiError:
    """Return the 500 of an unexpected error (a bug): its details go to the operator's log, not the client."""
    return ApiError(
        "Internal server error: the operator's log has the details", "SERVER_ERROR", status=SERVER_ERROR_STATUS
    )


def unauthorized(message: str) -> ApiError:
    """Return the 401 of a request that is not (or no longer) correctly signed."""
    return ApiError(message, "UNAUTHORIZED", status=UNAUTHORIZED)


def api_error_code(reason: RejectReason) -> tuple[int, str]:  # noqa: C901, PLR0911, PLR0912 -- one arm per group
    """Return the HTTP status and Backpack error code of a refusal."""
    match reason:
        case RejectReason.ACCOUNT_NOT_FOUND | RejectReason.SUBACCOUNT_NOT_FOUND | RejectReason.API_KEY_NOT_FOUND:
            return NOT_FOUND, "RESOURCE_NOT_FOUND"
        case RejectReason.ASSET_NOT_FOUND:
            return BAD_REQUEST, "INVALID_ASSET"
        case (
            RejectReason.QUANTITY_MUST_BE_POSITIVE
            | RejectReason.QUANTITY_MUST_BE_MULTIPLE_OF_STEP
            | RejectReason.QUANTITY_BELOW_MINIMUM
            | RejectReason.QUANTITY_ABOVE_MAXIMUM
        ):
            return BAD_REQUEST, "INVALID_QUANTITY"
        case (
            RejectReason.PRICE_MUST_BE_POSITIVE
            | RejectReason.PRICE_ABOVE_MAXIMUM
            | RejectReason.MARK_PRICE_MISSING
            | RejectReason.PRICE_JUMP_BEYOND_BAND
        ):
            return BAD_REQUEST, "INVALID_PRICE"
        case RejectReason.PRICE_STALE:
            return BAD_REQUEST, "TRADING_PAUSED"
        case (
            RejectReason.CLOCK_MUST_NOT_GO_BACK
            | RejectReason.ASSET_DECIMALS_MUST_NOT_CHANGE
            | RejectReason.API_KEY_TAKEN
            | RejectReason.API_KEY_LIMIT_REACHED
            | RejectReason.API_KEY_LAST
            | RejectReason.DEMO_ALREADY_SEEDED
            | RejectReason.TRANSFER_TO_SELF
            | RejectReason.TRANSFER_BETWEEN_ACCOUNTS
        ):
            return BAD_REQUEST, "INVALID_CLIENT_REQUEST"
        case RejectReason.BALANCE_INSUFFICIENT | RejectReason.LEND_INSUFFICIENT:
            return BAD_REQUEST, "INSUFFICIENT_FUNDS"
        case RejectReason.BORROW_REQUIRES_LEND_REDEEM:
            return BAD_REQUEST, "BORROW_REQUIRES_LEND_REDEEM"
        case RejectReason.LEND_REQUIRES_BORROW_REPAY:
            return BAD_REQUEST, "LEND_REQUIRES_BORROW_REPAY"
        case RejectReason.AUTO_LEND_MUST_BE_OFF:
            return BAD_REQUEST, "PRECONDITION_FAILED"
        case RejectReason.POSITION_NOT_FOUND:
            # Backpack's POST borrowLend answers 400 for any refusal (its spec lists no 404 there).
            return BAD_REQUEST, "RESOURCE_NOT_FOUND"
        case RejectReason.WHOLE_POSITION_ABOVE_QUANTITY:
            return BAD_REQUEST, "INVALID_QUANTITY"
        case RejectReason.MARGIN_INSUFFICIENT:
            return BAD_REQUEST, "INSUFFICIENT_MARGIN"
        case RejectReason.LEVERAGE_LIMIT_OUT_OF_RANGE:
            return BAD_REQUEST, "MAX_LEVERAGE_REACHED"
        case RejectReason.POOL_CLOSED | RejectReason.POOL_REPAY_ONLY:
            return BAD_REQUEST, "TRADING_PAUSED"
        case (
            RejectReason.POOL_THROTTLED
            | RejectReason.POOL_UTILIZATION_EXCEEDED
            | RejectReason.POOL_LIQUIDITY_INSUFFICIENT
        ):
            return BAD_REQUEST, "INSUFFICIENT_SUPPLY"
        case (
            RejectReason.BORROW_LIMIT_EXCEEDED
            | RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED
            | RejectReason.ACCOUNT_BORROW_LIMIT_EXCEEDED
        ):
            return BAD_REQUEST, "BORROW_LIMIT"
        case RejectReason.ACCOUNT_POSITION_LIMIT_EXCEEDED:
            return BAD_REQUEST, "POSITION_LIMIT"
        case RejectReason.AUTO_LEND_OFF_NEEDS_REDEEM:
            return BAD_REQUEST, "INSUFFICIENT_SUPPLY"
        case RejectReason.PRICE_OUTSIDE_BAND | RejectReason.PRICE_OUTSIDE_MARK_BAND:
            return BAD_REQUEST, "INVALID_PRICE"
        case RejectReason.REDUCE_ONLY_ABOVE_POSITION:
            return BAD_REQUEST, "INVALID_QUANTITY"
        case RejectReason.MARKET_NOT_FOUND:
            return NOT_FOUND, "INVALID_MARKET"
        case RejectReason.MARKET_CLOSED:
            return BAD_REQUEST, "TRADING_PAUSED"
        case RejectReason.PRICE_REQUIRED | RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK:
            return BAD_REQUEST, "INVALID_PRICE"
        case (
            RejectReason.MARKET_DECIMALS_MUST_MATCH_ASSETS
            | RejectReason.MARKET_GRID_MUST_BE_EXACT
            | RejectReason.ORDER_REQUIRES_ONE_QUANTITY
            | RejectReason.QUOTE_QUANTITY_REQUIRES_MARKET_ORDER
            | RejectReason.POST_ONLY_REQUIRES_LIMIT_ORDER
            | RejectReason.SLIPPAGE_REQUIRES_MARKET_ORDER
            | RejectReason.POST_ONLY_REQUIRES_GTC
            | RejectReason.SPOT_OPTIONS_REQUIRE_SPOT_MARKET
            | RejectReason.REDUCE_ONLY_REQUIRES_PERP_MARKET
            | RejectReason.CANCEL_REQUIRES_ONE_ORDER_ID
            | RejectReason.POST_ONLY_WOULD_TAKE
            | RejectReason.REDUCE_ONLY_NOT_REDUCED
        ):
            return BAD_REQUEST, "INVALID_ORDER"
        case (
            RejectReason.TRIGGER_FIELD_WITHOUT_TRIGGER_PRICE
            | RejectReason.TRIGGER_REQUIRES_QUANTITY
            | RejectReason.STOP_LOSS_TAKE_PROFIT_REQUIRE_PERP_MARKET
            | RejectReason.STOP_LOSS_TAKE_PROFIT_INVERTED
            | RejectReason.POSITION_TP_SL_REQUIRES_MARKET_ORDER
        ):
            return BAD_REQUEST, "INVALID_ORDER"
        case RejectReason.TRIGGER_ORDER_LIMIT_EXCEEDED:
            return BAD_REQUEST, "ORDER_LIMIT"
        case RejectReason.ORDER_NOT_FOUND:
            return NOT_FOUND, "RESOURCE_NOT_FOUND"
        case RejectReason.OPEN_INTEREST_LIMIT_EXCEEDED:
            return BAD_REQUEST, "POSITION_LIMIT"
        case RejectReason.NO_LIQUIDITY:
            return BAD_REQUEST, "INSUFFICIENT_SUPPLY"
        case RejectReason.NOT_LIQUIDATABLE:
            return BAD_REQUEST, "PRECONDITION_FAILED"
        case RejectReason.ACCOUNT_LIQUIDATING:
            return BAD_REQUEST, "ACCOUNT_LIQUIDATING"
        case RejectReason.NOT_DUST:
            return BAD_REQUEST, "INVALID_QUANTITY"
        case RejectReason.WITHDRAWAL_DELAY_OUT_OF_RANGE:
            return BAD_REQUEST, "INVALID_CLIENT_REQUEST"
        case RejectReason.WITHDRAWAL_DELAY_EXISTS:
            # Backpack's spec answers 409 Conflict ("Withdrawal delay already exists") with its error shape.
            return CONFLICT, "INVALID_CLIENT_REQUEST"
        case RejectReason.WITHDRAWAL_DELAY_NOT_FOUND:
            return NOT_FOUND, "RESOURCE_NOT_FOUND"
        case _:
            assert_never(reason)


def from_rejection(reason: RejectReason, message: str) -> ApiError:
    """Return the API error of an engine refusal."""
    status, code = api_error_code(reason)
    return ApiError(message, code, status=status)
