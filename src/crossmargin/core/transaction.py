"""Transaction: a what-if view of the state that a command writes into before it is accepted.

Every command runs inside a transaction layered over the state (or over another transaction, for
what-if questions such as "how much could this subaccount borrow?"). Reads see the layer's own
writes first; `commit` applies them to the state in one step, the only mutation in the core. A
rejected command simply drops its transaction, so it leaves no trace (TigerBeetle's rule).
"""

from __future__ import annotations

from typing import Any

from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.book import Book
from crossmargin.core.events import (
    AutoDeleveraged,
    Backstopped,
    BorrowLendMoved,
    Deposited,
    EntryFeeCharged,
    Event,
    FundingPaid,
    LendIndexCut,
    LiquidationStepped,
    Settled,
    ShortfallCovered,
    Traded,
    Transferred,
    Withdrew,
)
from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.ledger import JournalEntry, LedgerAccount, LedgerKind, locked, spot
from crossmargin.core.margin import Holding
from crossmargin.core.markets import MarketSpec
from crossmargin.core.oracle_settings import OracleSettings
from crossmargin.core.orders import OPEN_STATUSES, Order, OrderId, OrderSide
from crossmargin.core.perps import PerpPosition
from crossmargin.core.pools import HourlyAccrual, Pool, debt_atoms, lend_atoms
from crossmargin.core.state import EngineState

_REMOVED = None
_NO_ORDERS = (0, 0)
_EMPTY = Holding()


