"""Properties of pool conversions: every rounding between atoms and scaled amounts favours the pool."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from hypothesis import example, given
from tests.strategies import atoms, indices_ray, positive_atoms

from crossmargin.core.numbers import RAY
from crossmargin.core.pools import (
    Pool,
    credit_lenders,
    debt_atoms,
    lend_atoms,
    scaled_debt_to_burn,
    scaled_debt_to_mint,
    scaled_lend_to_burn,
    scaled_lend_to_mint,
)

amounts = atoms(10**24)


@given(amount=amounts, index=indices_ray())
def test_a_new_borrow_owes_at_least_what_it_took_and_less_than_one_scaled_unit_more(amount: int, index: int) -> None:
    minted = scaled_debt_to_mint(amount, index)
    owed_exact = Fraction(minted * index, RAY)
    assert owed_exact >= amount
    assert owed_exact - amount < Fraction(index, RAY)
    assert debt_atoms(minted, index) >= amount


@given(amount=amounts, index=indices_ray())
def test_a_repay_removes_at_most_what_was_paid(amount: int, index: int) -> None:
    burned = scaled_debt_to_burn(amount, index)
    removed_exact = Fraction(burned * index, RAY)
    assert removed_exact <= amount
    assert amount - removed_exact < Fraction(index, RAY)


@given(amount=amounts, index=indices_ray())
def test_a_new_lend_claims_at_most_what_it_brought(amount: int, index: int) -> None:
    minted = scaled_lend_to_mint(amount, index)
    claim_exact = Fraction(minted * index, RAY)
    assert claim_exact <= amount
    assert amount - claim_exact < Fraction(index, RAY)
    assert lend_atoms(minted, index) <= amount


@given(amount=amounts, index=indices_ray())
def test_a_redeem_gives_up_at_least_what_it_takes_out(amount: int, index: int) -> None:
    burned = scaled_lend_to_burn(amount, index)
    given_up_exact = Fraction(burned * index, RAY)
    assert given_up_exact >= amount
    assert given_up_exact - amount < Fraction(index, RAY)


@given(scaled=amounts, index=indices_ray())
def test_a_debt_reads_rounded_up_and_a_lend_rounded_down(scaled: int, index: int) -> None:
    exact = Fraction(scaled * index, RAY)
    assert lend_atoms(scaled, index) <= exact <= debt_atoms(scaled, index)
    assert debt_atoms(scaled, index) - lend_atoms(scaled, index) <= 1


@given(debt_total=amounts, borrowed_index=indices_ray(), amount=amounts)
def test_minting_debt_into_a_pool_raises_its_borrowed_total_by_at_least_the_amount(
    debt_total: int, borrowed_index: int, amount: int
) -> None:
    pool = Pool("BTC", borrow_index_ray=borrowed_index, debt_scaled_total=debt_total)
    after = replace(pool, debt_scaled_total=pool.debt_scaled_total + scaled_debt_to_mint(amount, borrowed_index))
    assert after.borrowed_atoms - pool.borrowed_atoms >= amount


@given(lend_total=amounts, lend_index=indices_ray(), amount=amounts)
@example(lend_total=3, lend_index=RAY + RAY // 2, amount=1)
def test_minting_lend_into_a_pool_raises_its_lent_total_by_at_most_the_amount(
    lend_total: int, lend_index: int, amount: int
) -> None:
    pool = Pool("BTC", lend_index_ray=lend_index, lend_scaled_total=lend_total)
    after = replace(pool, lend_scaled_total=pool.lend_scaled_total + scaled_lend_to_mint(amount, lend_index))
    assert 0 <= after.lent_atoms - pool.lent_atoms <= amount


@given(lend_total=amounts, lend_index=indices_ray(), asked=amounts)
@example(lend_total=3, lend_index=RAY, asked=1)
@example(lend_total=0, lend_index=RAY, asked=5)
@example(lend_total=10**24, lend_index=RAY + 1, asked=0)
def test_crediting_lenders_never_credits_more_than_asked_nor_lowers_the_index(
    lend_total: int, lend_index: int, asked: int
) -> None:
    pool = Pool("USDC", lend_index_ray=lend_index, lend_scaled_total=lend_total)
    after, credited = credit_lenders(pool, asked)
    assert 0 <= credited <= asked
    assert after.lend_index_ray >= pool.lend_index_ray
    assert after.lent_atoms - pool.lent_atoms == credited
    assert after.lend_scaled_total == pool.lend_scaled_total


@given(lend_total=positive_atoms(10**24), lend_index=indices_ray(), asked=amounts)
def test_crediting_lenders_falls_short_of_the_ask_by_at_most_the_scaled_total_over_ray(
    lend_total: int, lend_index: int, asked: int
) -> None:
    # The new index is rounded down, so lenders may get up to lend_scaled_total / RAY atoms less
    # than asked (plus the floor of the claim): a bound that shows the credit is not just "<=".
    pool = Pool("USDC", lend_index_ray=lend_index, lend_scaled_total=lend_total)
    _, credited = credit_lenders(pool, asked)
    shortfall_max = -(-lend_total // RAY)
    assert credited >= asked - shortfall_max


@given(lend_total=positive_atoms(10**24), lend_index=indices_ray(), first=amounts, second=amounts)
def test_crediting_lenders_twice_never_lowers_the_index_in_between(
    lend_total: int, lend_index: int, first: int, second: int
) -> None:
    pool = Pool("USDC", lend_index_ray=lend_index, lend_scaled_total=lend_total)
    middle, credited_first = credit_lenders(pool, first)
    after, credited_second = credit_lenders(middle, second)
    assert pool.lend_index_ray <= middle.lend_index_ray <= after.lend_index_ray
    assert after.lent_atoms - pool.lent_atoms == credited_first + credited_second <= first + second
