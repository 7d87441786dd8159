"""Audit: check every invariant of docs/INVARIANTS.md on a state, without changing it.

Used by the operator API (`GET /admin/v1/audit`), by the stateful and integration tests after
every step, and by the service after replay. Each check reports its invariant id, whether it
holds, and a detail a person can read when it does not. This module checks the money (ledger,
conservation, statements), the pools and the positions; `audit_trading.py` adds the perp checks
(positions net to zero, open interest is the longs), the order checks (locks match the ledger,
every open order rests once in its book in time order, statuses fit fills) and the uncrossed book.
"""

from __future__ import annotations

from collections import defaultdict

from crossmargin.core.audit_check import Check
from crossmargin.core.audit_trading import check_trading
from crossmargin.core.events import LendIndexCut
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import (
    BORROWERS,
    DUST_CONVERSIONS,
    FEE_INCOME,
    LENDERS,
    PENDING_WITHDRAWALS,
    PERP_CLEARING,
    ROUNDING,
    TRADING_FEES,
    LedgerKind,
)
from crossmargin.core.numbers import RAY
from crossmargin.core.pools import HourlyAccrual, debt_atoms, lend_atoms
from crossmargin.core.state import EngineState
from crossmargin.core.statement import holding_total, statement_totals

__all__ = ["CLAIM_KINDS", "Check", "audit"]  # Check is re-exported: callers of audit read its results

CLAIM_KINDS = (
    LedgerKind.SPOT,
    LedgerKind.LENDERS,
    LedgerKind.FEE_INCOME,
    LedgerKind.ROUNDING,
    LedgerKind.ORDERS,
    LedgerKind.TRADING_FEES,
    LedgerKind.PENDING_WITHDRAWALS,
)
"""Ledger kinds that hold claims, never debts (INV-LEDGER-3)."""
EXCHANGE_ACCOUNTS = (FEE_INCOME, ROUNDING, TRADING_FEES, PERP_CLEARING, DUST_CONVERSIONS, PENDING_WITHDRAWALS)
"""What the exchange holds: fees, rounding, unsettled perp clearing, dust taken in, withdrawals held."""


def audit(state: EngineState) -> list[Check]:
    """Check every invariant; return one `Check` per invariant and asset where it applies."""
    return [
        *_check_ledger(state),
        *_check_pools(state),
        *_check_positions(state),
        _check_held_index(state),
        _check_api_key_index(state),
        *check_trading(state),
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
        if withdrawal.release_ms is None or withdrawal.release_ms <= state.now_ms:  # held ones are still here
            flows[withdrawal.symbol] -= withdrawal.quantity_atoms
    lend_values: dict[str, int] = defaultdict(int)
    debt_values: dict[str, int] = defaultdict(int)
    for (_, symbol), position in state.positions.items():
        pool = state.pools[symbol]
        lend_values[symbol] += lend_atoms(position.lend_scaled, pool.lend_index_ray)
        debt_values[symbol] += debt_atoms(position.debt_scaled, pool.borrow_index_ray)
    checks = []
    for symbol in sorted(set(flows) | set(statements)):
        exchange = sum(state.ledger.get((account, symbol), 0) for account in EXCHANGE_ACCOUNTS)
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
