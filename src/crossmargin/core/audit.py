"""Audit: check every invariant of docs/INVARIANTS.md on a state, without changing it.

Used by the operator API (`GET /admin/v1/audit`), by the stateful and integration tests after
every step, and by the service after replay. Each check reports its invariant id, whether it
holds, and a detail a person can read when it does not. Trading adds the perp checks (positions
net to zero, open interest is the longs), the order checks (locks match the ledger, every open
order rests once in its book in time order, statuses fit fills) and the uncrossed book.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from crossmargin.core.book import BookSide
from crossmargin.core.events import LendIndexCut
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import BORROWERS, FEE_INCOME, LENDERS, PERP_CLEARING, ROUNDING, TRADING_FEES, LedgerKind
from crossmargin.core.numbers import RAY
from crossmargin.core.orders import Order, OrderId, OrderSide, OrderStatus
from crossmargin.core.pools import HourlyAccrual, debt_atoms, lend_atoms
from crossmargin.core.state import EngineState
from crossmargin.core.statement import holding_total, statement_totals

CLAIM_KINDS = (
    LedgerKind.SPOT,
    LedgerKind.LENDERS,
    LedgerKind.FEE_INCOME,
    LedgerKind.ROUNDING,
    LedgerKind.ORDERS,
    LedgerKind.TRADING_FEES,
)
"""Ledger kinds that hold claims, never debts (INV-LEDGER-3)."""


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one invariant check."""

    invariant: str
    ok: bool
    detail: str


def audit(state: EngineState) -> list[Check]:
    """Check every invariant; return one `Check` per invariant and asset where it applies."""
    return [
        *_check_ledger(state),
        *_check_pools(state),
        *_check_positions(state),
        _check_held_index(state),
        _check_api_key_index(state),
        *_check_perps(state),
        _check_order_locks(state),
        _check_books(state),
        *_check_uncrossed(state),
        _check_order_status(state),
        _check_statements(state),
        *_check_conservation(state),
    ]


def _check_conservation(state: EngineState) -> list[Check]:
    """INV-STATEMENT-2, across everyone: per asset, what came in from outside is all accounted for.

    Deposits less withdrawals (from the history) equal what every subaccount's statement adds up
    to, the fund's included, plus what the exchange holds (fee income, rounding, trading fees,
    unsettled perp clearing) plus the pools' rounding between their totals and their positions.
    """
    statements: dict[str, int] = defaultdict(int)
    for (_, symbol), total in statement_totals(state).items():
        statements[symbol] += total
    flows: dict[str, int] = defaultdict(int)
    for deposit in state.deposits:
        flows[deposit.symbol] += deposit.quantity_atoms
    for withdrawal in state.withdrawals:
        flows[withdrawal.symbol] -= withdrawal.quantity_atoms
    lend_values: dict[str, int] = defaultdict(int)
    debt_values: dict[str, int] = defaultdict(int)
    for (_, symbol), position in state.positions.items():
        pool = state.pools[symbol]
        lend_values[symbol] += lend_atoms(position.lend_scaled, pool.lend_index_ray)
        debt_values[symbol] += debt_atoms(position.debt_scaled, pool.borrow_index_ray)
    checks = []
    for symbol in sorted(set(flows) | set(statements)):
        exchange = sum(
            state.ledger.get((account, symbol), 0) for account in (FEE_INCOME, ROUNDING, TRADING_FEES, PERP_CLEARING)
        )
        pool_gap = state.ledger.get((LENDERS, symbol), 0) - lend_values[symbol]
        pool_gap += state.ledger.get((BORROWERS, symbol), 0) + debt_values[symbol]
        accounted = statements[symbol] + exchange + pool_gap
        checks.append(
            Check(
                "INV-STATEMENT-2",
                accounted == flows[symbol],
                f"{symbol}: deposits less withdrawals {flows[symbol]}, statements {statements[symbol]} + exchange "
                f"{exchange} + pool rounding {pool_gap} = {accounted}",
            )
        )
    return checks


