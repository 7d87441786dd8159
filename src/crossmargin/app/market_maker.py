"""The demo market maker: a ladder of bids and asks around the index on every book.

In demo mode nobody else provides liquidity, so collateral conversions and liquidations would
find no counterparty. The market maker is an ordinary subaccount, created and funded with
ordinary commands (`CreateAccount`, `Deposit`) and trading through the same engine and rules as
anyone: it places post-only GTC limit orders, its spot bids and asks lock what they may spend, its
perp orders reserve margin, and an order the engine refuses is simply not on the book.

It is recognised across restarts by its API key, `MARKET_MAKER_API_KEY`, which is not base64 and
so can never verify a signature: nobody can sign as it. `crossmargin serve` opens and funds it in
the demo's one seeding command (`SeedDemo`); `ensure_market_maker` finds it there, and creates it
only in a journal seeded otherwise. On its own thread it cancels and re-places
a market's ladder when the market's index (base mark / quote mark) changes or when one of its
orders there was filled; it learns of both from a batch listener on the service where there is
one, and otherwise by polling every `poll_seconds`. It never waits inside the sequencer. When it
starts, and after a journal fault (the service refused it with `ServiceUnavailableError` and has
since rebuilt its state from the journal), it forgets what it quoted and requotes every market, so
a book left one-sided by a crash between a cancel and the re-place is whole again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final

from crossmargin.app.service import Service, ServiceClosedError, ServiceFailedError, ServiceUnavailableError
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import CancelAllOrders, Command, CreateAccount, Deposit, PlaceOrder
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.events import AccountCreated, MarkPricesSet, Traded
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import BookState, MarketSpec
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import OrderFlags, OrderSide, OrderType, TimeInForce
from crossmargin.core.state import EngineState

LOG = logging.getLogger("crossmargin.market_maker")

MARKET_MAKER_API_KEY: Final = "crossmargin:demo-market-maker"
"""The market maker's API key: not base64, so no request can ever be signed with it."""

MARKET_MAKER_FUNDS: Final = {
    "USDC": "50000000",
    "USDT": "20000000",
    "BTC": "1000",
    "ETH": "20000",
    "SOL": "400000",
}
POLL_SECONDS: Final = 0.5
FAULT_RETRY_SECONDS: Final = 0.5
REPLY_TIMEOUT_SECONDS: Final = 60.0
MAKER_FLAGS: Final = OrderFlags(post_only=True)


@dataclass(frozen=True, slots=True)
class Ladder:
    """How the market maker quotes: `levels` per side, `spacing_wad` apart, `notional` quote units each."""

    levels: int = 5
    spacing_wad: int = WAD // 2_000  # 0.05% of the index between levels
    level_notional: int = 20_000  # quote units (USDC) per level, so sizes suit each market's price


@dataclass(frozen=True, slots=True)
class Quote:
    """One order of a ladder."""

    side: OrderSide
    price_wad: int
    quantity_atoms: int


def find_market_maker(state: EngineState) -> SubaccountId | None:
    """Return the market maker's subaccount, if one was created in this journal."""
    return state.api_keys.get(MARKET_MAKER_API_KEY)


def market_maker_funds_atoms(specs: Mapping[str, AssetSpec]) -> tuple[tuple[str, int], ...]:
    """Return what the market maker is funded with, in atoms of each listed asset."""
    return tuple(
        (symbol, parse_decimal(quantity, specs[symbol].decimals))
        for symbol, quantity in MARKET_MAKER_FUNDS.items()
        if symbol in specs
    )


def ensure_market_maker(service: Service) -> tuple[SubaccountId, bool]:
    """Return the market maker's subaccount, creating and funding it if the journal has none."""
    found = service.read(find_market_maker)
    if found is not None:
        return found, False
    result = service.execute(CreateAccount(api_keys=(MARKET_MAKER_API_KEY,)))
    assert isinstance(result, Accepted), f"a fresh API key is always accepted: {result}"
    created = next(event for event in result.events if isinstance(event, AccountCreated))
    for symbol, atoms in market_maker_funds_atoms(service.read(lambda state: dict(state.specs))):
        funded = service.execute(Deposit(created.subaccount_id, symbol, atoms))
        assert isinstance(funded, Accepted), f"a deposit of a listed asset is always accepted: {funded}"
    return created.subaccount_id, True


def index_price_wad(state: EngineState, spec: MarketSpec) -> int | None:
    """Return a market's index: its base's mark in units of its quote's mark (WAD), if both are set."""
    base, quote = state.mark_prices_wad.get(spec.base, 0), state.mark_prices_wad.get(spec.quote, 0)
    if base <= 0 or quote <= 0:
        return None
    return base * WAD // quote


