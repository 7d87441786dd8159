"""Audit: check every invariant of docs/INVARIANTS.md on a state, without changing it.

Used by the operator API (`GET /admin/v1/audit`), by the stateful and integration tests after
every step, and by the service after replay. Each check reports its invariant id, whether it
holds, and a detail a person can read when it does not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from crossmargin.core.ledger import BORROWERS, FEE_INCOME, LENDERS, ROUNDING, LedgerKind
from crossmargin.core.numbers import RAY
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState


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
    ]


def _check_ledger(state: EngineState) -> list[Check]:
    sums: dict[str, int] = defaultdict(int)
    negative: list[str] = []
    for (account, symbol), balance in state.ledger.items():
        sums[symbol] += balance
        must_be_claim = account.kind in (
            LedgerKind.SPOT,
            LedgerKind.LENDERS,
            LedgerKind.FEE_INCOME,
            LedgerKind.ROUNDING,
        )
        if must_be_claim and balance < 0:
            negative.append(f"{account.kind}:{account.owner} {symbol} {balance}")
    checks = [
        Check("INV-LEDGER-2", total == 0, f"{symbol} ledger sums to {total}") for symbol, total in sorted(sums.items())
    ]
    checks.append(Check("INV-LEDGER-3", not negative, "; ".join(negative[:5]) or "no claim account is negative"))
    return checks


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
    pool = state.pools[symbol]
    ok = pool.borrow_index_ray >= RAY and pool.lend_index_ray >= RAY
    previous_borrow, previous_lend = RAY, RAY
    for accrual in state.accruals.get(symbol, []):
        ok = ok and accrual.borrow_index_after_ray >= accrual.borrow_index_before_ray >= previous_borrow
        ok = ok and accrual.lend_index_after_ray >= accrual.lend_index_before_ray >= previous_lend
        previous_borrow, previous_lend = accrual.borrow_index_after_ray, accrual.lend_index_after_ray
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
        if account.kind is LedgerKind.SPOT and balance:
            expected[account.owner].add(symbol)
    for subaccount_id, symbol in state.positions:
        expected[subaccount_id].add(symbol)
    actual = {owner: symbols for owner, symbols in state.held.items() if symbols}
    return Check("INV-STATE-1", dict(expected) == actual, "held-asset index matches balances and positions")


def _check_api_key_index(state: EngineState) -> Check:
    expected = {
        api_key: subaccount.subaccount_id
        for subaccount in state.subaccounts.values()
        for api_key in subaccount.api_keys
    }
    keys_total = sum(len(subaccount.api_keys) for subaccount in state.subaccounts.values())
    ok = expected == state.api_keys and keys_total == len(expected)
    return Check("INV-STATE-2", ok, "each API key signs for exactly one subaccount, as indexed")
