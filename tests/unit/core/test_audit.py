"""The audit notices every kind of broken state it claims to check (a check that cannot fail is no check)."""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.audit import audit
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import LENDERS, WORLD, spot
from crossmargin.core.state import EngineState


def failing(state: EngineState) -> set[str]:
    return {check.invariant for check in audit(state) if not check.ok}


def funded_state(driver: Driver) -> EngineState:
    lender = driver.lender(USDC="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "100")
    assert failing(driver.state) == set()
    del lender
    return driver.state


def test_a_healthy_state_passes_every_check(driver: Driver) -> None:
    state = funded_state(driver)
    assert {check.invariant for check in audit(state)} >= {
        "INV-LEDGER-2",
        "INV-LEDGER-3",
        "INV-POOL-1",
        "INV-POOL-2",
        "INV-POOL-3",
        "INV-POOL-4",
        "INV-POSITION-1",
        "INV-STATE-1",
        "INV-STATE-2",
    }


def test_atoms_created_from_nothing_break_the_zero_sum(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    state.ledger[(spot(1), "USDC")] += 1
    assert "INV-LEDGER-2" in failing(state)


def test_a_negative_spot_balance_is_flagged_even_when_the_sum_holds(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    state.ledger[(spot(2), "ETH")] = -5
    state.ledger[(WORLD, "ETH")] = state.ledger.get((WORLD, "ETH"), 0) + 5
    assert failing(state) >= {"INV-LEDGER-3"}


def test_pool_totals_that_disagree_with_the_ledger_are_flagged(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    state.ledger[(LENDERS, "USDC")] += 1
    state.ledger[(WORLD, "USDC")] -= 1
    assert "INV-POOL-1" in failing(state)


def test_a_position_that_lends_and_borrows_is_flagged(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    key = next(key for key, position in state.positions.items() if position.debt_scaled)
    broken = copy.copy(state.positions[key])
    object.__setattr__(broken, "lend_scaled", 1)
    state.positions[key] = broken
    assert {"INV-POSITION-1", "INV-POOL-4"} <= failing(state)


def test_a_falling_index_and_unbalanced_interest_are_flagged(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    driver.tick(3_600_000)
    state = copy.deepcopy(driver.state)
    pool = state.pools["USDC"]
    state.pools["USDC"] = replace(
        pool, borrow_index_ray=pool.borrow_index_ray - 1, interest_fee_atoms=pool.interest_fee_atoms + 1
    )
    assert {"INV-POOL-2", "INV-POOL-3"} <= failing(state)


def test_stale_held_and_key_indexes_are_flagged(driver: Driver) -> None:
    state = copy.deepcopy(funded_state(driver))
    state.held[SubaccountId(1)].add("SOL")
    state.api_keys["ghost"] = next(iter(state.subaccounts))
    assert {"INV-STATE-1", "INV-STATE-2"} <= failing(state)
