"""Hourly funding of perpetual futures, from the premium of the book over the index.

At each full hour, per perp market with an index price and both sides of the book: premium =
(mid - index) / index, with the index in the quote asset (`marks.py`); rate = premium clamped to
+/- the market's `funding_bound` (1% for BTC, ETH and SOL). Longs pay shorts |size| x mark x rate
when the rate is positive, shorts pay longs when it is negative; a payer's amount rounds up and a
receiver's down, so `PERP_CLEARING` never pays out more than it takes in. Payments wait in the
position for the next settlement, which moves them in USDC (`FundingPayment`).
"""

from __future__ import annotations

from crossmargin.core.events import FundingPaid
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS, MarketSpec
from crossmargin.core.marks import market_index_wad
from crossmargin.core.numbers import WAD
from crossmargin.core.settlement import all_perp_positions
from crossmargin.core.transaction import Transaction


def compute_funding_rate(tx: Transaction, spec: MarketSpec) -> int:
    """Return the market's funding rate for the hour (WAD, signed), 0 without index or two-sided book."""
    index = market_index_wad(tx, spec)
    book = tx.book(spec.symbol)
    bid, ask = book.bids.best_price(), book.asks.best_price()
    if not index or bid is None or ask is None:
        return 0
    premium_numerator = (bid + ask) * WAD - 2 * index * WAD
    premium = abs(premium_numerator) // (2 * index)
    premium = premium if premium_numerator >= 0 else -premium
    bound = spec.funding_bound.wad
    return max(-bound, min(bound, premium))


def pay_funding(tx: Transaction) -> None:
    """Charge one hour's funding at `tx.now_ms` to every open perp position."""
    rates = {
        symbol: compute_funding_rate(tx, spec) for symbol, spec in sorted(tx.all_markets().items()) if spec.is_perp
    }
    if not any(rates.values()):
        return
    for position in all_perp_positions(tx):
        rate = rates.get(position.market, 0)
        if not rate or not position.quantity_atoms:
            continue
        spec = tx.market(position.market)
        assert spec is not None, "positions belong to listed markets"
        mark = tx.perp_mark(position.market) or market_index_wad(tx, spec)
        exact = abs(position.quantity_atoms) * mark * abs(rate) * spec.quote_unit_atoms
        scale = spec.base_unit_atoms * WAD * WAD
        pays = (position.quantity_atoms > 0) == (rate > 0)
        amount = -(-exact // scale) if pays else exact // scale
        signed = -amount if pays else amount
        if not signed:
            continue
        tx.set_perp_position(
            position._replace(
                pending_funding_atoms=position.pending_funding_atoms + signed,
                cumulative_funding_atoms=position.cumulative_funding_atoms + signed,
            )
        )
        tx.emit(FundingPaid(position.subaccount_id, position.market, rate, signed, tx.now_ms))
    tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)
