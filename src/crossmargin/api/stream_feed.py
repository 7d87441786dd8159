"""From committed batches to stream messages, on the sequencer thread.

`StreamFeed.on_batch` is a `Service` listener: it runs after each durable batch, under the state
lock, so it reads the books, marks and balances exactly as the batch left them. It keeps what the
messages need across batches (each book's last depth update id, the 24-hour fill windows, each
perp position's last size) and builds only the messages someone follows (`wants`), then hands
them to `deliver` (which must not block: the hub posts them to its event loop).

Besides the messages of each event, after the batch: `bookTicker.<symbol>` when the top of a
touched book changed, `openInterest.<symbol>` when a perp market's open interest changed, and a
`liquidation` message for each fill of a liquidation order (`stream_public.py`). The realtime
depth diff is built when anyone follows `depth.<symbol>` or one of its aggregated streams
(`stream_depth.py`, gathered on the hub's event loop).

`kline.<interval>.<symbol>` reads the candles from the service's `MarketHistory`, which the
service feeds before any listener runs: the candle a batch traded in, and the close (`X` true) of
a candle once a batch runs past its end.

`engine.update` (ours) says, once per batch, what kinds of thing changed besides orders, trades and
books, so a page knows to refetch.

Topics: a public stream's topic is its name (`depth.BTC_USDC`); a private stream's topic is its
name and the subaccount, `account.orderUpdate@7`, so one subaccount never sees another's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Final

from crossmargin.api.stream_depth import INTERVALS_MS, aggregated_stream
from crossmargin.api.stream_messages import (
    ENGINE_UPDATE,
    DepthUpdate,
    Level,
    MarkPrice,
    PositionContext,
    accepted_event_type,
    balance_data,
    depth_data,
    engine_update_data,
    engine_update_kinds,
    fill_data,
    kline_data,
    mark_price_data,
    order_data,
    order_event_type,
    position_data,
    position_event_type,
    ticker_data,
    trade_data,
)
from crossmargin.api.stream_public import BookTop, Top, book_ticker_data, liquidation_data, open_interest_data
from crossmargin.api.stream_ticker import TickerWindow
from crossmargin.api.views.common import JsonObject, reader
from crossmargin.api.views.market_data import book_update_id
from crossmargin.app.market_history import KLINE_INTERVALS, Candle, MarketHistory, PriceKind
from crossmargin.app.service import BatchCommitted
from crossmargin.core.events import (
    ChangeKind,
    Event,
    LiquidationStepped,
    MarkPricesSet,
    OrderChanged,
    PerpMarksSet,
    PerpPositionChanged,
    PositionsSettled,
    Traded,
    asset_named,
    change_kind,
    subaccounts_touched,
)
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.margin import leverage_floor_wad
from crossmargin.core.orders import (
    Order,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    SystemOrderType,
    TimeInForce,
)
from crossmargin.core.perp_funding import compute_funding_rate
from crossmargin.core.state import EngineState

HOUR_MS: Final = 3_600_000
LIQUIDATION: Final = "liquidation"
LIQUIDATING_ORDER_TYPES: Final = frozenset(
    {SystemOrderType.LIQUIDATE_POSITION_ON_BOOK, SystemOrderType.LIQUIDATE_POSITION_ON_ADL}
)
"""System orders that are always liquidations; a liquidation's spot orders (collateral conversions)
are told from a settlement's by the `LiquidationStepped` event that names them."""
ORDER_UPDATE: Final = "account.orderUpdate"
POSITION_UPDATE: Final = "account.positionUpdate"
BALANCE_UPDATE: Final = "account.balanceUpdate"

BALANCE_KINDS: Final = frozenset(
    {ChangeKind.DEPOSIT, ChangeKind.WITHDRAWAL, ChangeKind.TRANSFER, ChangeKind.BORROW_LEND, ChangeKind.SETTLEMENT}
)
"""Kinds whose events name the asset they moved for the subaccounts they touched: a balanceUpdate each.

Orders and trades name a market (their assets come from its spec) and a settlement the USDC it
moved; both are handled where their own messages are built. Liquidation events are of none of
these kinds: a step's repays, redeems and trades come as their own borrow-lend, order and trade events.
"""

