"""The demo market maker: a ladder of bids and asks around the index on every book, skewed by inventory.

In demo mode nobody else provides liquidity, so collateral conversions and liquidations would
find no counterparty. The market maker is an ordinary subaccount, created and funded with
ordinary commands (`CreateAccount`, `Deposit`) and trading through the same engine and rules as
anyone: it places post-only GTC limit orders, its spot bids and asks lock what they may spend, its
perp orders reserve margin, and an order the engine refuses is simply not on the book.

How it quotes each market (spread, levels, depth, skew) comes from the market's optional `maker*`
fields in the markets file (`maker_config.py`); a market without them gets the plain `Ladder()`.
The ladder is centred on the index moved against the maker's inventory in that market (its perp
position, or for spot its base holding beyond what it was funded with): long inventory moves both
sides down, so it sells more than it buys, by at most `max_skew_wad` of the index. With a perp
book so skewed, its mid sits off the index, and that premium is what the hourly funding charges.

It is recognised across restarts by its API key, `MARKET_MAKER_API_KEY`, which is not base64 and
so can never verify a signature: nobody can sign as it. `crossmargin serve` opens and funds it in
the demo's one seeding command (`SeedDemo`); `ensure_market_maker` finds it there, and creates it
only in a journal seeded otherwise. On its own thread it cancels and re-places a market's ladder
when the market's index (base mark / quote mark) has moved a level (the ladder's spacing, or its
best level's offset if wider) since it quoted, when the maker's inventory skew changes, or when
one of its orders there was filled; it learns of these from a batch listener on the service where
there is one, and otherwise by polling every `poll_seconds`. It never waits inside the sequencer.
When it starts, and after a journal fault (the service refused it with `ServiceUnavailableError`
and has since rebuilt its state from the journal), it forgets what it quoted and requotes every
market, so a book left one-sided by a crash between a cancel and the re-place is whole again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final

from crossmargin.app.faults import FAULT_RETRY_SECONDS
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
from crossmargin.core.statement import holding_total

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
REPLY_TIMEOUT_SECONDS: Final = 60.0
MAKER_FLAGS: Final = OrderFlags(post_only=True)


@dataclass(frozen=True, slots=True)
class Ladder:
    """How the market maker quotes one market (all fractions WAD, of the index; notionals in quote units).

    `levels` bids and `levels` asks, each of `level_notional`: the best `half_spread_wad` (one
    `spacing_wad` when None) from the centre, the next ones `spacing_wad` further each. The centre
    is the index moved by `max_skew_wad` times the maker's inventory over `inventory_limit` (capped
    at one), against the inventory; `inventory_limit` 0 means no skew.
    """

    levels: int = 5
    spacing_wad: int = WAD // 2_000  # 0.05% of the index between levels
    level_notional: int = 20_000  # quote units (USDC) per level, so sizes suit each market's price
    half_spread_wad: int | None = None
    max_skew_wad: int = 0
    inventory_limit: int = 0

    def offset_wad(self, level: int) -> int:
        """Return how far level `level` (1 = best) sits from the centre, as a fraction of the index."""
        first = self.spacing_wad if self.half_spread_wad is None else self.half_spread_wad
        return first + self.spacing_wad * (level - 1)

    def skew_wad(self, inventory_notional: int) -> int:
        """Return how far the centre moves from the index (signed fraction) for an inventory worth this much."""
        if self.inventory_limit <= 0 or not self.max_skew_wad:
            return 0
        capped = max(-self.inventory_limit, min(self.inventory_limit, inventory_notional))
        moved = abs(capped) * self.max_skew_wad // self.inventory_limit
        return -moved if capped > 0 else moved


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
    return ensure_funded_subaccount(service, MARKET_MAKER_API_KEY, market_maker_funds_atoms)


def ensure_funded_subaccount(
    service: Service,
    api_key: str,
    funds: Callable[[Mapping[str, AssetSpec]], tuple[tuple[str, int], ...]],
) -> tuple[SubaccountId, bool]:
    """Return the subaccount of `api_key`, creating it with ordinary commands and depositing `funds` if none."""
    found = service.read(lambda state: state.api_keys.get(api_key))
    if found is not None:
        return found, False
    result = service.execute(CreateAccount(api_keys=(api_key,)))
    assert isinstance(result, Accepted), f"a fresh API key is always accepted: {result}"
    created = next(event for event in result.events if isinstance(event, AccountCreated))
    for symbol, atoms in funds(service.read(lambda state: dict(state.specs))):
        funded = service.execute(Deposit(created.subaccount_id, symbol, atoms))
        assert isinstance(funded, Accepted), f"a deposit of a listed asset is always accepted: {funded}"
    return created.subaccount_id, True


def index_price_wad(state: EngineState, spec: MarketSpec) -> int | None:
    """Return a market's index: its base's mark in units of its quote's mark (WAD), if both are set."""
    base, quote = state.mark_prices_wad.get(spec.base, 0), state.mark_prices_wad.get(spec.quote, 0)
    if base <= 0 or quote <= 0:
        return None
    return base * WAD // quote


