"""The data of Backpack's `bookTicker.<symbol>`, `openInterest.<symbol>` and `liquidation` messages: pure functions.

Field names and types follow Backpack's stream documentation and recorded traffic (prices and
quantities decimal strings, `E`/`T` integers in microseconds, the update id an integer):

- `bookTicker.<symbol>`: `e` "bookTicker", `E`, `s`, `a` best ask price, `A` its total quantity,
  `b` best bid price, `B` its total quantity, `u` the book's update id (the `u` of the depth diff
  of the same change: `views.market_data.book_update_id`), `T`. Sent when the best price or the quantity
  at the best price of either side changed (and on a follower's first change of the book). An
  empty side is sent as `null` price and quantity (Backpack's documentation does not say what it
  sends then).
- `openInterest.<symbol>` (perp markets): `e` "openInterest", `E`, `s`, `o` open interest in
  contracts (the sum of the long positions, base units, as `GET /api/v1/openInterest`). Backpack
  pushes it every 60 seconds; we push it when it changes, which no client can tell from a timer.
- `liquidation`: `e` "liquidation", `E`, `q` quantity, `p` price, `S` side of the liquidation
  order ("Bid" buys back a short, "Ask" sells a long or collateral), `s` symbol, `T`: one message
  per fill of an order the liquidation engine placed (on the book, or an auto-deleverage).
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.api.stream_messages import micros, price_text
from crossmargin.api.views.common import JsonObject
from crossmargin.core.fills import Fill
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import format_scaled

Top = tuple[int, int] | None
"""The best level of one side of a book: (price WAD, total quantity in base atoms), None when empty."""


@dataclass(frozen=True, slots=True)
class BookTop:
    """The best bid and best ask of a book."""

    bid: Top
    ask: Top


def book_ticker_data(spec: MarketSpec, top: BookTop, update_id: int, at_ms: int) -> JsonObject:
    """Return a `bookTicker.<symbol>` message: the best ask and bid with their quantities."""

    def price(level: Top) -> str | None:
        return None if level is None else price_text(level[0])

    def quantity(level: Top) -> str | None:
        return None if level is None else format_scaled(level[1], spec.base_decimals)

    return {
        "e": "bookTicker",
        "E": micros(at_ms),
        "s": spec.symbol,
        "a": price(top.ask),
        "A": quantity(top.ask),
        "b": price(top.bid),
        "B": quantity(top.bid),
        "u": update_id,
        "T": micros(at_ms),
    }


def open_interest_data(spec: MarketSpec, open_interest_atoms: int, at_ms: int) -> JsonObject:
    """Return an `openInterest.<symbol>` message."""
    return {
        "e": "openInterest",
        "E": micros(at_ms),
        "s": spec.symbol,
        "o": format_scaled(open_interest_atoms, spec.base_decimals),
    }


def liquidation_data(spec: MarketSpec, fill: Fill) -> JsonObject:
    """Return a `liquidation` message for one fill of a liquidation order (the taker of the fill)."""
    return {
        "e": "liquidation",
        "E": micros(fill.at_ms),
        "q": format_scaled(fill.quantity_atoms, spec.base_decimals),
        "p": price_text(fill.price_wad),
        "S": fill.taker_side.value,
        "s": spec.symbol,
        "T": micros(fill.at_ms),
    }
