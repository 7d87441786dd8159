"""Ledger accounts, postings and entries: the values every balance change is built from.

`spot`, `locked`, `Posting` and `JournalEntry` are built without the interpreted constructors of a
NamedTuple or a frozen dataclass (compiled, those cost about ten times a native one); these tests
pin that they are still the same values.
"""

from __future__ import annotations

import copy
import pickle

import pytest

from crossmargin.core.ledger import (
    PERP_CLEARING,
    JournalEntry,
    LedgerAccount,
    LedgerKind,
    Posting,
    Side,
    entry,
    locked,
    spot,
)
from crossmargin.core.margin import LineMemo


def test_spot_and_locked_accounts_are_ledger_accounts_equal_to_the_constructed_ones() -> None:
    for built, kind in ((spot(7), LedgerKind.SPOT), (locked(7), LedgerKind.ORDERS)):
        expected = LedgerAccount(kind, 7)
        assert type(built) is LedgerAccount
        assert built == expected
        assert hash(built) == hash(expected)
        assert (built.kind, built.owner) == (kind, 7)
        assert {expected: 1}[built] == 1  # the same dict key as the ledger's


def test_an_entry_keeps_its_non_zero_legs_as_postings_on_their_sides() -> None:
    built = entry("USDC", (spot(1), 5), (spot(2), 0), (PERP_CLEARING, -5))
    assert built.asset == "USDC"
    assert [(p.account, p.side, p.atoms, p.signed_atoms) for p in built.postings] == [
        (spot(1), Side.DEBIT, 5, 5),
        (PERP_CLEARING, Side.CREDIT, 5, -5),
    ]
    assert built.is_balanced()


def test_an_unbalanced_entry_is_refused() -> None:
    with pytest.raises(AssertionError, match="INV-LEDGER-1"):
        entry("USDC", (spot(1), 5), (spot(2), -4))
    assert not JournalEntry("USDC", (Posting(spot(1), Side.DEBIT, 5),)).is_balanced()


def test_postings_and_entries_read_back_in_their_repr() -> None:
    built = entry("BTC", (spot(3), -2), (locked(3), 2))
    assert repr(built) == (
        "JournalEntry('BTC', ("
        "Posting(LedgerAccount(kind=<LedgerKind.SPOT: 'spot'>, owner=3), <Side.CREDIT: 'credit'>, 2), "
        "Posting(LedgerAccount(kind=<LedgerKind.ORDERS: 'orders'>, owner=3), <Side.DEBIT: 'debit'>, 2)))"
    )


def test_entries_and_margin_line_memos_survive_pickle_and_deepcopy() -> None:
    """Compiled, a native class without arguments-free construction fails pickle's default: each has its reducer."""
    built = entry("USDC", (spot(1), 5), (PERP_CLEARING, -5))
    memo = LineMemo((1, "x"), None, 2, 3)
    for copied in (pickle.loads(pickle.dumps(built)), copy.deepcopy(built)):
        assert repr(copied) == repr(built)
    for copied_memo in (pickle.loads(pickle.dumps(memo)), copy.deepcopy(memo)):
        assert (copied_memo.inputs, copied_memo.line, copied_memo.locked_wad, copied_memo.maintenance_wad) == (
            (1, "x"),
            None,
            2,
            3,
        )