Outgoing = tuple[str, str, JsonObject]
"""(topic, stream name, data) of one message."""


def private_topic(stream: str, subaccount_id: int) -> str:
    """Return the topic of a private stream for one subaccount."""
    return f"{stream}@{subaccount_id}"


def rests(order: Order) -> bool:
    """Return whether an order can ever rest in the book (and so change the depth): not a trigger not yet fired."""
    entered = order.trigger is None or order.trigger.triggered_ms is not None
    return order.order_type is OrderType.LIMIT and order.time_in_force is TimeInForce.GTC and entered


def level_quantity(state: EngineState, market: str, side: OrderSide, price_wad: int) -> int:
    """Return the total remaining quantity resting at one price of one side of a book."""
    book = state.books.get(market)
    if book is None:
        return 0
    book_side = book.side(side)
    level = book_side.levels.get(book_side.sign * price_wad)
    if level is None:
        return 0
    return sum(state.orders[order_id].remaining_atoms for order_id in level)


def book_top(state: EngineState, market: str) -> BookTop:
    """Return the best bid and ask of a market's book with the total quantity at each."""
    book = state.books.get(market)
    if book is None:
        return BookTop(None, None)

    def best(side: OrderSide) -> Top:
        price = book.side(side).best_price()
        return None if price is None else (price, level_quantity(state, market, side, price))

    return BookTop(best(OrderSide.BID), best(OrderSide.ASK))


@dataclass(slots=True)
class _Batch:
    """What one batch builds: the messages, and what it touched."""

    state: EngineState
    now_ms: int
    out: list[Outgoing] = field(default_factory=list)
    levels: dict[str, set[tuple[OrderSide, int]]] = field(default_factory=dict)
    balances: dict[tuple[SubaccountId, str], None] = field(default_factory=dict)
    settled: dict[tuple[SubaccountId, str], None] = field(default_factory=dict)
    pending_fills: dict[OrderId, list[Fill]] = field(default_factory=dict)
    traded_markets: dict[str, None] = field(default_factory=dict)
    perp_markets: dict[str, None] = field(default_factory=dict)
    system_fills: list[Fill] = field(default_factory=list)
    liquidation_orders: set[int] = field(default_factory=set)


