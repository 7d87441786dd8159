"""The rules a pool movement must pass, and the entry fee's rate: pure functions of a pool.

A pool that is closed takes nothing and one that is repay-only takes only repays and redeems; a
throttled pool (utilization at its threshold) pauses borrows and redeems, and none may take it
past its maximum utilization; a borrow stays within the per-subaccount borrow limit and the
pool's open borrow limit. The entry fee of a new borrow is charged at the rate the pool will have
after it, so the pool never undercharges (`entry_fee_and_rate`).
"""

from __future__ import annotations

from crossmargin.core.assets import AssetSpec, PoolState, describe
from crossmargin.core.interest import compute_borrow_rate, compute_entry_fee, compute_utilization
from crossmargin.core.numbers import format_scaled
from crossmargin.core.pools import Pool, debt_atoms, scaled_debt_to_mint
from crossmargin.core.rejections import Rejection, RejectReason


def check_pool_open(spec: AssetSpec, action: str) -> Rejection | None:
    """Refuse an action that adds to the pool's exposure unless the pool is open."""
    if spec.pool_state is PoolState.CLOSED:
        return Rejection(
            RejectReason.POOL_CLOSED, f"The {spec.symbol} lending pool is closed: {action} is not possible"
        )
    if spec.pool_state is PoolState.REPAY_ONLY:
        return Rejection(
            RejectReason.POOL_REPAY_ONLY,
            f"The {spec.symbol} lending pool only accepts repayments and redemptions: {action} is not possible",
        )
    return None


def check_utilization(
    spec: AssetSpec, pool: Pool, supplied_before: int, borrowed_after: int, supplied_after: int, action: str
) -> Rejection | None:
    """Refuse an action while the pool is throttled, or if it would pass maxUtilization."""
    symbol = spec.symbol
    before = compute_utilization(pool.borrowed_atoms, supplied_before)
    if before >= spec.throttle_utilization_threshold.wad:
        return Rejection(
            RejectReason.POOL_THROTTLED,
            f"The {symbol} pool is at {format_scaled(before * 100, 18)}% utilization, past its "
            f"throttle of {format_scaled(spec.throttle_utilization_threshold.wad * 100, 18)}%: "
            f"{action} is paused until borrowers repay or lenders add",
        )
    after = compute_utilization(borrowed_after, supplied_after)
    if after > spec.max_utilization.wad:
        return Rejection(
            RejectReason.POOL_UTILIZATION_EXCEEDED,
            f"{action.capitalize()} would take the {symbol} pool past its maximum utilization of "
            f"{format_scaled(spec.max_utilization.wad * 100, 18)}%",
        )
    return None


def check_borrow_limits(spec: AssetSpec, pool_after: Pool, debt_after: int) -> Rejection | None:
    """Refuse a borrow past the per-subaccount borrow limit or the pool's open borrow limit."""
    if debt_after > spec.borrow_limit_atoms:
        return Rejection(
            RejectReason.BORROW_LIMIT_EXCEEDED,
            f"Borrow would take your {spec.symbol} debt to {describe(spec, debt_after)}, past the "
            f"limit of {describe(spec, spec.borrow_limit_atoms)} per subaccount",
        )
    if pool_after.borrowed_atoms > spec.open_borrow_lend_limit_atoms:
        return Rejection(
            RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED,
            f"The {spec.symbol} pool's open borrow limit of "
            f"{describe(spec, spec.open_borrow_lend_limit_atoms)} would be passed",
        )
    return None


ENTRY_FEE_RATE_ROUNDS = 4
"""The rate and the fee depend on each other; they settle in one or two rounds (the fee is tiny)."""


def entry_fee_and_rate(
    spec: AssetSpec, pool: Pool, supplied_atoms: int, atoms: int, interval_ms: int
) -> tuple[int, int]:
    """Return the entry fee's APR and the fee of a borrow of `atoms` for `interval_ms`.

    The rate is the pool's borrow rate *after* the borrow: at the utilization the pool will have
    with this borrow, its fee and its rounding added to the debt and the lenders' and exchange's
    share of the fee to the supply. It is the rate the first full hour then charges (unless
    something else moves the pool meanwhile), and it is never below the rate before the borrow,
    so the pool never undercharges. Should the rounds not settle, the higher rate is kept.
    """
    rates: list[int] = []
    borrowed = pool.borrowed_atoms  # a product of the pool's totals: computed once, not twice a round
    added = atoms  # what the borrow adds to the debt: its amount, then its fee and rounding too
    for _ in range(ENTRY_FEE_RATE_ROUNDS):
        utilization = compute_utilization(borrowed + added, supplied_atoms + added - atoms)
        rate = compute_borrow_rate(spec.rate_curve, utilization)
        fee = compute_entry_fee(atoms, rate, interval_ms)
        if rates and rate == rates[-1]:
            return rate, fee
        rates.append(rate)
        minted = scaled_debt_to_mint(atoms + fee, pool.borrow_index_ray)
        added = debt_atoms(pool.debt_scaled_total + minted, pool.borrow_index_ray) - borrowed
    rate = max(rates[-2:])
    return rate, compute_entry_fee(atoms, rate, interval_ms)
