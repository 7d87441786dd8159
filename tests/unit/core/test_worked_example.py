"""The product brief's worked example, exact to the atom.

1 BTC of collateral; a borrow of 2,000 USDC at 00:50 pays an entry fee of 10 minutes of interest
at the rate the pool has *after* the borrow (the rate the first hour then charges); at 01:00 the
first hourly charge (amount * APR / 365 / 24). Expected values are computed here independently
with fractions and the documented rounding (utilization and rate rounded up to 1e-18, interest
rounded up to the atom), and both rows show in interest history with the same rate.
"""

from __future__ import annotations

import math
from fractions import Fraction

from engine_driver import HOUR_MS, MINUTE_MS, Driver

from crossmargin.core.events import EntryFeeCharged, InterestCharged
from crossmargin.core.history import InterestKind, compute_interest_history

WAD = 10**18
YEAR_MS = 365 * 24 * HOUR_MS


def ceil_to(value: Fraction, unit: Fraction) -> Fraction:
    return math.ceil(value / unit) * unit


def usdc_rate(utilization: Fraction) -> Fraction:
    """The demo USDC curve: 3% base, +10% at the 80% kink (below the kink here)."""
    utilization = ceil_to(utilization, Fraction(1, WAD))
    return ceil_to(Fraction(3, 100) + Fraction(10, 100) * utilization / Fraction(8, 10), Fraction(1, WAD))


def test_entry_fee_then_first_hourly_charge_exact_to_the_atom(driver: Driver) -> None:
    driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")

    events = driver.at(50 * MINUTE_MS).borrow(borrower, "USDC", "2000")

    # The rate after the borrow depends on its own fee (which adds to debt and supply alike):
    # iterate to the fixed point, as the engine does.
    entry_fee = 0
    for _ in range(4):
        rate_at_borrow = usdc_rate(Fraction(2_000_000_000 + entry_fee, 100_000_000_000 + entry_fee))
        entry_fee = math.ceil(Fraction(2_000_000_000) * rate_at_borrow * 10 * MINUTE_MS / YEAR_MS)
    assert entry_fee == 1237  # 0.001237 USDC: 2000 * 3.25% * 10 / (365 * 24 * 60), rounded up
    fee_event = next(event for event in events if isinstance(event, EntryFeeCharged))
    assert fee_event.quantity_atoms == entry_fee
    assert fee_event.interval_ms == 10 * MINUTE_MS
    assert fee_event.rate_wad == rate_at_borrow * WAD
    debt = 2_000_000_000 + entry_fee
    assert driver.holding(borrower, "USDC").debt_atoms == debt
    assert driver.holding(borrower, "USDC").spot_atoms == 2_000_000_000

    (charge,) = [event for event in driver.tick(HOUR_MS) if isinstance(event, InterestCharged)]

    supplied = 100_000_000_000 + entry_fee  # the whole entry fee stays in the pool
    rate_at_one = usdc_rate(Fraction(debt, supplied))
    hourly = math.ceil(debt * rate_at_one / (365 * 24))
    assert charge.borrow_rate_wad == rate_at_one * WAD
    assert charge.borrow_rate_wad == fee_event.rate_wad, "the entry fee's rate is the first hour's rate"
    assert charge.borrowers_atoms == hourly
    assert driver.holding(borrower, "USDC").debt_atoms == debt + hourly

    rows = compute_interest_history(driver.state, borrower)
    assert [(row.kind, row.quantity_atoms, row.at_ms) for row in rows] == [
        (InterestKind.BORROW, hourly, HOUR_MS),
        (InterestKind.ENTRY_FEE, entry_fee, 50 * MINUTE_MS),
    ]
    assert rows[0].rate_wad == rate_at_one * WAD


def test_three_days_at_once_charge_seventy_two_hours_each_at_its_own_rate(driver: Driver) -> None:
    driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "7000")  # 70% utilization: the rate moves as debt compounds

    charges = [event for event in driver.tick(72 * HOUR_MS) if isinstance(event, InterestCharged)]

    assert [charge.hour_ms for charge in charges] == [hour * HOUR_MS for hour in range(1, 73)]
    rates = [charge.borrow_rate_wad for charge in charges]
    assert rates == sorted(rates)
    assert rates[-1] > rates[0], "each hour's rate follows that hour's utilization"
    pool = driver.state.pools["USDC"]
    assert pool.interest_borrowers_atoms == sum(charge.borrowers_atoms for charge in charges) + sum(
        fee.quantity_atoms for fee in driver.state.entry_fees
    )


def test_lender_interest_compounds_hourly(driver: Driver) -> None:
    lender = driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "5000")

    driver.tick(HOUR_MS)
    driver.tick(2 * HOUR_MS)

    rows = compute_interest_history(driver.state, lender)
    assert [row.kind for row in rows] == [InterestKind.LEND, InterestKind.LEND, InterestKind.ENTRY_FEE]
    second, first, share = (row.quantity_atoms for row in rows)
    assert first > 0
    assert second >= first - 1, "an hour's credit never shrinks but by rounding of one atom"
    entry_fee_share = sum(fee.quantity_atoms for fee in driver.state.entry_fees) * 9 // 10
    assert share in range(entry_fee_share - 1, entry_fee_share + 1), "the lender's 90% of the entry fee"
    lent = next(move for move in driver.state.movements if move.subaccount_id == lender)
    gained = driver.holding(lender, "USDC").lend_atoms - lent.position_net_atoms
    assert gained == first + second + share, "the rows add up to what the lend gained, to the atom"


def test_a_month_of_lend_interest_earns_interest_on_interest(driver: Driver) -> None:
    lender = driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "7900")

    driver.tick(30 * 24 * HOUR_MS)

    rows = compute_interest_history(driver.state, lender)
    hourly_credits = [row.quantity_atoms for row in reversed(rows) if row.kind is InterestKind.LEND]
    assert len(hourly_credits) == 30 * 24
    assert hourly_credits[-1] > hourly_credits[0], "later hours pay on a larger, compounded balance"
    assert sum(hourly_credits) > len(hourly_credits) * hourly_credits[0]