def _check_statements(state: EngineState) -> Check:
    """INV-STATEMENT-1: every subaccount's statement adds up to its balance plus its position, per asset."""
    totals = statement_totals(state)
    held = {
        (SubaccountId(account.owner), symbol)
        for (account, symbol) in state.ledger
        if account.kind in (LedgerKind.SPOT, LedgerKind.ORDERS)
    } | set(state.positions)
    wrong = []
    for key in sorted(held | set(totals)):
        subaccount_id, symbol = key
        actual = holding_total(state, subaccount_id, symbol)
        if totals.get(key, 0) != actual:
            wrong.append(f"subaccount {subaccount_id} {symbol}: statement {totals.get(key, 0)}, holds {actual}")
    detail = "; ".join(wrong[:5]) + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
    return Check("INV-STATEMENT-1", not wrong, detail or "every statement adds up to its balance and position")


def _check_ledger(state: EngineState) -> list[Check]:
    sums: dict[str, int] = defaultdict(int)
    negative: list[str] = []
    uncovered = _uncovered_shortfalls(state)
    for (account, symbol), balance in state.ledger.items():
        sums[symbol] += balance
        owed = account.kind is LedgerKind.SPOT and -balance <= uncovered.get((account.owner, symbol), 0)
        if account.kind in CLAIM_KINDS and balance < 0 and not owed:
            negative.append(f"{account.kind}:{account.owner} {symbol} {balance}")
    checks = [
        Check("INV-LEDGER-2", total == 0, f"{symbol} ledger sums to {total}") for symbol, total in sorted(sums.items())
    ]
    checks.append(Check("INV-LEDGER-3", not negative, "; ".join(negative[:5]) or "no claim account is negative"))
    return checks


def _uncovered_shortfalls(state: EngineState) -> dict[tuple[int, str], int]:
    """Return what the latest settlement shortfall of each subaccount and asset left uncovered.

    A settlement that can cover a loss neither from the balance, a lend, an auto-borrow nor a
    conversion leaves the balance negative by that much (owed, counted in margin); nothing but
    inflows touches a negative balance, so it stays within the latest record.
    """
    return {(row.subaccount_id, row.symbol): row.uncovered_atoms for row in state.shortfalls}


def _check_pools(state: EngineState) -> list[Check]:
    checks: list[Check] = []
    for symbol, pool in sorted(state.pools.items()):
        lenders = state.ledger.get((LENDERS, symbol), 0)
        borrowers = -state.ledger.get((BORROWERS, symbol), 0)
        reserves = state.ledger.get((FEE_INCOME, symbol), 0) + state.ledger.get((ROUNDING, symbol), 0)
        checks.append(
            Check(
                "INV-POOL-1",
                pool.borrowed_atoms <= lenders + reserves
                and lenders == pool.lent_atoms
                and borrowers == pool.borrowed_atoms,
                f"{symbol}: borrowed {pool.borrowed_atoms} (ledger {borrowers}), lent {pool.lent_atoms} "
                f"(ledger {lenders}), reserves {reserves}",
            )
        )
        checks.append(_check_indices(state, symbol))
        paid = pool.interest_borrowers_atoms
        checks.append(
            Check(
                "INV-POOL-3",
                paid == pool.interest_lenders_atoms + pool.interest_fee_atoms
                and state.ledger.get((FEE_INCOME, symbol), 0) == pool.interest_fee_atoms,
                f"{symbol}: borrowers paid {paid}, lenders got {pool.interest_lenders_atoms}, "
                f"fee income {pool.interest_fee_atoms}",
            )
        )
    return checks


