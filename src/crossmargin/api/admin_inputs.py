"""Parse the operator's requests (`/admin/v1`) at the edge: one parser per command.

The operator's deposit and transfer are capital commands, read by `capital_inputs.py`; this module
reads the rest: the account a new subaccount joins, the subaccount in a key request's path, a set
of mark prices, a subaccount's account-wide limits, and how far to advance the manual clock. Only
the input's shape is checked here; whether the account exists or the prices may move that far is
the engine's to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from crossmargin.api import inputs
from crossmargin.api.errors import ApiError
from crossmargin.core.account_limits import ACCOUNT_LIMIT_MAX_WAD
from crossmargin.core.commands import CreateSubaccount, SetAccountLimits, SetMarkPrices
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.numbers import parse_decimal

SECONDS_PER_ADVANCE_MAX: Final = 366 * 24 * 3600
"""One call to POST /admin/v1/clock/advance moves the manual clock at most a (leap) year."""
FENCE_URL_MAX_CHARS: Final = 2048
"""The longest old-primary URL a promotion takes (`fenceDatabaseUrl`)."""


def create_subaccount(values: Mapping[str, object], api_key: str) -> CreateSubaccount:
    """Return the `CreateSubaccount` of an account (`accountId`) with its first API key."""
    return CreateSubaccount(AccountId(inputs.integer(values, "accountId", minimum=1)), api_keys=(api_key,))


def path_subaccount_id(path_params: Mapping[str, object]) -> SubaccountId:
    """Return the subaccount a path names (`/admin/v1/subaccounts/{subaccountId}/...`)."""
    return SubaccountId(inputs.integer({"subaccountId": path_params["subaccountId"]}, "subaccountId"))


def set_account_limits(subaccount_id: SubaccountId, values: Mapping[str, object]) -> SetAccountLimits:
    """Return the `SetAccountLimits` of optional `borrowLimit` and `positionLimit` decimal USD strings."""
    unknown = set(values) - {"borrowLimit", "positionLimit"}
    if unknown:
        raise ApiError(f"{min(unknown)} is not an account limit: give borrowLimit and/or positionLimit")
    limits = [_usd_limit(values, name) for name in ("borrowLimit", "positionLimit")]
    if limits == [None, None]:
        raise ApiError("Give borrowLimit and/or positionLimit, in USD")
    return SetAccountLimits(subaccount_id, limits[0], limits[1])


def _usd_limit(values: Mapping[str, object], name: str) -> int | None:
    if values.get(name) is None:
        return None
    raw = inputs.decimal_text(values, name)
    try:
        limit = parse_decimal(raw, 18)
    except ValueError:
        raise ApiError(f"{name} {raw!r} is not a plain decimal number of USD with at most 18 decimals") from None
    if limit < 0:
        raise ApiError(f"{name} must not be negative")
    return inputs.require_at_most(name, limit, ACCOUNT_LIMIT_MAX_WAD, 18)


def set_mark_prices(values: Mapping[str, object]) -> SetMarkPrices:
    """Return the `SetMarkPrices` of a `prices` object of symbol to decimal string, with its `force` flag.

    `force` passes the jump band: the operator knows the market really moved that far.
    """
    given = values.get("prices")
    if not isinstance(given, dict) or not given:
        raise ApiError('prices must be an object of symbol to decimal string, e.g. {"BTC": "65000"}')
    inputs.require_parameter_count(len(given), "prices")
    pairs = tuple((inputs.text({"symbol": symbol}, "symbol"), inputs.price(given, symbol)) for symbol in sorted(given))
    return SetMarkPrices(pairs, force=inputs.optional_bool(values, "force") or False)


def clock_seconds(values: Mapping[str, object]) -> int:
    """Return how many seconds to advance the manual clock: at most `SECONDS_PER_ADVANCE_MAX` per call."""
    return inputs.integer(values, "seconds", maximum=SECONDS_PER_ADVANCE_MAX, maximum_is=" (one year) per call")


def fence_database_url(values: Mapping[str, object]) -> str | None:
    """Parse `POST /admin/v1/replica/promote`'s optional `fenceDatabaseUrl`: the old primary's database."""
    fence = values.get("fenceDatabaseUrl")
    if fence is not None and not isinstance(fence, str):
        raise ApiError("fenceDatabaseUrl must be a postgresql:// URL string")
    if fence is not None and len(fence) > FENCE_URL_MAX_CHARS:
        raise ApiError(f"fenceDatabaseUrl is longer than {FENCE_URL_MAX_CHARS} characters")
    return fence
