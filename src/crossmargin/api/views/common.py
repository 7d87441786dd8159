"""What every view shares: JSON types, exact formatting, paging, and the refusals of a bad query.

A *view* turns engine state into the JSON body Backpack sends for one endpoint. Every amount is
a decimal string made exactly from integers: quantities from atoms at the asset's decimals, USD
values, prices and ratios from WAD (18 decimals, trailing zeros dropped, never an exponent).
Times follow the spec's format per field: `naive-date-time` is UTC without a zone, with
milliseconds only when there are some ("2026-01-01T00:50:00", "2026-01-01T00:50:00.250"), as
Backpack's own server prints them; `date-time` is the same with a `Z`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, TypeAlias, TypeVar

from crossmargin.api.errors import RESOURCE_NOT_FOUND, ApiError
from crossmargin.core.assets import AssetSpec
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import format_scaled
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

JsonValue: TypeAlias = "str | int | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"

WAD_DECIMALS: Final = 18
QUOTE_SYMBOL: Final = "USDC"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

LIMIT_DEFAULT: Final = 100
LIMIT_MAX: Final = 1000
PAGE_HEADERS: Final = ("X-PAGE-COUNT", "X-CURRENT-PAGE", "X-PAGE-SIZE", "X-TOTAL")

INVALID_ASSET: Final = "INVALID_ASSET"


E = TypeVar("E", bound=StrEnum)


class SortDirection(StrEnum):
    """Backpack's `SortDirection`; history endpoints default to newest first."""

    ASC = "Asc"
    DESC = "Desc"


def amount(atoms: int, spec: AssetSpec) -> str:
    """Format atoms of an asset as Backpack's decimal string."""
    return format_scaled(atoms, spec.decimals)


def wad(value_wad: int) -> str:
    """Format a WAD-scaled value (USD, price or ratio) as a decimal string."""
    return format_scaled(value_wad, WAD_DECIMALS)


def naive_time(ms: int) -> str:
    """Format epoch milliseconds as Backpack's `naive-date-time` (UTC, no zone)."""
    moment = EPOCH + timedelta(milliseconds=ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = ms % 1000
    return f"{text}.{millis:03d}" if millis else text


def zoned_time(ms: int) -> str:
    """Format epoch milliseconds as an RFC 3339 `date-time` in UTC."""
    return f"{naive_time(ms)}Z"


def spot_market_symbol(symbol: str) -> str:
    """Return the spot market an asset trades in against the quote asset: 'SOL' -> 'SOL_USDC'."""
    return symbol if symbol == QUOTE_SYMBOL else f"{symbol}_{QUOTE_SYMBOL}"


def reader(state: EngineState) -> StateView:
    """Return a read-only view of the state at its own time (never committed)."""
    return StateView(state)


def require_subaccount(state: EngineState, subaccount_id: SubaccountId) -> None:
    """Refuse a subaccount that does not exist."""
    if subaccount_id not in state.subaccounts:
        raise ApiError(f"Subaccount {subaccount_id} does not exist", RESOURCE_NOT_FOUND)


def require_asset(state: EngineState, symbol: str) -> AssetSpec:
    """Return a listed asset's spec, or refuse the symbol naming the listed ones."""
    spec = state.specs.get(symbol)
    if spec is None:
        listed = ", ".join(sorted(state.specs))
        raise ApiError(f"Unknown asset {symbol!r}; listed assets are {listed}", INVALID_ASSET)
    return spec


def choice(enum: type[E], value: str | None, name: str) -> E | None:
    """Parse an optional enum query parameter, naming the accepted values when it is wrong."""
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        accepted = ", ".join(member.value for member in enum)
        raise ApiError(f"{name} must be one of {accepted}, not {value!r}") from None


def sort_newest_first(direction: SortDirection | None) -> bool:
    """Return whether rows go newest first (the default, as Backpack returns history)."""
    return direction is not SortDirection.ASC


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a history: its rows and what the paging headers report."""

    rows: list[JsonValue]
    total: int
    limit: int
    offset: int

    @property
    def page_count(self) -> int:
        """Return how many pages of `limit` rows the whole history fills."""
        return -(-self.total // self.limit)

    @property
    def current_page(self) -> int:
        """Return the 1-based number of the page that starts at `offset`."""
        return self.offset // self.limit + 1

    def headers(self) -> dict[str, str]:
        """Return Backpack's paging headers, exposed to browsers."""
        return {
            "ACCESS-CONTROL-EXPOSE-HEADERS": ", ".join(PAGE_HEADERS),
            "X-PAGE-COUNT": str(self.page_count),
            "X-CURRENT-PAGE": str(self.current_page),
            "X-PAGE-SIZE": str(self.limit),
            "X-TOTAL": str(self.total),
        }


def page(rows: list[JsonValue], limit: int | None = None, offset: int | None = None) -> Page:
    """Cut one page out of rows: `limit` defaults to 100 and is at most 1000, `offset` to 0."""
    size = LIMIT_DEFAULT if limit is None else limit
    start = 0 if offset is None else offset
    if not 1 <= size <= LIMIT_MAX:
        raise ApiError(f"limit must be between 1 and {LIMIT_MAX}, not {size}")
    if start < 0:
        raise ApiError(f"offset must not be negative, not {start}")
    return Page(rows[start : start + size], len(rows), size, start)