def _check_indices(state: EngineState, symbol: str) -> Check:
    """Check that indices never decrease, except the lend index by a recorded cut (`LendIndexCut`)."""
    pool = state.pools[symbol]
    cuts = [cut for cut in state.lend_index_cuts if cut.symbol == symbol]
    ok = pool.borrow_index_ray >= RAY and (pool.lend_index_ray >= RAY or bool(cuts))
    previous_borrow, previous_lend = RAY, RAY
    steps: list[tuple[int, int, HourlyAccrual | LendIndexCut]] = [
        (accrual.hour_ms, 0, accrual) for accrual in state.accruals.get(symbol, [])
    ]
    steps += [(cut.at_ms, 1, cut) for cut in cuts]
    for _, _, step in sorted(steps, key=lambda item: item[:2]):
        if isinstance(step, LendIndexCut):
            ok = ok and step.lend_index_before_ray >= previous_lend >= 0 and step.lend_index_after_ray >= 0
            previous_lend = step.lend_index_after_ray
            continue
        ok = ok and step.borrow_index_after_ray >= step.borrow_index_before_ray >= previous_borrow
        ok = ok and step.lend_index_after_ray >= step.lend_index_before_ray >= previous_lend
        previous_borrow, previous_lend = step.borrow_index_after_ray, step.lend_index_after_ray
    ok = ok and pool.borrow_index_ray >= previous_borrow and pool.lend_index_ray >= previous_lend
    return Check(
        "INV-POOL-2",
        ok,
        f"{symbol}: borrow index {pool.borrow_index_ray}, lend index {pool.lend_index_ray}, never decreasing",
    )


def _check_positions(state: EngineState) -> list[Check]:
    debt_scaled: dict[str, int] = defaultdict(int)
    lend_scaled: dict[str, int] = defaultdict(int)
    debt_sum: dict[str, int] = defaultdict(int)
    lend_sum: dict[str, int] = defaultdict(int)
    both: list[str] = []
    for (subaccount_id, symbol), position in state.positions.items():
        pool = state.pools[symbol]
        debt_scaled[symbol] += position.debt_scaled
        lend_scaled[symbol] += position.lend_scaled
        debt_sum[symbol] += debt_atoms(position.debt_scaled, pool.borrow_index_ray)
        lend_sum[symbol] += lend_atoms(position.lend_scaled, pool.lend_index_ray)
        if (position.debt_scaled and position.lend_scaled) or position.is_empty:
            both.append(f"{subaccount_id}/{symbol}")
    checks = [Check("INV-POSITION-1", not both, ", ".join(both) or "each position lends or borrows, not both")]
    for symbol, pool in sorted(state.pools.items()):
        checks.append(
            Check(
                "INV-POOL-4",
                debt_scaled[symbol] == pool.debt_scaled_total
                and lend_scaled[symbol] == pool.lend_scaled_total
                and debt_sum[symbol] >= pool.borrowed_atoms
                and lend_sum[symbol] <= pool.lent_atoms,
                f"{symbol}: positions owe {debt_sum[symbol]} >= pool debt {pool.borrowed_atoms}, "
                f"positions lend {lend_sum[symbol]} <= pool lent {pool.lent_atoms}",
            )
        )
    return checks


def _check_held_index(state: EngineState) -> Check:
    expected: dict[int, set[str]] = defaultdict(set)
    for (account, symbol), balance in state.ledger.items():
        if account.kind in (LedgerKind.SPOT, LedgerKind.ORDERS) and balance:
            expected[account.owner].add(symbol)
    for subaccount_id, symbol in state.positions:
        expected[subaccount_id].add(symbol)
    actual = {owner: symbols for owner, symbols in state.held.items() if symbols}
    return Check("INV-STATE-1", dict(expected) == actual, "held-asset index matches balances, locks and positions")


def _check_api_key_index(state: EngineState) -> Check:
    expected = {
        api_key: subaccount.subaccount_id
        for subaccount in state.subaccounts.values()
        for api_key in subaccount.api_keys
    }
    keys_total = sum(len(subaccount.api_keys) for subaccount in state.subaccounts.values())
    ok = expected == state.api_keys and keys_total == len(expected)
    return Check("INV-STATE-2", ok, "each API key signs for exactly one subaccount, as indexed")


# Trading ----------------------------------------------------------------------------------------


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
