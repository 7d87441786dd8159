"""Hourly interest, on the hour, in O(1) per pool.

At each full hour every pool charges its borrowers APR / 365 / 24 of their debt for the hour ahead,
at the rate of that hour's utilization, by growing the borrow index; lenders receive the charge less
the exchange's fee by growing the lend index; the rest is fee income. One entry per pool and hour:
borrowers' charge = lenders' credit + fee income, to the atom (INV-POOL-3). Hours are charged in
order, so advancing the clock three days charges 72 hours, each at the rate of its own hour.
"""

from __future__ import annotations

from dataclasses import replace

from crossmargin.core.assets import AssetSpec
from crossmargin.core.borrow_lend import pool_supplied
from crossmargin.core.events import InterestCharged
from crossmargin.core.interest import (
    MS_PER_HOUR,
    accrue_borrow_index_one_hour,
    compute_borrow_rate,
    compute_lend_rate,
    compute_utilization,
    floor_hour_ms,
)
from crossmargin.core.ledger import BORROWERS, FEE_INCOME, LENDERS, entry
from crossmargin.core.numbers import WAD, mul_div_down
from crossmargin.core.pools import HourlyAccrual, credit_lenders, debt_atoms
from crossmargin.core.transaction import Transaction


def accrue_due_interest(tx: Transaction, now_ms: int) -> None:
    """Charge every full hour that has begun since the last one charged, in order."""
    if tx.interest_hour_ms is None:
        tx.interest_hour_ms = floor_hour_ms(now_ms)
        return
    while tx.interest_hour_ms + MS_PER_HOUR <= now_ms:
        hour_ms = tx.interest_hour_ms + MS_PER_HOUR
        for _, spec in sorted(tx.all_specs().items()):
            accrue_pool_hour(tx, spec, hour_ms)
        tx.interest_hour_ms = hour_ms


def accrue_pool_hour(tx: Transaction, spec: AssetSpec, hour_ms: int) -> None:
    """Charge one pool's interest for the hour starting at `hour_ms`."""
    symbol = spec.symbol
    pool = tx.pool(symbol)
    borrowed = pool.borrowed_atoms
    lent = pool.lent_atoms
    rate = compute_borrow_rate(spec.rate_curve, compute_utilization(borrowed, pool_supplied(tx, symbol)))
    lend_rate = compute_lend_rate(rate, borrowed, lent, spec.fee.wad)
    after = pool
    if pool.debt_scaled_total:
        index_after = accrue_borrow_index_one_hour(pool.borrow_index_ray, rate)
        charged = debt_atoms(pool.debt_scaled_total, index_after) - borrowed
        after, credited = credit_lenders(
            replace(pool, borrow_index_ray=index_after), mul_div_down(charged, WAD - spec.fee.wad, WAD)
        )
        fee = charged - credited
        tx.post(entry(symbol, (BORROWERS, -charged), (LENDERS, credited), (FEE_INCOME, fee)))
        after = replace(
            after,
            interest_borrowers_atoms=pool.interest_borrowers_atoms + charged,
            interest_lenders_atoms=pool.interest_lenders_atoms + credited,
            interest_fee_atoms=pool.interest_fee_atoms + fee,
        )
        tx.pools[symbol] = after
        tx.emit(InterestCharged(symbol, hour_ms, rate, lend_rate, charged, credited, fee))
    tx.accruals.append(
        HourlyAccrual(
            symbol=symbol,
            hour_ms=hour_ms,
            borrow_rate_wad=rate,
            lend_rate_wad=lend_rate,
            borrow_index_before_ray=pool.borrow_index_ray,
            borrow_index_after_ray=after.borrow_index_ray,
            lend_index_before_ray=pool.lend_index_ray,
            lend_index_after_ray=after.lend_index_ray,
            movements_before=tx.movement_count(),
        )
    )
