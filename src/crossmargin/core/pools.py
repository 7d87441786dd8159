"""Lending pools: scaled positions, interest indices and the conversions between them.

A position stores a *scaled* amount; its value in atoms is scaled * index / RAY. The borrow
index turns scaled debt into debt (rounded up), the lend index turns scaled lend into a lender's
claim (rounded down). Conversions round so the pool never loses: a new borrow mints scaled debt
rounded up, a repay burns scaled debt rounded down, a lend mints scaled lend rounded down and a
redeem burns it rounded up. Whatever the pool gains by rounding goes to the ROUNDING account.
Supplied = lenders' claims + the pool's reserves (fee income and rounding, which stay in the pool);
liquidity = supplied - borrowed, never negative (INV-POOL-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crossmargin.core.numbers import RAY, mul_div_down, mul_div_up


@dataclass(slots=True, init=False, unsafe_hash=True)
class Pool:
    """The lending pool of one asset."""

    symbol: Final[str]
    borrow_index_ray: Final[int]
    lend_index_ray: Final[int]
    debt_scaled_total: Final[int]
    lend_scaled_total: Final[int]
    interest_borrowers_atoms: Final[int]
    interest_lenders_atoms: Final[int]
    interest_fee_atoms: Final[int]

    def __init__(  # noqa: PLR0913, PLR0917 -- one parameter per field
        self,
        symbol: str,
        borrow_index_ray: int = RAY,
        lend_index_ray: int = RAY,
        debt_scaled_total: int = 0,
        lend_scaled_total: int = 0,
        interest_borrowers_atoms: int = 0,
        interest_lenders_atoms: int = 0,
        interest_fee_atoms: int = 0,
    ) -> None:
        self.symbol = symbol
        self.borrow_index_ray = borrow_index_ray
        self.lend_index_ray = lend_index_ray
        self.debt_scaled_total = debt_scaled_total
        self.lend_scaled_total = lend_scaled_total
        self.interest_borrowers_atoms = interest_borrowers_atoms
        self.interest_lenders_atoms = interest_lenders_atoms
        self.interest_fee_atoms = interest_fee_atoms

    def with_totals(self, debt_scaled_total: int, lend_scaled_total: int) -> Pool:
        """Return this pool with new scaled totals (built directly: `replace` is slow on hot paths)."""
        return Pool(
            self.symbol,
            self.borrow_index_ray,
            self.lend_index_ray,
            debt_scaled_total,
            lend_scaled_total,
            self.interest_borrowers_atoms,
            self.interest_lenders_atoms,
            self.interest_fee_atoms,
        )

    @property
    def borrowed_atoms(self) -> int:
        """Return the total debt of all borrowers (rounded up)."""
        return debt_atoms(self.debt_scaled_total, self.borrow_index_ray)

    @property
    def lent_atoms(self) -> int:
        """Return the total claim of all lenders (rounded down)."""
        return lend_atoms(self.lend_scaled_total, self.lend_index_ray)


@dataclass(frozen=True, slots=True)
class HourlyAccrual:
    """The record of one hour's interest in one pool (the source of interest history)."""

    symbol: str
    hour_ms: int
    borrow_rate_wad: int
    lend_rate_wad: int
    borrow_index_before_ray: int
    borrow_index_after_ray: int
    lend_index_before_ray: int
    lend_index_after_ray: int
    movements_before: int = 0
    """How many borrow-lend movements were recorded before this hour was charged."""


def debt_atoms(scaled: int, borrow_index_ray: int) -> int:
    """Return the debt of a scaled amount, rounded up."""
    return mul_div_up(scaled, borrow_index_ray, RAY)


def lend_atoms(scaled: int, lend_index_ray: int) -> int:
    """Return the lender's claim of a scaled amount, rounded down."""
    return mul_div_down(scaled, lend_index_ray, RAY)


def scaled_debt_to_mint(atoms: int, borrow_index_ray: int) -> int:
    """Return the scaled debt a new borrow of `atoms` creates, rounded up."""
    return mul_div_up(atoms, RAY, borrow_index_ray)


def scaled_debt_to_burn(atoms: int, borrow_index_ray: int) -> int:
    """Return the scaled debt a repay of `atoms` removes, rounded down."""
    return mul_div_down(atoms, RAY, borrow_index_ray)


def scaled_lend_to_mint(atoms: int, lend_index_ray: int) -> int:
    """Return the scaled lend a lend of `atoms` creates, rounded down."""
    return mul_div_down(atoms, RAY, lend_index_ray)


def scaled_lend_to_burn(atoms: int, lend_index_ray: int) -> int:
    """Return the scaled lend a redeem of `atoms` removes, rounded up."""
    return mul_div_up(atoms, RAY, lend_index_ray)


def credit_lenders(pool: Pool, atoms: int) -> tuple[Pool, int]:
    """Raise the lend index so lenders' claims grow by at most `atoms`; return what they got.

    The index is rounded down, so the lenders' total grows by `atoms` or slightly less; the
    caller books the difference as fee income. The index never decreases (INV-POOL-2).
    """
    if atoms == 0 or pool.lend_scaled_total == 0:
        return pool, 0
    claims_before = pool.lent_atoms
    index_after = max(
        pool.lend_index_ray,
        mul_div_down(claims_before + atoms, RAY, pool.lend_scaled_total),
    )
    credited = lend_atoms(pool.lend_scaled_total, index_after) - claims_before
    assert 0 <= credited <= atoms, "lenders are credited at most what borrowers paid"
    credited_pool = Pool(
        pool.symbol,
        pool.borrow_index_ray,
        index_after,
        pool.debt_scaled_total,
        pool.lend_scaled_total,
        pool.interest_borrowers_atoms,
        pool.interest_lenders_atoms,
        pool.interest_fee_atoms,
    )
    return credited_pool, credited
