"""EngineState: everything the engine reads and writes, held in memory behind one sequencer.

Spot balances are ledger balances; borrow-lend positions hold scaled amounts; pools hold indices and
scaled totals; `held` indexes which assets each subaccount has anything in, so margin work is
proportional to what a subaccount holds, not to the number of listed assets. The lists at the end
are the user-visible history (movements, entry fees, deposits, withdrawals, transfers): part of the
state so that snapshots and replay restore it; hourly interest rows are derived from them and the
pools' accrual records (`history.py`), never stored per position. Trading adds the markets, the open
orders (indexed by `books` and `open_order_ids`, both derived and rebuilt after a snapshot loads),
pending trigger orders (off the book), perp positions and marks, and the trading history (each
subaccount's latest `CLOSED_ORDERS_KEPT` closed orders, and every fill).
Liquidation adds its steps, the insurance fund's takeovers, auto-deleverages and lend-index cuts
(the audit reads the cuts). Every history record is numbered in the order it happened
(`history_sequence`, per list, parallel to it), so a statement can list the rows of one millisecond
in their true order. Only `Transaction.commit` (in `transaction.py`) changes an EngineState; the
derived caches (the margin lines' memos, the perp markets, the spot markets by pair) are filled by
reads and hold nothing that is not a function of the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.book import Book
from crossmargin.core.events import (
    AutoDeleveraged,
    Backstopped,
    BorrowLendMoved,
    Deposited,
    DustConverted,
    EntryFeeCharged,
    FundingPaid,
    LendIndexCut,
    LiquidationStepped,
    PositionsSettled,
    ShortfallCovered,
    Transferred,
    Withdrew,
)
from crossmargin.core.fills import Fill
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.ledger import LedgerAccount, spot
from crossmargin.core.margin import LineMemo
from crossmargin.core.market_fills import MarketFills
from crossmargin.core.markets import MarketKind, MarketSpec
from crossmargin.core.oracle_settings import OracleSettings
from crossmargin.core.orders import Order, OrderId, OrderSide
from crossmargin.core.perps import PerpPosition
from crossmargin.core.pools import HourlyAccrual, Pool

DERIVED = {"derived": True}
"""Field metadata: an index rebuilt from other fields, never stored in a snapshot."""
T = TypeVar("T")
SUBACCOUNT_HISTORIES = ("movements", "entry_fees", "deposits", "withdrawals", "funding_payments")
"""The history lists whose records each belong to one subaccount (`subaccount_id`): indexed per subaccount."""
INDEXED_HISTORIES = (*SUBACCOUNT_HISTORIES, "dust_conversions", "transfers", "backstops")
"""Every history list indexed per subaccount: a dust conversion names one subaccount too, a transfer two
(its source and target) and a takeover two (the subaccount and the fund), each indexed under both
(`history_owners`), so one subaccount's statement reads its own instead of passing over everyone's."""


def history_owners(record: object) -> tuple[SubaccountId, ...]:
    """Return the subaccounts a record of an `INDEXED_HISTORIES` list is indexed under."""
    if isinstance(record, Transferred):
        return (record.source_subaccount_id, record.target_subaccount_id)
    if isinstance(record, Backstopped):
        return (record.subaccount_id, record.fund_subaccount_id)
    return (cast("Any", record).subaccount_id,)  # every other indexed record names one subaccount


CLOSED_ORDERS_KEPT = 10_000
"""Closed orders kept per subaccount for its order history, the latest: a market maker that cancels and
replaces its quotes closes thousands a minute, which the state would otherwise hold forever."""


@dataclass(slots=True)
class EngineState:
    """The whole engine state."""

    def closed_orders_of(self, subaccount_id: SubaccountId) -> list[Order]:
        """Return a subaccount's kept closed orders, in the order they closed."""
        return self.closed_orders.get(subaccount_id, [])

    def history_number(self, name: str, index: int) -> int:
        """Return when the record at `index` of the history list `name` happened, in the state's order."""
        return self.history_sequence[name][index]

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
    price_updated_ms: dict[str, int] = field(default_factory=dict)
    listed_at_ms: dict[str, int] = field(default_factory=dict)
    """When each asset and each market (by symbol) was first configured: the time of that command."""
    oracle: OracleSettings = field(default_factory=OracleSettings)
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
    markets: dict[str, MarketSpec] = field(default_factory=dict)
    orders: dict[OrderId, Order] = field(default_factory=dict)
    trigger_orders: dict[OrderId, Order] = field(default_factory=dict)
    """Pending trigger orders (status `TriggerPending`), off the book until they fire (`triggers.py`)."""
    perp_positions: dict[tuple[SubaccountId, str], PerpPosition] = field(default_factory=dict)
    perp_marks_wad: dict[str, int] = field(default_factory=dict)
    open_interest_atoms: dict[str, int] = field(default_factory=dict)
    settlement_due_ms: int | None = None
    next_order_id: int = 1
    next_trade_id: int = 1
    closed_orders: dict[SubaccountId, list[Order]] = field(default_factory=dict)
    """Each subaccount's closed orders as they closed: its latest `CLOSED_ORDERS_KEPT` (the journal has them all)."""
    closed_order_count: int = 0
    """Orders ever closed: a book's update id counts them (a cancel changes a book)."""
    fills: list[Fill] = field(default_factory=list)
    settlements: list[PositionsSettled] = field(default_factory=list)
    """Settlement passes, one per perp market and pass; `events.settled_rows` expands them into `Settled` rows."""
    funding_payments: list[FundingPaid] = field(default_factory=list)
    shortfalls: list[ShortfallCovered] = field(default_factory=list)
    liquidation_steps: list[LiquidationStepped] = field(default_factory=list)
    backstops: list[Backstopped] = field(default_factory=list)
    auto_deleverages: list[AutoDeleveraged] = field(default_factory=list)
    lend_index_cuts: list[LendIndexCut] = field(default_factory=list)
    dust_conversions: list[DustConverted] = field(default_factory=list)
    history_count: int = 0
    history_sequence: dict[str, list[int]] = field(default_factory=dict)
    books: dict[str, Book] = field(default_factory=dict, metadata=DERIVED, compare=False)
    open_order_ids: dict[SubaccountId, dict[OrderId, None]] = field(
        default_factory=dict, metadata=DERIVED, compare=False
    )
    perp_order_totals: dict[tuple[SubaccountId, str], tuple[int, int]] = field(
        default_factory=dict, metadata=DERIVED, compare=False
    )
    margin_lines: dict[tuple[SubaccountId, str], LineMemo] = field(
        default_factory=dict, metadata=DERIVED, compare=False, repr=False
    )
    """The last margin line computed per (subaccount, asset), with its inputs (`margin.py`): a memo."""
    perp_margin_lines: dict[tuple[SubaccountId, str], LineMemo] = field(
        default_factory=dict, metadata=DERIVED, compare=False, repr=False
    )
    """The last margin line computed per (subaccount, perp market), with its inputs: a memo."""
    pending_withdrawals: dict[int, None] = field(default_factory=dict, metadata=DERIVED, compare=False)
    """The indexes in `withdrawals` of those a withdrawal delay still holds (release after `now_ms`)."""
    perp_markets_cache: tuple[dict[str, MarketSpec], int, tuple[MarketSpec, ...]] | None = field(
        default=None, metadata=DERIVED, compare=False, repr=False
    )
    spot_markets_cache: tuple[dict[str, MarketSpec], int, dict[tuple[str, str], MarketSpec]] | None = field(
        default=None, metadata=DERIVED, compare=False, repr=False
    )

    last_trade_prices_wad: dict[str, int] = field(default_factory=dict, metadata=DERIVED, compare=False)
    """The price of each market's latest fill: what a `LastPrice` trigger watches (rebuilt from `fills`)."""
    fill_indexes: dict[SubaccountId, list[int]] = field(default_factory=dict, metadata=DERIVED, compare=False)
    """Each subaccount's fills (maker or taker) as indexes into `fills`, in order: its history without a scan."""
    market_fills: dict[str, MarketFills] = field(default_factory=dict, metadata=DERIVED, compare=False, repr=False)
    """Each market's fills as positions in `fills`, with running figures per block: a ticker without a scan."""
    funding_rates: dict[str, dict[int, int]] = field(default_factory=dict, metadata=DERIVED, compare=False, repr=False)
    """Each perp market's funding rate (WAD) by the end of each hour it was paid: `fundingRates` without a scan."""
    history_indexes: dict[str, dict[SubaccountId, list[int]]] = field(
        default_factory=dict, metadata=DERIVED, compare=False, repr=False
    )
    """Per list of `INDEXED_HISTORIES`, each subaccount's records as indexes into it, in order."""
    memos: dict[type[Any], Any] = field(default_factory=dict, metadata=DERIVED, compare=False, repr=False)
    """What reads keep to extend next time, by kind: the pools' index changes (`history.IndexChanges`),
    where each subaccount's positions are in the settlement passes (`settled_index.SettledIndex`)."""
    spot_keys: dict[str, dict[int, tuple[LedgerAccount, str]]] = field(
        default_factory=dict, metadata=DERIVED, compare=False, repr=False
    )
    """Per asset, the spot ledger key of each subaccount a bulk posting wrote: a memo, so that a
    settlement pass over 100,000 positions makes no new key, nothing for the cyclic GC to chase."""

    def spot_ledger_keys(self, asset: str) -> dict[int, tuple[LedgerAccount, str]]:
        """Return the memo of spot ledger keys in an asset, by subaccount (`spot_ledger_key` adds to it)."""
        return self.spot_keys.setdefault(asset, {})

    def spot_ledger_key(self, owner: int, asset: str) -> tuple[LedgerAccount, str]:
        """Return a subaccount's spot ledger key in an asset, remembered in `spot_keys`."""
        key = self.spot_ledger_keys(asset)[owner] = (spot(owner), asset)
        return key

    def perp_market_specs(self) -> tuple[MarketSpec, ...]:
        """Return the perp markets' specs by symbol (cached; the cache holds the very dict it was made from)."""
        cache = self.perp_markets_cache
        if cache is not None and cache[0] is self.markets and cache[1] == len(self.markets):
            return cache[2]
        found = tuple(spec for _, spec in sorted(self.markets.items()) if spec.is_perp)
        self.perp_markets_cache = (self.markets, len(self.markets), found)
        return found

    def spot_markets_by_pair(self) -> dict[tuple[str, str], MarketSpec]:
        """Return the spot markets by (base, quote), the first by symbol for a pair (cached as the perp markets are)."""
        cache = self.spot_markets_cache
        if cache is not None and cache[0] is self.markets and cache[1] == len(self.markets):
            return cache[2]
        found = spot_markets_by_pair(self.markets)
        self.spot_markets_cache = (self.markets, len(self.markets), found)
        return found

    def rebuild_indexes(self) -> None:
        """Rebuild the derived indexes (books, open orders, perp order totals) from the open orders."""
        self.books = {symbol: Book() for symbol in self.markets}
        self.open_order_ids = {}
        self.perp_order_totals = {}
        self.perp_markets_cache = None
        self.spot_markets_cache = None
        self.pending_withdrawals = {
            index: None
            for index, withdrawal in enumerate(self.withdrawals)
            if withdrawal.release_ms is not None and withdrawal.release_ms > self.now_ms
        }
        for order_id in sorted(self.orders):
            order = self.orders[order_id]
            self.books[order.market].add(order)
            self.open_order_ids.setdefault(order.subaccount_id, {})[order_id] = None
            self.count_perp_order(order, 1)
        self.last_trade_prices_wad = {fill.market: fill.price_wad for fill in self.fills}
        self.fill_indexes = {}
        self.market_fills = {}
        for index, fill in enumerate(self.fills):
            self.index_fill(index, fill)
        self.funding_rates = {}
        for payment in self.funding_payments:
            self.funding_rates.setdefault(payment.market, {})[payment.interval_end_ms] = payment.rate_wad
        self.history_indexes = {name: {} for name in INDEXED_HISTORIES}
        for name, indexes in self.history_indexes.items():
            for index, record in enumerate(getattr(self, name)):
                for owner in history_owners(record):
                    indexes.setdefault(owner, []).append(index)
        self.memos = {}

    def memo(self, kind: type[T]) -> T:
        """Return the reads' memo of `kind` (see `memos`), made empty on first use."""
        memo: T | None = self.memos.get(kind)
        if memo is None:
            memo = self.memos[kind] = kind()
        return memo

    def history_of(self, name: str, subaccount_id: SubaccountId) -> list[int]:
        """Return where a subaccount's records are in the history list `name` (of `INDEXED_HISTORIES`), in order.

        The index itself: read it, never change it.
        """
        return self.history_indexes.get(name, {}).get(subaccount_id, [])

    def fills_of(self, subaccount_id: SubaccountId) -> list[Fill]:
        """Return a subaccount's fills as maker or taker, in order."""
        fills = self.fills
        return [fills[index] for index in self.fill_indexes.get(subaccount_id, ())]

    def index_fill(self, index: int, fill: Fill) -> None:
        """Index the fill at `index` of `fills` under its maker and its taker, and under its market."""
        market = self.market_fills.get(fill.market)
        if market is None:
            market = self.market_fills[fill.market] = MarketFills()
        market.add(index, fill)
        self.fill_indexes.setdefault(fill.maker_subaccount_id, []).append(index)
        if fill.taker_subaccount_id != fill.maker_subaccount_id:
            self.fill_indexes.setdefault(fill.taker_subaccount_id, []).append(index)

    def count_perp_order(self, order: Order, sign: int) -> None:
        """Add (+1) or take out (-1) an open perp order's remaining quantity in its owner's totals."""
        if not self.markets[order.market].is_perp:
            return
        key = (order.subaccount_id, order.market)
        bids, asks = self.perp_order_totals.get(key, (0, 0))
        if order.side is OrderSide.BID:
            bids += sign * order.remaining_atoms
        else:
            asks += sign * order.remaining_atoms
        if bids or asks:
            self.perp_order_totals[key] = (bids, asks)
        else:
            self.perp_order_totals.pop(key, None)


def spot_markets_by_pair(markets: dict[str, MarketSpec]) -> dict[tuple[str, str], MarketSpec]:
    """Return the spot markets among `markets` by (base, quote); where two trade one pair, the first by symbol."""
    found: dict[tuple[str, str], MarketSpec] = {}
    for _, spec in sorted(markets.items()):
        if spec.kind is MarketKind.SPOT:
            found.setdefault((spec.base, spec.quote), spec)
    return found


def at_indexes(records: Sequence[T], indexes: Iterable[int]) -> Iterator[tuple[int, T]]:
    """Yield the records at `indexes` (a subaccount's, `EngineState.history_of`) with their index, in order."""
    for index in indexes:
        yield index, records[index]
