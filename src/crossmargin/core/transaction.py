"""Transaction: a what-if view of the state that a command writes into before it is accepted.

Every command runs inside a transaction layered over the state (or over another transaction, for
what-if questions such as "how much could this subaccount borrow?"). Reads see the layer's own
writes first; `commit` applies them to the state in one step, the only mutation in the core. A
rejected command simply drops its transaction, so it leaves no trace (TigerBeetle's rule).
"""

from __future__ import annotations

from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commit import commit_into_parent, commit_into_state
from crossmargin.core.events import (
    BorrowLendMoved,
    Event,
)
from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.ledger import JournalEntry, LedgerAccount, locked, spot
from crossmargin.core.margin import Holding
from crossmargin.core.oracle_settings import OracleSettings
from crossmargin.core.pools import HourlyAccrual, Pool, debt_atoms, lend_atoms
from crossmargin.core.state import EngineState
from crossmargin.core.trading_layer import TradingLayer

_REMOVED = None


class Transaction(TradingLayer):
    """Pending writes over a base state; read-through, write-local.

    Reads are flat: a transaction keeps the tuple of its parent transactions (nearest first), so a
    read looks in its own writes, then in each parent's, then in the state, with no recursion.
    A what-if child is cheap to open (a handful of empty dicts) and to drop.
    """

    def __init__(self, base: EngineState | Transaction, now_ms: int) -> None:
        self.base = base
        if isinstance(base, Transaction):
            self.state: EngineState = base.state
            self.parents = (base, *base.parents)
        else:
            self.state = base
            self.parents = ()
        self.now_ms = now_ms
        self.ledger: dict[tuple[LedgerAccount, str], int] = {}
        self.pools: dict[str, Pool] = {}
        self.positions: dict[tuple[SubaccountId, str], Position | None] = {}
        self.subaccounts: dict[SubaccountId, Subaccount] = {}
        self.accounts: dict[AccountId, list[SubaccountId]] = {}
        self.specs: dict[str, AssetSpec] = {}
        self.mark_prices_wad: dict[str, int] = {}
        self.price_updated_ms: dict[str, int] = {}
        self.oracle: OracleSettings | None = None
        self.accruals: list[HourlyAccrual] = []
        self.events: list[Event] = []
        self.counters: dict[str, int] = {}
        self.interest_hour_ms: int | None = base.interest_hour_ms
        self._open_trading_layer(base.settlement_due_ms)

    # Reads ---------------------------------------------------------------------------------

    def balance(self, account: LedgerAccount, symbol: str) -> int:
        """Return the signed ledger balance of an account in an asset."""
        key = (account, symbol)
        found = self.ledger.get(key)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.ledger.get(key)
            if found is not None:
                return found
        return self.state.ledger.get(key, 0)

    def spec(self, symbol: str) -> AssetSpec | None:
        """Return an asset's spec, or None if it is not listed."""
        found = self.specs.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.specs.get(symbol)
            if found is not None:
                return found
        return self.state.specs.get(symbol)

    def all_specs(self) -> dict[str, AssetSpec]:
        """Return every listed asset's spec, as of this transaction."""
        merged = dict(self.state.specs)
        for layer in reversed(self.parents):
            merged.update(layer.specs)
        merged.update(self.specs)
        return merged

    def pool(self, symbol: str) -> Pool:
        """Return the pool of an asset (the asset is listed)."""
        found = self.pools.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.pools.get(symbol)
            if found is not None:
                return found
        return self.state.pools[symbol]

    def position(self, subaccount_id: SubaccountId, symbol: str) -> Position | None:
        """Return a subaccount's borrow-lend position in an asset, if any."""
        key = (subaccount_id, symbol)
        if key in self.positions:
            return self.positions[key]
        for layer in self.parents:
            if key in layer.positions:
                return layer.positions[key]
        return self.state.positions.get(key)

    def subaccount(self, subaccount_id: SubaccountId) -> Subaccount | None:
        """Return a subaccount, or None if it does not exist."""
        found = self.subaccounts.get(subaccount_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.subaccounts.get(subaccount_id)
            if found is not None:
                return found
        return self.state.subaccounts.get(subaccount_id)

    def api_key_owner(self, api_key: str) -> SubaccountId | None:
        """Return the subaccount an API key signs for, if any (a key revoked in this transaction signs for none)."""
        for layer in (self, *self.parents):
            for subaccount in layer.subaccounts.values():
                if api_key in subaccount.api_keys:
                    return subaccount.subaccount_id
        owner = self.state.api_keys.get(api_key)
        if owner is None:
            return None
        current = self.subaccount(owner)
        return owner if current is not None and api_key in current.api_keys else None

    def account_subaccounts(self, account_id: AccountId) -> list[SubaccountId] | None:
        """Return the subaccounts of an account, or None if it does not exist."""
        found = self.accounts.get(account_id)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.accounts.get(account_id)
            if found is not None:
                return found
        return self.state.accounts.get(account_id)

    def mark_price(self, symbol: str) -> int:
        """Return an asset's mark price (WAD USD per unit), 0 if none was ever set."""
        found = self.mark_prices_wad.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.mark_prices_wad.get(symbol)
            if found is not None:
                return found
        return self.state.mark_prices_wad.get(symbol, 0)

    def price_updated(self, symbol: str) -> int | None:
        """Return when an asset's index price was last set (ms), None if no time was recorded."""
        found = self.price_updated_ms.get(symbol)
        if found is not None:
            return found
        for layer in self.parents:
            found = layer.price_updated_ms.get(symbol)
            if found is not None:
                return found
        return self.state.price_updated_ms.get(symbol)

    def oracle_settings(self) -> OracleSettings:
        """Return the oracle guards' settings as of this transaction."""
        for layer in (self, *self.parents):
            if layer.oracle is not None:
                return layer.oracle
        return self.state.oracle

    def held_symbols(self, subaccount_id: SubaccountId) -> set[str]:
        """Return the assets a subaccount may hold anything in (a superset, never missing one)."""
        symbols = set(self.state.held.get(subaccount_id, ()))
        accounts = (spot(subaccount_id), locked(subaccount_id))
        for layer in (self, *self.parents):
            if layer.positions:
                symbols.update(symbol for (owner, symbol) in layer.positions if owner == subaccount_id)
            symbols.update(symbol for (account, symbol) in layer.ledger if account in accounts)
        return symbols

    def holding(self, subaccount_id: SubaccountId, symbol: str) -> Holding:
        """Return what a subaccount has of one asset."""
        position = self.position(subaccount_id, symbol)
        spot_atoms = self.balance(spot(subaccount_id), symbol)
        locked_atoms = self.balance(locked(subaccount_id), symbol)
        if position is None:
            return Holding(spot_atoms, 0, 0, locked_atoms)
        pool = self.pool(symbol)
        return Holding(
            spot_atoms,
            lend_atoms(position.lend_scaled, pool.lend_index_ray),
            debt_atoms(position.debt_scaled, pool.borrow_index_ray),
            locked_atoms,
        )

    def holdings(self, subaccount_id: SubaccountId) -> dict[str, Holding]:
        """Return every non-empty holding of a subaccount."""
        found = {symbol: self.holding(subaccount_id, symbol) for symbol in self.held_symbols(subaccount_id)}
        return {symbol: holding for symbol, holding in found.items() if not holding.is_empty}

    def counter(self, name: str) -> int:
        """Return the current value of an id counter."""
        for layer in (self, *self.parents):
            if name in layer.counters:
                return layer.counters[name]
        value: int = getattr(self.state, name)
        return value

    # Writes --------------------------------------------------------------------------------

    def movement_count(self) -> int:
        """Return how many borrow-lend movements are recorded so far: the state's and every pending layer's."""
        count = len(self.state.movements)
        for layer in (self, *self.parents):
            count += sum(type(event) is BorrowLendMoved for event in layer.events)
        return count

    def take_id(self, name: str) -> int:
        """Return the next id of a counter and advance it."""
        value = self.counter(name)
        self.counters[name] = value + 1
        return value

    def new_position_id(self) -> PositionId:
        """Return a fresh position id."""
        return PositionId(self.take_id("next_position_id"))

    def post(self, journal_entry: JournalEntry) -> None:
        """Apply a balanced journal entry to the pending ledger."""
        assert journal_entry.is_balanced(), "INV-LEDGER-1: every journal entry balances per asset"
        asset, ledger, balance = journal_entry.asset, self.ledger, self.balance
        for posting in journal_entry.postings:
            account = posting.account
            ledger[account, asset] = balance(account, asset) + posting.signed_atoms

    def set_position(self, position: Position) -> None:
        """Store a position; an empty one is removed (its id is never reused)."""
        key = (position.subaccount_id, position.symbol)
        self.positions[key] = _REMOVED if position.is_empty else position

    def post_spot_credits(
        self, asset: str, changes: dict[SubaccountId, int], others: dict[LedgerAccount, int]
    ) -> list[int | None]:
        """Post subaccounts' signed spot changes in one asset, balanced by `others`; return their balances after.

        The bulk form of `post` for settlement passes over 100,000s of positions: INV-LEDGER-1 holds
        for the whole as one entry; `others` names no subaccount's spot account. The balances come
        in `changes`' order, None where a change is zero (nothing posted).
        """
        assert sum(changes.values()) + sum(others.values()) == 0, "INV-LEDGER-1: every entry balances per asset"
        ledger = self.ledger
        # Every key is written once, so the writes above the state can be read from one merged copy.
        written = ledger
        if self.parents:
            written = {}
            for layer in reversed(self.parents):
                written.update(layer.ledger)
            written.update(ledger)
        below = self.state.ledger
        keys = self.state.spot_ledger_keys(asset)
        after: list[int | None] = []
        for owner, delta in changes.items():
            if delta:
                key = keys.get(owner) or self.state.spot_ledger_key(owner, asset)
                found = written.get(key)
                balance = ledger[key] = (below.get(key, 0) if found is None else found) + delta
                after.append(balance)
            else:
                after.append(None)
        for account, delta in others.items():
            if delta:
                key = (account, asset)
                found = written.get(key)
                ledger[key] = (below.get(key, 0) if found is None else found) + delta
        return after

    def mark_settlement_due(self, interval_ms: int) -> None:
        """Ask for a settlement at the next interval boundary after now, unless one is due sooner."""
        boundary = (self.now_ms // interval_ms + 1) * interval_ms
        if self.settlement_due_ms is None or boundary < self.settlement_due_ms:
            self.settlement_due_ms = boundary

    def emit(self, event: Event) -> None:
        """Record an event of the command."""
        self.events.append(event)

    # Commit --------------------------------------------------------------------------------

    def commit(self) -> None:
        """Apply every pending write to the base: the only mutation of engine state (`core/commit.py`)."""
        if isinstance(self.base, Transaction):
            commit_into_parent(self, self.base)
            return
        commit_into_state(self, self.base)
