"""EngineState: everything the engine reads and writes, held in memory behind one sequencer.

Spot balances are ledger balances; borrow-lend positions hold scaled amounts; pools hold indices
and scaled totals; `held` indexes which assets each subaccount has anything in, so margin work is
proportional to what a subaccount holds, not to the number of listed assets. The lists at the end
are the user-visible history (movements, entry fees, deposits, withdrawals, transfers): part of the
state so that snapshots and replay restore it; hourly interest rows are derived from them and the
pools' accrual records (`history.py`), never stored per position. Only
`Transaction.commit` (in `transaction.py`) changes an EngineState.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.events import BorrowLendMoved, Deposited, EntryFeeCharged, Transferred, Withdrew
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.ledger import LedgerAccount
from crossmargin.core.pools import HourlyAccrual, Pool


@dataclass(slots=True)
class EngineState:
    """The whole engine state."""

    specs: dict[str, AssetSpec] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=dict)
    accruals: dict[str, list[HourlyAccrual]] = field(default_factory=dict)
    accounts: dict[AccountId, list[SubaccountId]] = field(default_factory=dict)
    subaccounts: dict[SubaccountId, Subaccount] = field(default_factory=dict)
    positions: dict[tuple[SubaccountId, str], Position] = field(default_factory=dict)
    ledger: dict[tuple[LedgerAccount, str], int] = field(default_factory=dict)
    held: dict[SubaccountId, set[str]] = field(default_factory=dict)
    api_keys: dict[str, SubaccountId] = field(default_factory=dict)
    mark_prices_wad: dict[str, int] = field(default_factory=dict)
    now_ms: int = 0
    interest_hour_ms: int | None = None
    next_account_id: int = 1
    next_subaccount_id: int = 1
    next_position_id: int = 1
    movements: list[BorrowLendMoved] = field(default_factory=list)
    entry_fees: list[EntryFeeCharged] = field(default_factory=list)
    deposits: list[Deposited] = field(default_factory=list)
    withdrawals: list[Withdrew] = field(default_factory=list)
    transfers: list[Transferred] = field(default_factory=list)
