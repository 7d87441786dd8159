"""Double-entry ledger: every change of any balance is a balanced journal entry.

A ledger account is a kind plus an owner (a subaccount id, or 0 for the exchange-wide accounts).
Balances are signed atoms per asset, debits minus credits; a positive balance is a claim held
(a subaccount's spot balance, what its open orders lock, lenders' claims, fee income), a negative
one is owed (borrowers' debt, and `WORLD`, the outside world, which is minus everything ever
deposited net of withdrawals). `PERP_CLEARING` (USDC) is the counterparty of every perp
settlement: it pays out realized profits and funding, takes in losses, and keeps the rounding of
values at mark. `DUST_CONVERSIONS` is the exchange's side of dust conversions and
`PENDING_WITHDRAWALS` holds withdrawals a withdrawal delay has not released yet.
INV-LEDGER-1: each entry balances per asset. INV-LEDGER-2: per asset all balances
sum to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class LedgerKind(StrEnum):
    """What a ledger account represents."""

    WORLD = "world"
    SPOT = "spot"
    LENDERS = "lenders"
    BORROWERS = "borrowers"
    FEE_INCOME = "fee_income"
    ROUNDING = "rounding"
    ORDERS = "orders"
    TRADING_FEES = "trading_fees"
    PERP_CLEARING = "perp_clearing"
    DUST_CONVERSIONS = "dust_conversions"
    PENDING_WITHDRAWALS = "pending_withdrawals"


class LedgerAccount(NamedTuple):
    """A ledger account: a kind and an owner (subaccount id, 0 for exchange-wide accounts)."""

    kind: LedgerKind
    owner: int = 0


WORLD = LedgerAccount(LedgerKind.WORLD)
LENDERS = LedgerAccount(LedgerKind.LENDERS)
BORROWERS = LedgerAccount(LedgerKind.BORROWERS)
FEE_INCOME = LedgerAccount(LedgerKind.FEE_INCOME)
ROUNDING = LedgerAccount(LedgerKind.ROUNDING)
TRADING_FEES = LedgerAccount(LedgerKind.TRADING_FEES)
PERP_CLEARING = LedgerAccount(LedgerKind.PERP_CLEARING)
DUST_CONVERSIONS = LedgerAccount(LedgerKind.DUST_CONVERSIONS)
"""The exchange's side of dust conversions: the dust it took in (+) and the USDC it paid out (-)."""
PENDING_WITHDRAWALS = LedgerAccount(LedgerKind.PENDING_WITHDRAWALS)
"""Withdrawals held by a withdrawal delay: left their subaccounts, not yet sent to `WORLD`."""


def spot(subaccount_id: int) -> LedgerAccount:
    """Return the spot-balance ledger account of a subaccount."""
    return LedgerAccount(LedgerKind.SPOT, subaccount_id)


def locked(subaccount_id: int) -> LedgerAccount:
    """Return the ledger account holding what a subaccount's open spot orders lock."""
    return LedgerAccount(LedgerKind.ORDERS, subaccount_id)


class Side(StrEnum):
    """Side of a posting."""

    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: an unsigned amount of atoms on one side of one account."""

    account: LedgerAccount
    side: Side
    atoms: int

    @property
    def signed_atoms(self) -> int:
        """Return the posting's effect on the account balance (debits minus credits)."""
        return self.atoms if self.side is Side.DEBIT else -self.atoms


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced set of postings in one asset."""

    asset: str
    postings: tuple[Posting, ...]

    def is_balanced(self) -> bool:
        """Return whether debits equal credits."""
        debit = Side.DEBIT
        return sum(posting.atoms if posting.side is debit else -posting.atoms for posting in self.postings) == 0


def entry(asset: str, *legs: tuple[LedgerAccount, int]) -> JournalEntry:
    """Build a balanced entry from signed legs (positive debits, negative credits); zeros drop."""
    postings = tuple(
        Posting(account, Side.DEBIT if delta > 0 else Side.CREDIT, abs(delta)) for account, delta in legs if delta != 0
    )
    built = JournalEntry(asset, postings)
    assert built.is_balanced(), "INV-LEDGER-1: every journal entry balances per asset"
    return built