class StreamFeed:
    """Builds the stream messages of each committed batch."""

    def __init__(
        self,
        state: EngineState,
        wants: Callable[[str], bool],
        deliver: Callable[[list[Outgoing]], None],
        history: MarketHistory | None = None,
    ) -> None:
        """Start from `state` (call inside `Service.read`, then add the listener there).

        Without `history` (the service's market history) no `kline` stream is served.
        """
        self._history = history
        self._open_klines: dict[str, tuple[str, Candle]] = {}
        """The candle each kline stream last sent while it was open, with its market: it is closed later."""
        self._wants = wants
        self._deliver = deliver
        self._start_id = book_update_id(state)
        self._depth_ids: dict[str, int] = {}
        self._windows: dict[str, TickerWindow] = {}
        for fill in state.fills:
            self._window(fill.market).add(fill.at_ms, fill.price_wad, fill.quantity_atoms, fill.quote_atoms)
        self._sizes = {key: position.quantity_atoms for key, position in state.perp_positions.items()}
        self._tops: dict[str, BookTop] = {}
        self._open_interest = dict(state.open_interest_atoms)

    def depth_id(self, market: str) -> int:
        """Return the last depth update id of a book (the id at the start if it never changed since)."""
        return self._depth_ids.get(market, self._start_id)

    def on_batch(self, batch: BatchCommitted) -> None:
        """Build the batch's messages and hand them on (the `Service` listener)."""
        work = _Batch(batch.state, batch.now_ms)
        for event in batch.events:
            self._take(work, event)
        self._finish(work)
        if self._wants(ENGINE_UPDATE):
            kinds = engine_update_kinds(batch.events)
            if kinds:
                work.out.append((ENGINE_UPDATE, ENGINE_UPDATE, engine_update_data(batch.now_ms, kinds)))
        if work.out:
            self._deliver(work.out)

    def _window(self, market: str) -> TickerWindow:
        window = self._windows.get(market)
        if window is None:
            window = self._windows[market] = TickerWindow()
        return window

    def _take(self, work: _Batch, event: Event) -> None:
        match event:
            case OrderChanged(order=order):
                self._order_changed(work, order, event.at_ms)
            case Traded(fill=fill):
                self._traded(work, fill)
            case PerpPositionChanged(position=position):
                self._position_changed(work, position.subaccount_id, position.market, event)
            case PositionsSettled(market=market):
                for subaccount_id in event.subaccounts():
                    work.settled[(subaccount_id, market)] = None
                    work.balances[(subaccount_id, "USDC")] = None
            case PerpMarksSet(marks_wad=marks):
                self._marks(work, ((symbol, mark) for symbol, mark in marks), event.at_ms)
            case MarkPricesSet(prices_wad=prices):
                spot = ((f"{asset}_USDC", price) for asset, price in prices)
                self._marks(work, ((symbol, price) for symbol, price in spot if symbol in work.state.markets), 0)
            case _:
                if isinstance(event, LiquidationStepped):
                    work.liquidation_orders.add(event.order_id)
                for key in _balance_keys(event):
                    work.balances[key] = None

    # Orders and trades ----------------------------------------------------------------------

    def _order_changed(self, work: _Batch, order: Order, at_ms: int) -> None:
        spec = work.state.markets[order.market]
        fills = work.pending_fills.pop(order.order_id, [])
        new_taker = bool(fills) and fills[0].taker_order_id == order.order_id
        if rests(order) and (order.is_open or not new_taker):
            # A taker that never rested changed no level; every other resting order did.
            work.levels.setdefault(order.market, set()).add((order.side, order.price_wad))
        asset = spec.quote if order.side is OrderSide.BID else spec.base
        work.balances[(order.subaccount_id, asset)] = None
        topics = self._order_topics(order)
        if not topics:
            return
        updates: list[JsonObject] = []
        if new_taker:
            fresh = replace(order, status=OrderStatus.NEW, executed_atoms=0, executed_quote_atoms=0, expiry_reason=None)
            updates.append(order_data(spec, accepted_event_type(order), fresh, at_ms))
        executed = order.executed_atoms - sum(fill.quantity_atoms for fill in fills)
        executed_quote = order.executed_quote_atoms - sum(fill.quote_atoms for fill in fills)
        for fill in fills:
            executed += fill.quantity_atoms
            executed_quote += fill.quote_atoms
            status = OrderStatus.FILLED if executed == order.quantity_atoms else OrderStatus.PARTIALLY_FILLED
            state = replace(order, status=status, executed_atoms=executed, executed_quote_atoms=executed_quote)
            fee_symbol = fill.maker_fee_symbol if fill.maker_order_id == order.order_id else fill.taker_fee_symbol
            updates.append(fill_data(spec, state, fill, work.state.specs[fee_symbol].decimals))
        if not fills or order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            updates.append(order_data(spec, order_event_type(order), order, at_ms))
        for data in updates:
            work.out.extend((topic, stream, data) for topic, stream in topics)

    def _order_topics(self, order: Order) -> list[tuple[str, str]]:
        streams = (ORDER_UPDATE, f"{ORDER_UPDATE}.{order.market}")
        topics = [(private_topic(stream, order.subaccount_id), stream) for stream in streams]
        return [(topic, stream) for topic, stream in topics if self._wants(topic)]

    def _traded(self, work: _Batch, fill: Fill) -> None:
        work.pending_fills.setdefault(fill.maker_order_id, []).append(fill)
        work.pending_fills.setdefault(fill.taker_order_id, []).append(fill)
        self._window(fill.market).add(fill.at_ms, fill.price_wad, fill.quantity_atoms, fill.quote_atoms)
        work.traded_markets[fill.market] = None
        if fill.system_order_type is not SystemOrderType.NONE:
            work.system_fills.append(fill)
        spec = work.state.markets[fill.market]
        for subaccount in (fill.maker_subaccount_id, fill.taker_subaccount_id):
            work.balances[(subaccount, spec.base)] = None
            work.balances[(subaccount, spec.quote)] = None
        stream = f"trade.{fill.market}"
        if self._wants(stream):
            work.out.append((stream, stream, trade_data(spec, fill)))

    # Positions and marks --------------------------------------------------------------------

    def _position_changed(
        self, work: _Batch, subaccount: SubaccountId, market: str, event: PerpPositionChanged
    ) -> None:
        key = (subaccount, market)
        before = self._sizes.get(key, 0)
        after = event.position.quantity_atoms
        if after:
            self._sizes[key] = after
        else:
            self._sizes.pop(key, None)
        work.settled.pop(key, None)
        work.perp_markets[market] = None
        topics = self._position_topics(subaccount, market)
        if topics:
            spec = work.state.markets[market]
            context = position_context(work.state, subaccount, market, event.at_ms)
            data = position_data(spec, position_event_type(before, after), event.position, context)
            work.out.extend((topic, stream, data) for topic, stream in topics)

    def _position_topics(self, subaccount: SubaccountId, market: str) -> list[tuple[str, str]]:
        streams = (POSITION_UPDATE, f"{POSITION_UPDATE}.{market}")
        topics = [(private_topic(stream, subaccount), stream) for stream in streams]
        return [(topic, stream) for topic, stream in topics if self._wants(topic)]

    def _marks(self, work: _Batch, marks: Iterable[tuple[str, int]], at_ms: int) -> None:
        state = work.state
        next_funding_ms = (work.now_ms // HOUR_MS + 1) * HOUR_MS
        for symbol, mark in marks:
            stream = f"markPrice.{symbol}"
            if not self._wants(stream):
                continue
            spec = state.markets[symbol]
            index = state.mark_prices_wad.get(spec.base, 0)
            rate = compute_funding_rate(reader(state), spec) if spec.is_perp else 0
            when = at_ms or work.now_ms
            work.out.append(
                (stream, stream, mark_price_data(MarkPrice(symbol, mark, index, rate, next_funding_ms, when)))
            )

    # After every event ----------------------------------------------------------------------

    def _finish(self, work: _Batch) -> None:
        state = work.state
        update_id = book_update_id(state)
        for market, touched in work.levels.items():
            self._depth(work, market, touched, update_id)
            self._book_ticker(work, market, update_id)
        self._open_interests(work)
        self._liquidations(work)
        for market in work.traded_markets:
            window = self._window(market)
            window.expire(work.now_ms)
            stats = window.stats()
            stream = f"ticker.{market}"
            if stats is not None and self._wants(stream):
                work.out.append((stream, stream, ticker_data(state.markets[market], stats, work.now_ms)))
        for subaccount, market in work.settled:
            position = state.perp_positions.get((subaccount, market))
            topics = self._position_topics(subaccount, market)
            if position is not None and topics:
                context = position_context(state, subaccount, market, work.now_ms)
                data = position_data(state.markets[market], "positionAdjusted", position, context)
                work.out.extend((topic, stream, data) for topic, stream in topics)
        self._klines(work)
        self._balances(work)

    def _klines(self, work: _Batch) -> None:
        """Send the candle of each kline stream followed in a market the batch traded in; close those that ended."""
        history = self._history
        if history is None:
            return
        markets = work.state.markets
        for stream, (market, candle) in list(self._open_klines.items()):
            if candle.end_ms <= work.now_ms:
                del self._open_klines[stream]
                if self._wants(stream):
                    work.out.append((stream, stream, kline_data(markets[market], candle, work.now_ms, closed=True)))
        for market in work.traded_markets:
            record = history.markets[market]
            for interval in KLINE_INTERVALS:
                stream = f"kline.{interval}.{market}"
                if not self._wants(stream):
                    continue
                candle = record.series(PriceKind.LAST, interval)[-1]
                work.out.append((stream, stream, kline_data(markets[market], candle, work.now_ms, closed=False)))
                self._open_klines[stream] = (market, candle)

    def _depth(self, work: _Batch, market: str, touched: set[tuple[OrderSide, int]], update_id: int) -> None:
        first = self.depth_id(market) + 1
        self._depth_ids[market] = update_id
        stream = f"depth.{market}"
        if not self._wants(stream) and not any(self._wants(aggregated_stream(i, market)) for i in INTERVALS_MS):
            return
        asks: list[Level] = []
        bids: list[Level] = []
        for side, price in sorted(touched, key=lambda level: level[1]):
            level = (price, level_quantity(work.state, market, side, price))
            (bids if side is OrderSide.BID else asks).append(level)
        update = DepthUpdate(tuple(asks), tuple(bids), first, update_id, work.now_ms)
        work.out.append((stream, stream, depth_data(work.state.markets[market], update)))

    def _book_ticker(self, work: _Batch, market: str, update_id: int) -> None:
        stream = f"bookTicker.{market}"
        if not self._wants(stream):
            # Nobody follows: forget the top rather than track it, so a new follower's first
            # change is sent even if it left the top as it was (one message more, never one less).
            self._tops.pop(market, None)
            return
        top = book_top(work.state, market)
        if top == self._tops.get(market):
            return
        self._tops[market] = top
        work.out.append((stream, stream, book_ticker_data(work.state.markets[market], top, update_id, work.now_ms)))

    def _open_interests(self, work: _Batch) -> None:
        for market in work.perp_markets:
            atoms = work.state.open_interest_atoms.get(market, 0)
            if atoms == self._open_interest.get(market, 0):
                continue
            self._open_interest[market] = atoms
            stream = f"openInterest.{market}"
            if self._wants(stream):
                work.out.append((stream, stream, open_interest_data(work.state.markets[market], atoms, work.now_ms)))

    def _liquidations(self, work: _Batch) -> None:
        if not self._wants(LIQUIDATION):
            return
        for fill in work.system_fills:
            if fill.system_order_type in LIQUIDATING_ORDER_TYPES or fill.taker_order_id in work.liquidation_orders:
                work.out.append((LIQUIDATION, LIQUIDATION, liquidation_data(work.state.markets[fill.market], fill)))

    def _balances(self, work: _Batch) -> None:
        state = work.state
        view = None
        for subaccount, symbol in work.balances:
            topic = private_topic(BALANCE_UPDATE, subaccount)
            spec = state.specs.get(symbol)
            if spec is None or not self._wants(topic):
                continue
            view = view or reader(state)
            work.out.append((topic, BALANCE_UPDATE, balance_data(spec, view.holding(subaccount, symbol), work.now_ms)))


def position_context(state: EngineState, subaccount: SubaccountId, market: str, at_ms: int) -> PositionContext:
    """Return what a subaccount's position message on `market` needs besides the position."""
    mark = state.perp_marks_wad.get(market) or state.mark_prices_wad.get(state.markets[market].base, 0)
    floor = leverage_floor_wad(state.subaccounts[subaccount].leverage_limit)
    # The same estimate as REST's estLiquidationPrice: a search of ~8-15 margin computations of one
    # subaccount, made only for a subaccount that follows its positions.
    liquidation = estimate_liquidation_price(reader(state), subaccount, state.markets[market].base)
    return PositionContext(mark, floor, at_ms, liquidation)


def _balance_keys(event: Event) -> Iterable[tuple[SubaccountId, str]]:
    """Return the (subaccount, asset) balances that an event of a `BALANCE_KINDS` kind moved."""
    symbol = asset_named(event)
    if symbol is None or change_kind(event) not in BALANCE_KINDS:
        return ()
    return ((subaccount, symbol) for subaccount in subaccounts_touched(event))
