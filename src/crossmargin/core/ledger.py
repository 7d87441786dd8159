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

from enum import StrEnum
from typing import Final, NamedTuple


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


new_tuple = tuple.__new__
"""Builds a NamedTuple from a tuple without its Python-level `__new__`: compiled, several times cheaper.

`spot` and `locked` are the core's most frequent constructions (every balance read names its account);
the settlement pass builds each moved position with it too.
"""


def spot(subaccount_id: int) -> LedgerAccount:
    """Return the spot-balance ledger account of a subaccount."""
    return new_tuple(LedgerAccount, (LedgerKind.SPOT, subaccount_id))


def locked(subaccount_id: int) -> LedgerAccount:
    """Return the ledger account holding what a subaccount's open spot orders lock."""
    return new_tuple(LedgerAccount, (LedgerKind.ORDERS, subaccount_id))


class Side(StrEnum):
    """Side of a posting."""

    DEBIT = "debit"
    CREDIT = "credit"


class Posting:
    """One leg of an entry: an unsigned amount of atoms on one side of one account.

    Postings and entries are plain classes with read-only attributes, not frozen dataclasses: every
    balance change builds them, and compiled, a frozen dataclass's constructor is interpreted (about
    ten times the cost of a native one).
    """

    __slots__ = ("account", "atoms", "side")

    def __init__(self, account: LedgerAccount, side: Side, atoms: int) -> None:
        self.account: Final = account
        self.side: Final = side
        self.atoms: Final = atoms

    def __repr__(self) -> str:
        return f"Posting({self.account!r}, {self.side!r}, {self.atoms})"

    def __reduce__(self) -> tuple[type[Posting], tuple[LedgerAccount, Side, int]]:
        return Posting, (self.account, self.side, self.atoms)  # compiled, pickle's default needs a bare constructor

    @property
    def signed_atoms(self) -> int:
        """Return the posting's effect on the account balance (debits minus credits)."""
        return self.atoms if self.side is Side.DEBIT else -self.atoms


class JournalEntry:
    """A balanced set of postings in one asset."""

    __slots__ = ("asset", "postings")

    def __init__(self, asset: str, postings: tuple[Posting, ...]) -> None:
        self.asset: Final = asset
        self.postings: Final = postings

    def __repr__(self) -> str:
        return f"JournalEntry({self.asset!r}, {self.postings!r})"

    def __reduce__(self) -> tuple[type[JournalEntry], tuple[str, tuple[Posting, ...]]]:
        return JournalEntry, (self.asset, self.postings)

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
