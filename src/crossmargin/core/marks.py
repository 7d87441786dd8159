"""Index and mark prices of markets: the one definition every check reads.

A market's **index** is its base asset's index price in units of its quote asset's index price:
BTC at 60,000 USD and USDC at 1.14 USD make BTC_USDC's index 52,631.57 USDC. Bands, liquidation
orders and funding are computed against it, in the book's own currency, so nothing assumes
1 USDC = 1 USD. A **perp mark** is anchored on the index with the book as a bounded premium:

    mark = clamp(median(index, best bid, best ask), index x (1 - band), index x (1 + band))

with band = `MARK_PREMIUM_BAND` (0.5%); without a two-sided book the mark is the index. A thin or
stale book can move the mark by at most the band, and an index move moves the mark at once.

**One price path**: `refresh_perp_marks` runs at the end of every command, on the book as the
command leaves it (`remark.py`), and at every settlement, so no margin check, order,
withdrawal or liquidation ever reads a mark older than the latest index or best price.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from crossmargin.core.events import PerpMarksSet
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, Ratio, mul_div_down, mul_div_up
from crossmargin.core.transaction import Transaction

MARK_PREMIUM_BAND: Final = Ratio(WAD * 5 // 1_000)
"""How far the book may pull a perp mark from its index: 0.5% either way."""


def market_index_wad(tx: Transaction, spec: MarketSpec) -> int:
    """Return the market's index in its quote asset (WAD, rounded down); 0 while either price is missing."""
    base, quote = tx.mark_price(spec.base), tx.mark_price(spec.quote)
    if not base or not quote:
        return 0
    return base * WAD // quote


def compute_perp_mark(index_wad: int, best_bid_wad: int | None, best_ask_wad: int | None) -> int:
    """Return the median of index, best bid and best ask, held within the premium band around the index."""
    if best_bid_wad is None or best_ask_wad is None:
        return index_wad
    median = sorted((index_wad, best_bid_wad, best_ask_wad))[1]
    lowest = mul_div_up(index_wad, WAD - MARK_PREMIUM_BAND.wad, WAD)
    highest = mul_div_down(index_wad, WAD + MARK_PREMIUM_BAND.wad, WAD)
    return max(lowest, min(highest, median))


Quotes = Callable[[Transaction, str], tuple[int | None, int | None]]
"""The best bid and ask of a market (None for an empty side), as some reader sees its book."""


def committed_quotes(tx: Transaction, market: str) -> tuple[int | None, int | None]:
    """Return the best bid and ask of a market's committed book."""
    book = tx.book(market)
    return book.bids.best_price(), book.asks.best_price()


def refresh_perp_marks(tx: Transaction, quotes: Quotes = committed_quotes, only: set[str] | None = None) -> bool:
    """Set every perp mark from its index and its book's best quotes; emit the changes and return whether any.

    `only` limits the pass to the markets whose book the command touched, when it moved no index
    (`remark.py` decides): a mark is a function of its index and its book alone, so the others
    cannot have moved (INV-MARK-1 audits every mark against its index and book).
    """
    changed = []
    for spec in tx.perp_markets():
        symbol = spec.symbol
        if only is not None and symbol not in only:
            continue
        index = market_index_wad(tx, spec)
        if not index:
            continue
        mark = compute_perp_mark(index, *quotes(tx, symbol))
        if mark != tx.perp_mark(symbol):
            tx.perp_marks_wad[symbol] = mark
            changed.append((symbol, mark))
    if changed:
        tx.emit(PerpMarksSet(tuple(changed), tx.now_ms))
    return bool(changed)