def ladder_quotes(spec: MarketSpec, index_wad: int, ladder: Ladder, skew_wad: int = 0) -> list[Quote]:
    """Return the ladder around an index moved by `skew_wad`: bids rounded down and asks up to the tick."""
    tick = spec.tick_size_wad
    centre = index_wad * (WAD + skew_wad) // WAD
    quotes: list[Quote] = []
    for level in range(1, ladder.levels + 1):
        offset = index_wad * ladder.offset_wad(level) // WAD
        bid = (centre - offset) // tick * tick
        ask = -(-(centre + offset) // tick) * tick
        if ask <= bid:
            ask = bid + tick
        for side, price in ((OrderSide.BID, bid), (OrderSide.ASK, ask)):
            quantity = ladder.level_notional * WAD * spec.base_unit_atoms // price if price > 0 else 0
            quantity -= quantity % spec.step_atoms
            if price > 0 and quantity >= max(spec.min_quantity_atoms, spec.step_atoms):
                quotes.append(Quote(side, price, quantity))
    return quotes


def inventory_atoms(
    state: EngineState, subaccount_id: SubaccountId, spec: MarketSpec, funded: Mapping[str, int]
) -> int:
    """Return the maker's inventory in a market: its perp position, or its base holding beyond `funded`."""
    if spec.is_perp:
        position = state.perp_positions.get((subaccount_id, spec.symbol))
        return position.quantity_atoms if position is not None else 0
    return holding_total(state, subaccount_id, spec.base) - funded.get(spec.base, 0)


def inventory_notional(spec: MarketSpec, atoms: int, index_wad: int) -> int:
    """Return what an inventory of `atoms` base atoms is worth at the index, in whole quote units (signed)."""
    worth = abs(atoms) * index_wad // (WAD * spec.base_unit_atoms)
    return worth if atoms >= 0 else -worth


@dataclass(frozen=True, slots=True)
class _Book:
    """What the market maker reads of one market before deciding to requote it."""

    spec: MarketSpec
    index_wad: int | None
    open_orders: int
    inventory_atoms: int


def _read_books(state: EngineState, subaccount_id: SubaccountId) -> list[_Book]:
    counts: dict[str, int] = {}
    for order_id in state.open_order_ids.get(subaccount_id, {}):
        market = state.orders[order_id].market
        counts[market] = counts.get(market, 0) + 1
    funded = dict(market_maker_funds_atoms(state.specs))
    return [
        _Book(
            spec,
            index_price_wad(state, spec),
            counts.get(symbol, 0),
            inventory_atoms(state, subaccount_id, spec, funded),
        )
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
        ladders: Mapping[str, Ladder] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        """Quote as `subaccount_id` (see `ensure_market_maker`); call `start` to run the thread.

        `ladders` names each market's ladder (from the markets file: `maker_config.py`); any other
        market is quoted with `ladder` (the plain `Ladder()` by default).
        """
        self._service = service
        self.subaccount_id = subaccount_id
        self._ladder = ladder or Ladder()
        self._ladders = dict(ladders or {})
        self._poll_seconds = poll_seconds
        self._quoted: dict[str, tuple[int, int]] = {}
        self._placed: dict[str, int] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crossmargin-market-maker", daemon=True)
        self.requotes = 0
        self.refusals: list[str] = []

    def ladder(self, market: str) -> Ladder:
        """Return how the maker quotes a market."""
        return self._ladders.get(market, self._ladder)

    def requote_due(self) -> int:
        """Requote every market whose index or skew changed or whose ladder was hit; return how many."""
        books = self._service.read(lambda state: _read_books(state, self.subaccount_id))
        due = [(book, self._centre(book)) for book in books]
        due = [(book, centre) for book, centre in due if self._is_due(book, centre)]
        commands: list[tuple[str, Command]] = []
        for book, centre in due:
            if book.open_orders:
                commands.append((book.spec.symbol, CancelAllOrders(self.subaccount_id, book.spec.symbol)))
            if centre is not None and book.spec.state is BookState.OPEN:
                commands.extend((book.spec.symbol, command) for command in self._orders(book.spec, *centre))
        futures = [(market, command, self._service.submit(command)) for market, command in commands]
        placed = {book.spec.symbol: 0 for book, _ in due}
        for market, command, future in futures:
            if self._accepted(command, future) and isinstance(command, PlaceOrder):
                placed[market] += 1
        for book, centre in due:
            self._placed[book.spec.symbol] = placed[book.spec.symbol]
            if centre is None:
                self._quoted.pop(book.spec.symbol, None)
            else:
                self._quoted[book.spec.symbol] = centre
        self.requotes += len(due)
        return len(due)

    def _centre(self, book: _Book) -> tuple[int, int] | None:
        """Return the (index, skew) a market's ladder would be quoted around now (None without an index)."""
        if book.index_wad is None:
            return None
        notional = inventory_notional(book.spec, book.inventory_atoms, book.index_wad)
        return book.index_wad, self.ladder(book.spec.symbol).skew_wad(notional)

    def _is_due(self, book: _Book, centre: tuple[int, int] | None) -> bool:
        symbol = book.spec.symbol
        quoted = self._quoted.get(symbol)
        if centre != quoted and not self._within_tolerance(symbol, centre, quoted):
            return True
        # A filled (or cancelled) order of ours: refill the ladder, but never chase orders the engine refused.
        return book.open_orders < self._placed.get(symbol, 0)

    def _within_tolerance(self, symbol: str, centre: tuple[int, int] | None, quoted: tuple[int, int] | None) -> bool:
        """Return whether quotes around `quoted` still stand for `centre`: same skew, index moved less than a level.

        A ladder is re-placed (every order cancelled and placed anew, each kept in the order history)
        only once the index has moved a whole level spacing (or the best level's offset, if wider):
        re-placing it on every price tick would grow the history by a ladder a second.
        """
        if centre is None or quoted is None or centre[1] != quoted[1]:
            return False
        ladder = self.ladder(symbol)
        tolerance = max(ladder.spacing_wad, ladder.offset_wad(1))
        return abs(centre[0] - quoted[0]) * WAD < tolerance * quoted[0]

    def _orders(self, spec: MarketSpec, index_wad: int, skew_wad: int) -> list[PlaceOrder]:
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
            for quote in ladder_quotes(spec, index_wad, self.ladder(spec.symbol), skew_wad)
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
        self._quoted.clear()
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
