"""Audit of trading: perps, open orders and books (the trading half of `audit.py`).

Perp positions net to zero in each market and open interest equals the long side (INV-PERP-1,
INV-PERP-2); what orders lock equals what the ledger holds locked (INV-ORDER-1); every open order
rests once in its book, in price-time order, and nothing else does; books are never crossed; and
every order's status fits its fills; pending trigger orders hold nothing and wait off the book
(INV-TRIGGER-1); and every perp mark is the one its index and book give (INV-MARK-1). Every check
reads the state and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict

from crossmargin.core.audit_check import Check
from crossmargin.core.book import BookSide
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import LedgerKind
from crossmargin.core.marks import compute_perp_mark
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import Order, OrderId, OrderSide, OrderStatus
from crossmargin.core.state import EngineState


def check_trading(state: EngineState) -> list[Check]:
    """Check the trading invariants, in a fixed order."""
    return [
        *_check_perps(state),
        _check_order_locks(state),
        _check_books(state),
        *_check_uncrossed(state),
        _check_order_status(state),
        _check_trigger_orders(state),
        _check_perp_marks(state),
    ]


def _check_perps(state: EngineState) -> list[Check]:
    sizes: dict[str, int] = defaultdict(int)
    longs: dict[str, int] = defaultdict(int)
    for (_, market), position in state.perp_positions.items():
        sizes[market] += position.quantity_atoms
        longs[market] += max(position.quantity_atoms, 0)
    perp_markets = {symbol for symbol, spec in state.markets.items() if spec.is_perp}
    checks: list[Check] = []
    for symbol in sorted(perp_markets | set(sizes)):
        interest = state.open_interest_atoms.get(symbol, 0)
        checks.append(Check("INV-PERP-1", sizes[symbol] == 0, f"{symbol}: position sizes sum to {sizes[symbol]}"))
        checks.append(
            Check(
                "INV-PERP-2",
                interest == longs[symbol],
                f"{symbol}: open interest {interest}, long positions hold {longs[symbol]}",
            )
        )
    return checks


def _check_order_locks(state: EngineState) -> Check:
    expected: dict[tuple[int, str], int] = defaultdict(int)
    for order in state.orders.values():
        spec = state.markets.get(order.market)
        if spec is None or spec.is_perp:
            expected[(order.subaccount_id, "(nothing: a perp order locks no funds)")] += order.locked_atoms
            continue
        asset = spec.quote if order.side is OrderSide.BID else spec.base
        expected[(order.subaccount_id, asset)] += order.locked_atoms
    actual = {
        (account.owner, symbol): balance
        for (account, symbol), balance in state.ledger.items()
        if account.kind is LedgerKind.ORDERS and balance
    }
    wanted = {key: atoms for key, atoms in expected.items() if atoms}
    wrong = [
        f"subaccount {owner} {symbol}: ledger locks {actual.get((owner, symbol), 0)}, "
        f"open orders {wanted.get((owner, symbol), 0)}"
        for owner, symbol in sorted(set(actual) | set(wanted))
        if actual.get((owner, symbol), 0) != wanted.get((owner, symbol), 0)
    ]
    return Check("INV-ORDER-1", not wrong, "; ".join(wrong[:5]) or "what is locked equals what open orders lock")


def _check_books(state: EngineState) -> Check:
    seen: dict[OrderId, int] = defaultdict(int)
    problems: list[str] = []
    for symbol, book in sorted(state.books.items()):
        for side in (OrderSide.BID, OrderSide.ASK):
            problems.extend(_check_book_side(state, symbol, side, book.side(side), seen))
    owners: dict[SubaccountId, set[OrderId]] = defaultdict(set)
    for order_id, order in sorted(state.orders.items()):
        owners[order.subaccount_id].add(order_id)
        if seen[order_id] != 1:
            problems.append(f"open order {order_id} rests in the books {seen[order_id]} times")
    indexed = {owner: set(ids) for owner, ids in state.open_order_ids.items() if ids}
    if indexed != dict(owners):
        problems.append("the per-subaccount open-order index disagrees with the open orders")
    if state.perp_order_totals != _perp_order_totals(state):
        problems.append("the per-subaccount perp order totals disagree with the open orders")
    return Check(
        "INV-ORDER-2",
        not problems,
        "; ".join(problems[:5]) or "every open order rests once in its book, levels in time order",
    )


def _perp_order_totals(state: EngineState) -> dict[tuple[SubaccountId, str], tuple[int, int]]:
    totals: dict[tuple[SubaccountId, str], tuple[int, int]] = {}
    for order in state.orders.values():
        if state.markets[order.market].is_perp:
            bids, asks = totals.get((order.subaccount_id, order.market), (0, 0))
            bid = order.side is OrderSide.BID
            totals[(order.subaccount_id, order.market)] = (
                bids + (order.remaining_atoms if bid else 0),
                asks + (0 if bid else order.remaining_atoms),
            )
    return totals


def _check_book_side(
    state: EngineState, symbol: str, side: OrderSide, book_side: BookSide, seen: dict[OrderId, int]
) -> list[str]:
    problems: list[str] = []
    if book_side.keys != sorted(book_side.levels) or not all(book_side.levels.values()):
        problems.append(f"{symbol} {side}: price levels unsorted, unindexed or empty")
    for key, level in book_side.levels.items():
        price = book_side.sign * key
        ids = list(level)
        if ids != sorted(ids):
            problems.append(f"{symbol} {side} at {price}: order ids out of time order")
        for order_id in ids:
            seen[order_id] += 1
            order = state.orders.get(order_id)
            if not _rests_at(order, symbol, side, price):
                problems.append(f"{symbol} {side} at {price}: order {order_id} is not an open order resting there")
    return problems


def _rests_at(order: Order | None, symbol: str, side: OrderSide, price_wad: int) -> bool:
    return (
        order is not None
        and order.is_open
        and order.market == symbol
        and order.side is side
        and order.price_wad == price_wad
    )


def _check_uncrossed(state: EngineState) -> list[Check]:
    checks: list[Check] = []
    for symbol, book in sorted(state.books.items()):
        bid, ask = book.bids.best_price(), book.asks.best_price()
        checks.append(
            Check(
                "INV-BOOK-1",
                bid is None or ask is None or bid < ask,
                f"{symbol}: best bid {bid} below best ask {ask}",
            )
        )
    return checks


def _check_perp_marks(state: EngineState) -> Check:
    """INV-MARK-1: each perp mark is the one its index and committed book give (the re-mark missed none)."""
    stale = []
    for symbol, spec in sorted(state.markets.items()):
        base, quote = state.mark_prices_wad.get(spec.base, 0), state.mark_prices_wad.get(spec.quote, 0)
        if not spec.is_perp or not base or not quote:
            continue
        book = state.books[symbol]
        expected = compute_perp_mark(base * WAD // quote, book.bids.best_price(), book.asks.best_price())
        if state.perp_marks_wad.get(symbol) != expected:
            stale.append(f"{symbol}: mark {state.perp_marks_wad.get(symbol)}, index and book give {expected}")
    return Check("INV-MARK-1", not stale, "; ".join(stale))


def _check_order_status(state: EngineState) -> Check:
    wrong = [
        f"order {order_id}: {order.status}, {order.executed_atoms} of {order.quantity_atoms} filled"
        for order_id, order in sorted(state.orders.items())
        if order_id != order.order_id or not _status_fits(order)
    ]
    return Check("INV-ORDER-3", not wrong, "; ".join(wrong[:5]) or "open orders are New or PartiallyFilled as filled")


def _status_fits(order: Order) -> bool:
    if order.executed_atoms == 0:
        return order.status is OrderStatus.NEW
    return 0 < order.executed_atoms < order.quantity_atoms and order.status is OrderStatus.PARTIALLY_FILLED


def _check_trigger_orders(state: EngineState) -> Check:
    wrong = [
        f"trigger order {order_id}: {order.status}, {order.executed_atoms} executed, {order.locked_atoms} locked"
        for order_id, order in sorted(state.trigger_orders.items())
        if not _trigger_fits(state, order_id, order)
    ]
    return Check(
        "INV-TRIGGER-1", not wrong, "; ".join(wrong[:5]) or "pending trigger orders wait off the book and hold nothing"
    )


def _trigger_fits(state: EngineState, order_id: OrderId, order: Order) -> bool:
    trigger = order.trigger
    if trigger is None or order_id != order.order_id or order_id in state.orders or order.market not in state.markets:
        return False
    parent = state.orders.get(OrderId(trigger.parent_order_id or 0)) if trigger.follows_parent else None
    return (
        order.status is OrderStatus.TRIGGER_PENDING
        and order.executed_atoms == order.locked_atoms == 0
        and trigger.triggered_ms is None
        and order_id < state.next_order_id
        and (not trigger.follows_parent or (parent is not None and parent.executed_atoms == order.quantity_atoms))
    )
