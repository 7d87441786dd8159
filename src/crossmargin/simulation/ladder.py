"""The simulation's market maker: the demo ladder, re-quoted by the runner between commands.

It is the demo market maker's quoting rule (`crossmargin.app.market_maker.ladder_quotes` around the
index) and funding, without its thread: the runner asks for the commands (`CancelAllOrders`, then
post-only GTC `PlaceOrder`s) and executes them itself, so a run is one deterministic sequence of
commands. A market is re-quoted when its index has moved by a level's spacing since it was quoted
(placing orders is the costly part of a step: each one checks the maker's margin over all its open
orders), and refilled when one of its orders traded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from crossmargin.app.market_maker import MAKER_FLAGS, Ladder, index_price_wad, ladder_quotes
from crossmargin.core.commands import CancelAllOrders, PlaceOrder
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import BookState
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderType, TimeInForce
from crossmargin.core.state import EngineState

SIMULATION_LADDER: Final = Ladder(levels=5, spacing_wad=WAD // 1_000, level_notional=200_000)
"""Deeper than the demo's: a crowd of leveraged traders and their liquidations trade against it."""
REQUOTE_MOVE_WAD: Final = WAD // 1_000
"""A ladder is re-quoted once its index has moved by this fraction (one level) since it was placed."""


@dataclass(slots=True)
class LadderQuoter:
    """Which ladders one subaccount has placed, and the commands that cancel, place or refill them."""

    subaccount_id: SubaccountId
    ladder: Ladder = SIMULATION_LADDER
    placed: dict[str, int] = field(default_factory=dict)
    quoted_index_wad: dict[str, int] = field(default_factory=dict)

    def open_counts(self, state: EngineState) -> dict[str, int]:
        """Return how many of the maker's orders rest in each market."""
        counts: dict[str, int] = {}
        for order_id in state.open_order_ids.get(self.subaccount_id, {}):
            market = state.orders[order_id].market
            counts[market] = counts.get(market, 0) + 1
        return counts

    def cancel(self, state: EngineState, market: str) -> list[CancelAllOrders]:
        """Return the command that takes the maker's orders off a market's book (none if it has none)."""
        return [CancelAllOrders(self.subaccount_id, market)] if self.open_counts(state).get(market) else []

    def quotes(self, state: EngineState, market: str) -> list[PlaceOrder]:
        """Return the ladder's orders around a market's current index (none while it has no index)."""
        spec = state.markets[market]
        index = index_price_wad(state, spec)
        if index is None or spec.state is not BookState.OPEN:
            return []
        self.quoted_index_wad[market] = index
        return [
            PlaceOrder(
                self.subaccount_id,
                market,
                quote.side,
                OrderType.LIMIT,
                quote.quantity_atoms,
                quote.price_wad,
                time_in_force=TimeInForce.GTC,
                flags=MAKER_FLAGS,
            )
            for quote in ladder_quotes(spec, index, self.ladder)
        ]

    def moved(self, state: EngineState, prices_wad: dict[str, int]) -> list[str]:
        """Return the markets whose index at `prices_wad` is a level or more away from where they were quoted."""
        moved = []
        for market, spec in sorted(state.markets.items()):
            base, quote = prices_wad.get(spec.base, 0), prices_wad.get(spec.quote, 0)
            quoted = self.quoted_index_wad.get(market)
            if base <= 0 or quote <= 0 or quoted is None:
                continue
            index = base * WAD // quote
            if abs(index - quoted) * WAD >= quoted * REQUOTE_MOVE_WAD:
                moved.append(market)
        return moved

    def to_refill(self, state: EngineState) -> list[str]:
        """Return the markets where some of the maker's placed orders have traded (or were cancelled)."""
        counts = self.open_counts(state)
        return [market for market, placed in sorted(self.placed.items()) if counts.get(market, 0) < placed]
