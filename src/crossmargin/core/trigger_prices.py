"""The prices a trigger watches (`triggerBy`), as a transaction sees them.

- `IndexPrice`: the market's index (`marks.py`: its base asset's index price in its quote asset's).
- `MarkPrice`: a perp's mark (re-marked at the end of every command); a spot market's index.
- `LastPrice`: the price of the market's latest fill, this transaction's own fills included; a
  market that has never traded falls back to its mark, so a trigger there is not stuck.
"""

from __future__ import annotations

from crossmargin.core.events import Traded
from crossmargin.core.markets import MarketSpec
from crossmargin.core.marks import market_index_wad
from crossmargin.core.orders import TriggerBy
from crossmargin.core.transaction import Transaction


def last_trade_price(tx: Transaction, market: str) -> int:
    """Return the price (WAD) of a market's latest fill as of this transaction; 0 if it never traded."""
    for layer in (tx, *tx.parents):
        for event in reversed(layer.events):
            if isinstance(event, Traded) and event.fill.market == market:
                return event.fill.price_wad
    return tx.state.last_trade_prices_wad.get(market, 0)


def reference_price(tx: Transaction, spec: MarketSpec, by: TriggerBy) -> int:
    """Return the price (WAD, in the market's quote asset) a `triggerBy` names; 0 while there is none."""
    if by is TriggerBy.LAST_PRICE:
        last = last_trade_price(tx, spec.symbol)
        if last:
            return last
    if by is TriggerBy.INDEX_PRICE or not spec.is_perp:
        return market_index_wad(tx, spec)
    return tx.perp_mark(spec.symbol)