class Transaction:
    """Pending writes over a base state; read-through, write-local.

    Reads are flat: a transaction keeps the tuple of its parent transactions (nearest first), so a
    read looks in its own writes, then in each parent's, then in the state, with no recursion.
    A what-if child is cheap to open (a handful of empty dicts) and to drop.
    """

    def __init__(self, base: EngineState | Transaction, now_ms: int) -> None:
        self.base = base
        if isinstance(base, Transaction):
            self.state: EngineState = base.state
            self.parents: tuple[Transaction, ...] = (base, *base.parents)
        else:
            self.state = base
            self.parents = ()
        self.now_ms = now_ms
        self.ledger: dict[tuple[LedgerAccount, str], int] = {}
        self.pools: dict[str, Pool] = {}
        self.positions: dict[tuple[SubaccountId, str], Position | None] = {}
        self.subaccounts: dict[SubaccountId, Subaccount] = {}
        self.accounts: dict[AccountId, list[SubaccountId]] = {}
        self.specs: dict[str, AssetSpec] = {}
        self.mark_prices_wad: dict[str, int] = {}
        self.price_updated_ms: dict[str, int] = {}
        self.oracle: OracleSettings | None = None
        self.accruals: list[HourlyAccrual] = []
        self.events: list[Event] = []
        self.counters: dict[str, int] = {}
        self.interest_hour_ms: int | None = base.interest_hour_ms
        self.markets: dict[str, MarketSpec] = {}
        self.orders: dict[OrderId, Order] = {}
        self.perp_positions: dict[tuple[SubaccountId, str], PerpPosition] = {}
        self.perp_marks_wad: dict[str, int] = {}
        self.open_interest_atoms: dict[str, int] = {}
        self.settlement_due_ms: int | None = base.settlement_due_ms
        self.order_totals: dict[tuple[SubaccountId, str], tuple[int, int]] = {}
        """Open bid and ask quantities per (subaccount, market) where this layer changed an order."""

    # Reads ---------------------------------------------------------------------------------

    def balance(self, account: LedgerAccount, symbol: str) -> int:
        """Return the signed ledger balance of an account in an asset."""
        key = (account, symbol)
        found = self.ledger.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.ledger.get(key)
            if found is not None:
                return found
        return self.state.ledger.get(key, 0)

    def spec(self, symbol: str) -> AssetSpec | None:
        """Return an asset's spec, or None if it is not listed."""
        found = self.specs.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.specs.get(symbol)
            if found is not None:
                return found
        return self.state.specs.get(symbol)

    def all_specs(self) -> dict[str, AssetSpec]:
        """Return every listed asset's spec, as of this transaction."""
        merged = dict(self.state.specs)
        for layer in reversed(self.parents):
            merged.update(layer.specs)
        merged.update(self.specs)
        return merged

    def pool(self, symbol: str) -> Pool:
        """Return the pool of an asset (the asset is listed)."""
        found = self.pools.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.pools.get(symbol)
            if found is not None:
                return found
        return self.state.pools[symbol]

    def position(self, subaccount_id: SubaccountId, symbol: str) -> Position | None:
        """Return a subaccount's borrow-lend position in an asset, if any."""
        key = (subaccount_id, symbol)
        if key in self.positions:
            return self.positions[key]
        for layer in self.parents:
            if key in layer.positions:
                return layer.positions[key]
        return self.state.positions.get(key)

    def subaccount(self, subaccount_id: SubaccountId) -> Subaccount | None:
        """Return a subaccount, or None if it does not exist."""
        found = self.subaccounts.get(subaccount_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.subaccounts.get(subaccount_id)
            if found is not None:
                return found
        return self.state.subaccounts.get(subaccount_id)

    def api_key_owner(self, api_key: str) -> SubaccountId | None:
        """Return the subaccount an API key signs for, if any."""
        for layer in (self, *self.parents):
            for subaccount in layer.subaccounts.values():
                if api_key in subaccount.api_keys:
                    return subaccount.subaccount_id
        return self.state.api_keys.get(api_key)

    def account_subaccounts(self, account_id: AccountId) -> list[SubaccountId] | None:
        """Return the subaccounts of an account, or None if it does not exist."""
        found = self.accounts.get(account_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.accounts.get(account_id)
            if found is not None:
                return found
        return self.state.accounts.get(account_id)

    def mark_price(self, symbol: str) -> int:
        """Return an asset's mark price (WAD USD per unit), 0 if none was ever set."""
        found = self.mark_prices_wad.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.mark_prices_wad.get(symbol)
            if found is not None:
                return found
        return self.state.mark_prices_wad.get(symbol, 0)

    def price_updated(self, symbol: str) -> int | None:
        """Return when an asset's index price was last set (ms), None if no time was recorded."""
        found = self.price_updated_ms.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.price_updated_ms.get(symbol)
            if found is not None:
                return found
        return self.state.price_updated_ms.get(symbol)

    def oracle_settings(self) -> OracleSettings:
        """Return the oracle guards' settings as of this transaction."""
        for layer in (self, *self.parents):
            if layer.oracle is not None:
                return layer.oracle
        return self.state.oracle

    def market(self, symbol: str) -> MarketSpec | None:
        """Return a market's spec, or None if it is not listed."""
        found = self.markets.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.markets.get(symbol)
            if found is not None:
                return found
        return self.state.markets.get(symbol)

    def all_markets(self) -> dict[str, MarketSpec]:
        """Return every listed market's spec, as of this transaction."""
        merged = dict(self.state.markets)
        for layer in reversed(self.parents):
            merged.update(layer.markets)
        merged.update(self.markets)
        return merged

    def perp_markets(self) -> tuple[MarketSpec, ...]:
        """Return every listed perp market's spec as of this transaction, by symbol."""
        if not self.markets and not any(layer.markets for layer in self.parents):
            return self.state.perp_market_specs()
        return tuple(spec for _, spec in sorted(self.all_markets().items()) if spec.is_perp)

    def order(self, order_id: OrderId) -> Order | None:
        """Return an order as of this transaction: open, or closed within it; None if unknown or closed before."""
        found = self.orders.get(order_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.orders.get(order_id)
            if found is not None:
                return found
        return self.state.orders.get(order_id)

    def open_orders(self, subaccount_id: SubaccountId) -> list[Order]:
        """Return a subaccount's open orders as of this transaction, oldest first."""
        ids = self.state.open_order_ids.get(subaccount_id, {})
        pending = [
            order_id
            for layer in (self, *self.parents)
            for order_id, order in layer.orders.items()
            if order.subaccount_id == subaccount_id
        ]
        if pending:
            ids = dict.fromkeys(sorted({*ids, *pending}))
        found = [self.order(order_id) for order_id in ids]
        return [order for order in found if order is not None and order.is_open]

    def perp_order_totals(self, subaccount_id: SubaccountId, market: str) -> tuple[int, int]:
        """Return the open bid and ask quantities of a subaccount's orders in a perp market, as of this transaction."""
        key = (subaccount_id, market)
        found = self.order_totals.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.order_totals.get(key)
            if found is not None:
                return found
        return self.state.perp_order_totals.get(key, _NO_ORDERS)

    def book(self, market: str) -> Book:
        """Return a market's committed book (orders opened within this transaction are not in it)."""
        return self.state.books[market]

    def perp_position(self, subaccount_id: SubaccountId, market: str) -> PerpPosition | None:
        """Return a subaccount's position in a perp market, if any."""
        key = (subaccount_id, market)
        found = self.perp_positions.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.perp_positions.get(key)
            if found is not None:
                return found
        return self.state.perp_positions.get(key)

    def subaccount_perp_positions(self, subaccount_id: SubaccountId) -> list[PerpPosition]:
        """Return a subaccount's perp positions that are not flat, by market."""
        return [
            position
            for market in sorted(self.all_markets())
            if (position := self.perp_position(subaccount_id, market)) is not None and not position.is_flat
        ]

    def perp_mark(self, market: str) -> int:
        """Return a perp market's mark price (WAD), 0 if none yet."""
        found = self.perp_marks_wad.get(market)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.perp_marks_wad.get(market)
            if found is not None:
                return found
        return self.state.perp_marks_wad.get(market, 0)

    def open_interest(self, market: str) -> int:
        """Return a perp market's open interest: the sum of its long positions, in base atoms."""
        found = self.open_interest_atoms.get(market)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.open_interest_atoms.get(market)
            if found is not None:
                return found
        return self.state.open_interest_atoms.get(market, 0)

    def held_symbols(self, subaccount_id: SubaccountId) -> set[str]:
        """Return the assets a subaccount may hold anything in (a superset, never missing one)."""
        symbols = set(self.state.held.get(subaccount_id, ()))
        accounts = (spot(subaccount_id), locked(subaccount_id))
        for layer in (self, *self.parents):
            if layer.positions:
                symbols.update(symbol for (owner, symbol) in layer.positions if owner == subaccount_id)
            symbols.update(symbol for (account, symbol) in layer.ledger if account in accounts)
        return symbols

    def holding(self, subaccount_id: SubaccountId, symbol: str) -> Holding:
        """Return what a subaccount has of one asset."""
        position = self.position(subaccount_id, symbol)
        spot_atoms = self.balance(spot(subaccount_id), symbol)
        locked_atoms = self.balance(locked(subaccount_id), symbol)
        if position is None:
            return Holding(spot_atoms, 0, 0, locked_atoms)
        pool = self.pool(symbol)
        return Holding(
            spot_atoms,
            lend_atoms(position.lend_scaled, pool.lend_index_ray),
            debt_atoms(position.debt_scaled, pool.borrow_index_ray),
            locked_atoms,
        )

    def holdings(self, subaccount_id: SubaccountId) -> dict[str, Holding]:
        """Return every non-empty holding of a subaccount."""
        found = {symbol: self.holding(subaccount_id, symbol) for symbol in self.held_symbols(subaccount_id)}
        return {symbol: holding for symbol, holding in found.items() if holding != _EMPTY}

    def counter(self, name: str) -> int:
        """Return the current value of an id counter."""
        for layer in (self, *self.parents):
            if name in layer.counters:
                return layer.counters[name]
        value: int = getattr(self.state, name)
        return value

    # Writes --------------------------------------------------------------------------------

    def movement_count(self) -> int:
        """Return how many borrow-lend movements are recorded so far: the state's and every pending layer's."""
        count = len(self.state.movements)
        for layer in (self, *self.parents):
            count += sum(type(event) is BorrowLendMoved for event in layer.events)
        return count

    def take_id(self, name: str) -> int:
        """Return the next id of a counter and advance it."""
        value = self.counter(name)
        self.counters[name] = value + 1
        return value

    def new_position_id(self) -> PositionId:
        """Return a fresh position id."""
        return PositionId(self.take_id("next_position_id"))

    def post(self, journal_entry: JournalEntry) -> None:
        """Apply a balanced journal entry to the pending ledger."""
        assert journal_entry.is_balanced(), "INV-LEDGER-1: every journal entry balances per asset"
        for posting in journal_entry.postings:
            key = (posting.account, journal_entry.asset)
            self.ledger[key] = self.balance(posting.account, journal_entry.asset) + posting.signed_atoms

    def set_position(self, position: Position) -> None:
        """Store a position; an empty one is removed (its id is never reused)."""
        key = (position.subaccount_id, position.symbol)
        self.positions[key] = _REMOVED if position.is_empty else position

    def set_order(self, order: Order) -> None:
        """Store an order's new state (open or closed), keeping its owner's open totals in the market."""
        before = self.order(order.order_id)
        change_bids = change_asks = 0
        if before is not None and before.is_open:
            if before.side is OrderSide.BID:
                change_bids -= before.quantity_atoms - before.executed_atoms
            else:
                change_asks -= before.quantity_atoms - before.executed_atoms
        if order.status in OPEN_STATUSES:
            if order.side is OrderSide.BID:
                change_bids += order.quantity_atoms - order.executed_atoms
            else:
                change_asks += order.quantity_atoms - order.executed_atoms
        self.orders[order.order_id] = order
        if change_bids or change_asks:
            bids, asks = self.perp_order_totals(order.subaccount_id, order.market)
            self.order_totals[(order.subaccount_id, order.market)] = (bids + change_bids, asks + change_asks)

    def set_perp_position(self, position: PerpPosition) -> None:
        """Store a perp position (a flat one is removed at commit)."""
        self.perp_positions[(position.subaccount_id, position.market)] = position

    def post_deltas(self, asset: str, deltas: dict[LedgerAccount, int]) -> None:
        """Apply many signed changes in one asset at once; they must balance (INV-LEDGER-1).

        The bulk form of `post` for settlement passes over 100,000s of positions.
        """
        assert sum(deltas.values()) == 0, "INV-LEDGER-1: every journal entry balances per asset"
        ledger = self.ledger
        balance = self.balance
        for account, delta in deltas.items():
            if delta:
                key = (account, asset)
                found = ledger.get(key)
                ledger[key] = (balance(account, asset) if found is None else found) + delta

    def mark_settlement_due(self, interval_ms: int) -> None:
        """Ask for a settlement at the next interval boundary after now, unless one is due sooner."""
        boundary = (self.now_ms // interval_ms + 1) * interval_ms
        if self.settlement_due_ms is None or boundary < self.settlement_due_ms:
            self.settlement_due_ms = boundary

    def emit(self, event: Event) -> None:
        """Record an event of the command."""
        self.events.append(event)

    # Commit --------------------------------------------------------------------------------

    def commit(self) -> None:
        """Apply every pending write to the base: the only mutation of engine state."""
        if isinstance(self.base, Transaction):
            self._commit_into(self.base)
            return
        self._commit_into_state(self.base)

    def _commit_into(self, parent: Transaction) -> None:
        parent.ledger.update(self.ledger)
        parent.pools.update(self.pools)
        parent.positions.update(self.positions)
        parent.subaccounts.update(self.subaccounts)
        parent.accounts.update(self.accounts)
        parent.specs.update(self.specs)
        parent.mark_prices_wad.update(self.mark_prices_wad)
        parent.price_updated_ms.update(self.price_updated_ms)
        if self.oracle is not None:
            parent.oracle = self.oracle
        parent.accruals.extend(self.accruals)
        parent.events.extend(self.events)
        parent.counters.update(self.counters)
        parent.interest_hour_ms = self.interest_hour_ms
        parent.markets.update(self.markets)
        parent.orders.update(self.orders)
        parent.perp_positions.update(self.perp_positions)
        parent.perp_marks_wad.update(self.perp_marks_wad)
        parent.open_interest_atoms.update(self.open_interest_atoms)
        parent.order_totals.update(self.order_totals)
        parent.settlement_due_ms = self.settlement_due_ms

    def _commit_into_state(self, state: EngineState) -> None:
        touched: set[tuple[SubaccountId, str]] = set()
        held_by = state.held
        state.ledger.update(self.ledger)
        for (account, symbol), balance in self.ledger.items():
            if account.kind is LedgerKind.SPOT or account.kind is LedgerKind.ORDERS:
                owner = SubaccountId(account.owner)
                if balance and symbol in held_by.get(owner, ()):
                    continue  # still held: nothing to re-index
                touched.add((owner, symbol))
        for key, position in self.positions.items():
            touched.add(key)
            if position is None:
                state.positions.pop(key, None)
            else:
                state.positions[key] = position
        _reindex_held(state, touched)
        state.pools.update(self.pools)
        for subaccount in self.subaccounts.values():
            state.api_keys.update(dict.fromkeys(subaccount.api_keys, subaccount.subaccount_id))
        state.subaccounts.update(self.subaccounts)
        state.accounts.update(self.accounts)
        _record_listing_times(state, (*self.specs, *self.markets), self.now_ms)
        state.specs.update(self.specs)
        state.mark_prices_wad.update(self.mark_prices_wad)
        state.price_updated_ms.update(self.price_updated_ms)
        if self.oracle is not None:
            state.oracle = self.oracle
        for accrual in self.accruals:
            state.accruals.setdefault(accrual.symbol, []).append(accrual)
            _number(state, f"accruals.{accrual.symbol}")
        for name, value in self.counters.items():
            setattr(state, name, value)
        self._commit_trading(state)
        _record_history(state, self.events)
        state.interest_hour_ms = self.interest_hour_ms
        state.now_ms = max(state.now_ms, self.now_ms)

    def _commit_trading(self, state: EngineState) -> None:
        for symbol, market in self.markets.items():
            state.markets[symbol] = market
            state.books.setdefault(symbol, Book())
            state.perp_markets_cache = None
        for order_id, order in sorted(self.orders.items()):
            before = state.orders.get(order_id)
            if before is not None:
                state.count_perp_order(before, -1)
            if order.is_open:
                state.count_perp_order(order, 1)
                state.orders[order_id] = order
                if before is None:
                    state.books[order.market].add(order)
                    state.open_order_ids.setdefault(order.subaccount_id, {})[order_id] = None
                continue
            if before is not None:
                del state.orders[order_id]
                state.books[order.market].remove(before)
                del state.open_order_ids[order.subaccount_id][order_id]
            state.closed_orders.append(order)
        positions = state.perp_positions
        for key, position in self.perp_positions.items():
            if position.is_flat:
                positions.pop(key, None)
            else:
                positions[key] = position
        state.perp_marks_wad.update(self.perp_marks_wad)
        state.open_interest_atoms.update(self.open_interest_atoms)
        state.settlement_due_ms = self.settlement_due_ms


def _reindex_held(state: EngineState, touched: set[tuple[SubaccountId, str]]) -> None:
    for subaccount_id, symbol in touched:
        held = state.held.setdefault(subaccount_id, set())
        if (
            state.positions.get((subaccount_id, symbol))
            or state.ledger.get((spot(subaccount_id), symbol))
            or state.ledger.get((locked(subaccount_id), symbol))
        ):
            held.add(symbol)
        else:
            held.discard(symbol)


def _number(state: EngineState, name: str) -> None:
    """Give the record just appended to the history list `name` the next number: it came after all others."""
    state.history_count += 1
    state.history_sequence.setdefault(name, []).append(state.history_count)


_HISTORY_LISTS = {
    BorrowLendMoved: "movements",
    EntryFeeCharged: "entry_fees",
    Deposited: "deposits",
    Withdrew: "withdrawals",
    Transferred: "transfers",
    Settled: "settlements",
    FundingPaid: "funding_payments",
    ShortfallCovered: "shortfalls",
    LiquidationStepped: "liquidation_steps",
    Backstopped: "backstops",
    AutoDeleveraged: "auto_deleverages",
    LendIndexCut: "lend_index_cuts",
}


def _record_listing_times(state: EngineState, symbols: tuple[str, ...], now_ms: int) -> None:
    """Remember when each asset or market among `symbols` was first listed; a later change keeps that time."""
    for symbol in symbols:
        state.listed_at_ms.setdefault(symbol, now_ms)


def _record_history(state: EngineState, events: list[Event]) -> None:
    """Append the user-visible history rows among the events, numbered in order (dispatch by type)."""
    lists: dict[type, tuple[list[Any], list[int]] | None] = {}
    count = state.history_count
    for event in events:
        kind = type(event)
        target = lists.get(kind, _UNSEEN)
        if target is _UNSEEN:
            target = lists[kind] = _history_list(state, kind)
        if target is not None:
            count += 1
            target[0].append(event.fill if isinstance(event, Traded) else event)
            target[1].append(count)
    state.history_count = count


_UNSEEN: Any = object()


def _history_list(state: EngineState, kind: type) -> tuple[list[Any], list[int]] | None:
    """Return the history list of an event type and its numbers, or None if the type is not history."""
    name = "fills" if kind is Traded else _HISTORY_LISTS.get(kind)
    if name is None:
        return None
    return getattr(state, name), state.history_sequence.setdefault(name, [])