def ladder_quotes(spec: MarketSpec, index_wad: int, ladder: Ladder) -> list[Quote]:
    """Return the ladder around an index: bids rounded down and asks up to the tick, sized by notional."""
    tick = spec.tick_size_wad
    quotes: list[Quote] = []
    for level in range(1, ladder.levels + 1):
        offset = index_wad * ladder.spacing_wad * level // WAD
        bid = (index_wad - offset) // tick * tick
        ask = -(-(index_wad + offset) // tick) * tick
        if ask <= bid:
            ask = bid + tick
        for side, price in ((OrderSide.BID, bid), (OrderSide.ASK, ask)):
            quantity = ladder.level_notional * WAD * spec.base_unit_atoms // price if price > 0 else 0
            quantity -= quantity % spec.step_atoms
            if price > 0 and quantity >= max(spec.min_quantity_atoms, spec.step_atoms):
                quotes.append(Quote(side, price, quantity))
    return quotes


@dataclass(frozen=True, slots=True)
class _Book:
    """What the market maker reads of one market before deciding to requote it."""

    spec: MarketSpec
    index_wad: int | None
    open_orders: int


def _read_books(state: EngineState, subaccount_id: SubaccountId) -> list[_Book]:
    counts: dict[str, int] = {}
    for order_id in state.open_order_ids.get(subaccount_id, {}):
        market = state.orders[order_id].market
        counts[market] = counts.get(market, 0) + 1
    return [
        _Book(spec, index_price_wad(state, spec), counts.get(symbol, 0))
        for symbol, spec in sorted(state.markets.items())
    ]


class MarketMaker:
    """Quotes every open book around its index from one subaccount, on its own thread."""

    def __init__(
        self,
        service: Service,
        subaccount_id: SubaccountId,
        *,
        ladder: Ladder | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """Quote as `subaccount_id` (see `ensure_market_maker`); call `start` to run the thread."""
        self._service = service
        self.subaccount_id = subaccount_id
        self._ladder = ladder or Ladder()
        self._poll_seconds = poll_seconds
        self._quoted_index: dict[str, int] = {}
        self._placed: dict[str, int] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-market-maker", daemon=True)
        self.requotes = 0
        self.refusals: list[str] = []

    def requote_due(self) -> int:
        """Requote every market whose index changed or whose ladder was hit; return how many were requoted."""
        books = self._service.read(lambda state: _read_books(state, self.subaccount_id))
        due = [book for book in books if self._is_due(book)]
        commands: list[tuple[str, Command]] = []
        for book in due:
            if book.open_orders:
                commands.append((book.spec.symbol, CancelAllOrders(self.subaccount_id, book.spec.symbol)))
            if book.index_wad is not None and book.spec.state is BookState.OPEN:
                commands.extend((book.spec.symbol, command) for command in self._orders(book.spec, book.index_wad))
        futures = [(market, command, self._service.submit(command)) for market, command in commands]
        placed = {book.spec.symbol: 0 for book in due}
        for market, command, future in futures:
            if self._accepted(command, future) and isinstance(command, PlaceOrder):
                placed[market] += 1
        for book in due:
            self._placed[book.spec.symbol] = placed[book.spec.symbol]
            if book.index_wad is None:
                self._quoted_index.pop(book.spec.symbol, None)
            else:
                self._quoted_index[book.spec.symbol] = book.index_wad
        self.requotes += len(due)
        return len(due)

    def _is_due(self, book: _Book) -> bool:
        symbol = book.spec.symbol
        if book.index_wad != self._quoted_index.get(symbol):
            return True
        # A filled (or cancelled) order of ours: refill the ladder, but never chase orders the engine refused.
        return book.open_orders < self._placed.get(symbol, 0)

    def _orders(self, spec: MarketSpec, index_wad: int) -> list[PlaceOrder]:
        return [
            PlaceOrder(
                self.subaccount_id,
                spec.symbol,
                quote.side,
                OrderType.LIMIT,
                quote.quantity_atoms,
                quote.price_wad,
                time_in_force=TimeInForce.GTC,
                flags=MAKER_FLAGS,
            )
            for quote in ladder_quotes(spec, index_wad, self._ladder)
        ]

    def _accepted(self, command: Command, future: Future[Accepted | Rejected]) -> bool:
        result = future.result(REPLY_TIMEOUT_SECONDS)
        if isinstance(result, Accepted):
            return True
        message = f"{command}: {result.rejection.message}"
        self.refusals = [*self.refusals[-99:], message]
        LOG.info("the market maker's order was refused: %s", message)
        return False

    # The thread -----------------------------------------------------------------------------

    def start(self) -> None:
        """Quote every market now and start following the index."""
        add_listener = getattr(self._service, "add_listener", None)
        if add_listener is not None:
            add_listener(self._on_batch)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (its orders stay on the books)."""
        remove_listener = getattr(self._service, "remove_listener", None)
        if remove_listener is not None:
            remove_listener(self._on_batch)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _on_batch(self, batch: object) -> None:
        """Wake the thread when a price changed or one of our orders traded (runs on the sequencer: quick)."""
        for event in getattr(batch, "events", ()):
            if isinstance(event, MarkPricesSet) or (
                isinstance(event, Traded) and event.fill.maker_subaccount_id == self.subaccount_id
            ):
                self._wake.set()
                return

    def forget_quotes(self) -> None:
        """Forget what was quoted, so that the next requote covers every market from scratch."""
        self._quoted_index.clear()
        self._placed.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.requote_due()
            except (ServiceClosedError, ServiceFailedError):
                return  # the service is going away; the service logged why
            except ServiceUnavailableError:
                # A journal fault (the service logs it): quote everything again once the state is rebuilt.
                self.forget_quotes()
                self._stop.wait(FAULT_RETRY_SECONDS)
                continue
            except Exception:  # a bug: the demo goes on without quotes
                LOG.exception("the market maker stopped quoting")
                return
            self._wake.wait(self._poll_seconds)
