"""Events of accounts, funds, settings and configuration: who exists, what arrived or left, what is listed.

Each names the subaccounts it is about by id; a deposit, withdrawal or transfer names the asset and
its atoms, so the balance streams and the history can be built from the event alone. Prices and
oracle guards are configuration too: they change no holding, only what holdings are worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.numbers import Ratio


@dataclass(frozen=True, slots=True)
class AssetsConfigured:
    """Assets were listed or their parameters changed."""

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountCreated:
    """An account was opened with its first subaccount."""

    account_id: AccountId
    subaccount_id: SubaccountId


@dataclass(frozen=True, slots=True)
class SubaccountCreated:
    """A further subaccount was opened."""

    account_id: AccountId
    subaccount_id: SubaccountId


@dataclass(frozen=True, slots=True)
class ApiKeyAdded:
    """A subaccount got one more API key (an ED25519 public key) to sign with."""

    subaccount_id: SubaccountId
    api_key: str


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    """A subaccount's API key was revoked: it signs for nothing any more."""

    subaccount_id: SubaccountId
    api_key: str


@dataclass(slots=True, init=False, unsafe_hash=True)
class Deposited:
    """Funds arrived from outside."""

    subaccount_id: Final[SubaccountId]
    symbol: Final[str]
    quantity_atoms: Final[int]
    at_ms: Final[int]

    def __init__(self, subaccount_id: SubaccountId, symbol: str, quantity_atoms: int, at_ms: int) -> None:
        self.subaccount_id = subaccount_id
        self.symbol = symbol
        self.quantity_atoms = quantity_atoms
        self.at_ms = at_ms


@dataclass(frozen=True, slots=True)
class Withdrew:
    """Funds left to the outside, to an address on a chain, with the client's own id if given."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    at_ms: int
    address: str = ""
    blockchain: str = ""
    client_id: str = ""
    release_ms: int | None = None
    """When a withdrawal held by the subaccount's withdrawal delay leaves (None: it left at once).

    Until then its funds sit in the exchange's `PENDING_WITHDRAWALS` ledger account: gone from the
    subaccount (not spendable, not margin), not yet sent. Journals from before it decode as None.
    """


@dataclass(frozen=True, slots=True)
class Transferred:
    """Funds moved between two subaccounts of one account."""

    source_subaccount_id: SubaccountId
    target_subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class SettingsUpdated:
    """A subaccount's settings changed."""

    subaccount_id: SubaccountId
    leverage_limit: Ratio
    auto_lend: bool
    auto_repay_borrows: bool
    auto_borrow_settlements: bool


@dataclass(frozen=True, slots=True)
class MarkPricesSet:
    """Mark prices changed."""

    prices_wad: tuple[tuple[str, int], ...]
    at_ms: int


@dataclass(frozen=True, slots=True)
class OracleConfigured:
    """The oracle guards changed (None: that guard is off)."""

    price_max_age_ms: int | None
    price_jump_band: Ratio | None
    at_ms: int


@dataclass(frozen=True, slots=True)
class MarketsConfigured:
    """Markets were listed or their parameters changed."""

    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WithdrawalReleased:
    """A withdrawal held by a withdrawal delay left at its release time (`index`: its place in the withdrawals)."""

    subaccount_id: SubaccountId
    index: int
    symbol: str
    quantity_atoms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class WithdrawalDelaySet:
    """A subaccount's withdrawal delay was created or changed: the delay now, and one that waits to apply."""

    subaccount_id: SubaccountId
    current_hours: int
    pending_hours: int | None
    pending_at_ms: int | None
    at_ms: int


@dataclass(frozen=True, slots=True)
class DustConverted:
    """A dust balance (spot and lend) of an asset was converted into USDC at the mark, with the exchange."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    usdc_atoms: int
    at_ms: int
