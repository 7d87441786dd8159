"""Commit: how a transaction's writes reach its parent or the state, the only mutation of engine state.

`Transaction.commit` calls `commit_into_parent` for a what-if child and `commit_into_state` for a
command's transaction. Committing into the state keeps the derived indexes exact (which assets
each subaccount holds, open orders per subaccount and book, perp order totals) and appends the
user-visible history rows among the events, each numbered after every earlier row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from crossmargin.core.book import Book
from crossmargin.core.events import (
    AutoDeleveraged,
    Backstopped,
    BorrowLendMoved,
    Deposited,
    DustConverted,
    EntryFeeCharged,
    Event,
    FundingPaid,
    LendIndexCut,
    LiquidationStepped,
    PositionsSettled,
    ShortfallCovered,
    Traded,
    Transferred,
    Withdrew,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import LedgerKind, locked, spot
from crossmargin.core.orders import Order, OrderStatus
from crossmargin.core.state import CLOSED_ORDERS_KEPT, INDEXED_HISTORIES, EngineState, history_owners

_SPOT, _ORDERS = LedgerKind.SPOT, LedgerKind.ORDERS  # read once: an enum member read through its class is slow

if TYPE_CHECKING:
    from crossmargin.core.accounts import Subaccount
    from crossmargin.core.transaction import Transaction


def commit_into_parent(self: Transaction, parent: Transaction) -> None:
    """Fold a what-if child's writes into its parent transaction."""
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
    parent.trigger_orders.update(self.trigger_orders)
    parent.perp_positions.update(self.perp_positions)
    parent.perp_marks_wad.update(self.perp_marks_wad)
    parent.open_interest_atoms.update(self.open_interest_atoms)
    parent.order_totals.update(self.order_totals)
    parent.settlement_due_ms = self.settlement_due_ms


def commit_into_state(self: Transaction, state: EngineState) -> None:
    """Apply a transaction's writes to the state: the only mutation of engine state."""
    touched: set[tuple[SubaccountId, str]] = set()
    held_by = cast("dict[int, set[str]]", state.held)  # read by the ledger's plain owner ids
    state.ledger.update(self.ledger)
    for (account, symbol), balance in self.ledger.items():
        kind = account.kind
        if kind is _SPOT or kind is _ORDERS:
            if balance and symbol in held_by.get(account.owner, ()):
                continue  # still held: nothing to re-index (a settlement pass writes 100,000s of these)
            touched.add((SubaccountId(account.owner), symbol))
    for key, position in self.positions.items():
        touched.add(key)
        if position is None:
            state.positions.pop(key, None)
        else:
            state.positions[key] = position
    _reindex_held(state, touched)
    state.pools.update(self.pools)
    _reindex_api_keys(state, self.subaccounts.values())
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
    _commit_trading(self, state)
    withdrawals_before = len(state.withdrawals)
    _record_history(state, self.events)
    state.interest_hour_ms = self.interest_hour_ms
    state.now_ms = max(state.now_ms, self.now_ms)
    _index_pending_withdrawals(state, withdrawals_before)


def _reindex_api_keys(state: EngineState, changed: Iterable[Subaccount]) -> None:
    """Point each changed subaccount's keys at it and drop the keys it no longer has (revoked)."""
    for subaccount in changed:
        before = state.subaccounts.get(subaccount.subaccount_id)
        for revoked in set(before.api_keys if before else ()) - set(subaccount.api_keys):
            del state.api_keys[revoked]
        state.api_keys.update(dict.fromkeys(subaccount.api_keys, subaccount.subaccount_id))


def _commit_trading(self: Transaction, state: EngineState) -> None:
    for symbol, market in self.markets.items():
        state.markets[symbol] = market
        state.books.setdefault(symbol, Book())
        state.perp_markets_cache = None
        state.spot_markets_cache = None
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
        _close(state, order)
    _commit_trigger_orders(self, state)
    positions = state.perp_positions
    positions.update(self.perp_positions)
    for key, position in self.perp_positions.items():
        if not position.quantity_atoms and position.is_flat:  # a settlement pass writes 100,000s, nearly all open
            del positions[key]
    state.perp_marks_wad.update(self.perp_marks_wad)
    state.open_interest_atoms.update(self.open_interest_atoms)
    state.settlement_due_ms = self.settlement_due_ms


def _commit_trigger_orders(self: Transaction, state: EngineState) -> None:
    """Keep pending trigger orders; drop fired ones (now live orders); record cancelled and failed ones."""
    for order_id, order in sorted(self.trigger_orders.items()):
        if order is not None and order.status is OrderStatus.TRIGGER_PENDING:
            state.trigger_orders[order_id] = order
            continue
        state.trigger_orders.pop(order_id, None)
        if order is not None:
            _close(state, order)


def _close(state: EngineState, order: Order) -> None:
    """Keep a closed order in its subaccount's history, forgetting the oldest beyond `CLOSED_ORDERS_KEPT`."""
    kept = state.closed_orders.setdefault(order.subaccount_id, [])
    kept.append(order)
    if len(kept) > CLOSED_ORDERS_KEPT:
        del kept[0]
    state.closed_order_count += 1


def _record_listing_times(state: EngineState, symbols: tuple[str, ...], now_ms: int) -> None:
    """Remember when each asset or market among `symbols` was first listed; a later change keeps that time."""
    for symbol in symbols:
        state.listed_at_ms.setdefault(symbol, now_ms)


def _reindex_held(state: EngineState, touched: set[tuple[SubaccountId, str]]) -> None:
    for subaccount_id, symbol in sorted(touched):  # a set's order follows string hashing, per process
        held = state.held.setdefault(subaccount_id, set())
        if (
            state.positions.get((subaccount_id, symbol))
            or state.ledger.get((spot(subaccount_id), symbol))
            or state.ledger.get((locked(subaccount_id), symbol))
        ):
            held.add(symbol)
        else:
            held.discard(symbol)


def _index_pending_withdrawals(state: EngineState, first_new: int) -> None:
    """Add the new withdrawals a delay holds to the pending index; drop those released by now."""
    for index in range(first_new, len(state.withdrawals)):
        release_ms = state.withdrawals[index].release_ms
        if release_ms is not None and release_ms > state.now_ms:
            state.pending_withdrawals[index] = None
    released = [
        index for index in state.pending_withdrawals if (state.withdrawals[index].release_ms or 0) <= state.now_ms
    ]
    for index in released:
        del state.pending_withdrawals[index]


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
    PositionsSettled: "settlements",
    FundingPaid: "funding_payments",
    ShortfallCovered: "shortfalls",
    LiquidationStepped: "liquidation_steps",
    Backstopped: "backstops",
    AutoDeleveraged: "auto_deleverages",
    LendIndexCut: "lend_index_cuts",
    DustConverted: "dust_conversions",
}


def _record_history(state: EngineState, events: list[Event]) -> None:
    """Append the user-visible history rows among the events, numbered in order (dispatch by type)."""
    lists: dict[type, tuple[list[Any], list[int], dict[SubaccountId, list[int]] | None] | None] = {}
    count = state.history_count
    for event in events:
        kind = type(event)
        target = lists.get(kind, _UNSEEN)
        if target is _UNSEEN:
            target = lists[kind] = _history_list(state, kind)
        if target is not None:
            count += 1
            records, numbers, by_subaccount = target
            if isinstance(event, Traded):
                state.last_trade_prices_wad[event.fill.market] = event.fill.price_wad
                state.index_fill(len(state.fills), event.fill)
            elif by_subaccount is not None:
                for owner in history_owners(event):
                    by_subaccount.setdefault(owner, []).append(len(records))
                if isinstance(event, FundingPaid):
                    state.funding_rates.setdefault(event.market, {})[event.interval_end_ms] = event.rate_wad
            records.append(event.fill if isinstance(event, Traded) else event)
            numbers.append(count)
    state.history_count = count


_UNSEEN: Any = object()


def _history_list(
    state: EngineState, kind: type
) -> tuple[list[Any], list[int], dict[SubaccountId, list[int]] | None] | None:
    """Return the history list of an event type, its numbers and its index by subaccount; None if not history."""
    name = "fills" if kind is Traded else _HISTORY_LISTS.get(kind)
    if name is None:
        return None
    by_subaccount = state.history_indexes.setdefault(name, {}) if name in INDEXED_HISTORIES else None
    return getattr(state, name), state.history_sequence.setdefault(name, []), by_subaccount
