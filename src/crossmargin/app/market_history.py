"""Market history kept beside the engine: K-lines of Last, Mark and Index prices, each market's trades, open interest.

`MarketHistory` is fed the events of every durable batch by the service (`feed`), on the
sequencer thread and under the state lock, so a read sees it exactly as far as the state. Every
event it reads carries its own time (`Fill.at_ms`, `MarkPricesSet.at_ms`, `PerpMarksSet.at_ms`,
`PerpPositionChanged.at_ms`), so what it keeps is a function of the journal's events alone: the
same whether they arrive in one batch or in many, live or on replay.

- **K-lines**: per market, per Backpack interval (`KLINE_INTERVALS`, aligned to the epoch in UTC;
  weeks start on Monday, months on the 1st) and per price kind: `Last` from the fills (with
  volume and trade count), `Index` the market's index (base index price / quote index price,
  `core.marks.market_index_wad`'s definition, from `MarkPricesSet`), `Mark` the perp mark
  (`PerpMarksSet`); a spot market has no mark of its own, so its Mark K-lines are its index. A
  market's Index and Mark K-lines start at its first price event after it is listed (a perp's
  first mark, set by the very command that lists it once its assets have prices; for a spot
  market the next index price). Only the latest `CANDLES_MAX` candles of each (market, interval,
  kind) are kept; older ones are evicted.
- **Trades**: each market's fills in order (references to the engine's own `Fill` records), for
  `GET /api/v1/trades/history`.
- **Open interest**: per perp market, the sum of long sizes after each position change, one sample
  per minute in which it changed (the value and time of that minute's last change), the latest
  `OPEN_INTEREST_SAMPLES_MAX` kept.

It survives a restart through the snapshot: the service stores `encode()` beside the state and
`restore` takes it back with the snapshot's state; the journal records after the snapshot are fed
again as they are replayed. A snapshot without it (an older release) is not used: the whole journal
is replayed, so the history is rebuilt exactly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from crossmargin.core.events import Event, MarketsConfigured, MarkPricesSet, PerpMarksSet, PerpPositionChanged, Traded
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState

SECOND_MS: Final = 1_000
MINUTE_MS: Final = 60 * SECOND_MS
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
# The epoch was a Thursday: weeks start on Monday, four days later.
WEEK_OFFSET_MS: Final = 4 * DAY_MS
MONTH: Final = "1month"
KLINE_INTERVALS_MS: Final = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}
KLINE_INTERVALS: Final = (*KLINE_INTERVALS_MS, MONTH)
"""Backpack's `KlineInterval`, in order."""

CANDLES_MAX: Final = 1_000
"""Candles kept per (market, interval, price kind): the latest ones; older ones are evicted."""
OPEN_INTEREST_SAMPLES_MAX: Final = 1_000
"""Open-interest samples kept per perp market (one per minute in which it changed)."""
ENCODING_VERSION: Final = 1


class PriceKind(StrEnum):
    """Backpack's `KlinePriceType`: which price a K-line follows."""

    LAST = "Last"
    INDEX = "Index"
    MARK = "Mark"


def _month_start(at_ms: int) -> int:
    moment = datetime.fromtimestamp(at_ms // SECOND_MS, UTC)
    return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp()) * SECOND_MS


def _next_month(start_ms: int) -> int:
    moment = datetime.fromtimestamp(start_ms // SECOND_MS, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * SECOND_MS


def bucket(interval: str, at_ms: int) -> tuple[int, int]:
    """Return the [start, end) of the K-line of `interval` that holds `at_ms`, in ms."""
    if interval == MONTH:
        start = _month_start(at_ms)
        return start, _next_month(start)
    size = KLINE_INTERVALS_MS[interval]
    offset = WEEK_OFFSET_MS if interval == "1w" else 0
    start = (at_ms - offset) // size * size + offset
    return start, start + size


@dataclass(slots=True)
class Candle:
    """One K-line: its [start, end) in ms, OHLC (WAD) and, for Last, the volume and trade count."""

    start_ms: int
    end_ms: int
    open_wad: int
    high_wad: int
    low_wad: int
    close_wad: int
    volume_atoms: int = 0
    quote_atoms: int = 0
    trades: int = 0

    def price(self, price_wad: int) -> None:
        """Move the candle to a new price."""
        self.high_wad = max(self.high_wad, price_wad)
        self.low_wad = min(self.low_wad, price_wad)
        self.close_wad = price_wad

    def row(self) -> list[int]:
        """Return the candle as one JSON row of integers."""
        return [
            self.start_ms,
            self.end_ms,
            self.open_wad,
            self.high_wad,
            self.low_wad,
            self.close_wad,
            self.volume_atoms,
            self.quote_atoms,
            self.trades,
        ]


Series = deque[Candle]
"""One (market, interval, kind)'s candles by start time, at most `CANDLES_MAX`."""


def _candle_at(series: Series, interval: str, at_ms: int, price_wad: int) -> Candle:
    """Return the candle of `series` that holds `at_ms`, opening it at `price_wad` if it is new."""
    if series:
        last = series[-1]
        if last.start_ms <= at_ms < last.end_ms:
            return last
        if at_ms < last.start_ms:  # never on the engine's own events, which come in time order
            for candle in series:
                if candle.start_ms <= at_ms < candle.end_ms:
                    return candle
    start, end = bucket(interval, at_ms)
    candle = Candle(start, end, price_wad, price_wad, price_wad, price_wad)
    series.append(candle)  # a full deque drops its oldest candle
    return candle


@dataclass(slots=True)
class MarketRecord:
    """What is kept of one market: its assets, its candles per kind and interval, its fills."""

    base: str
    quote: str
    is_perp: bool
    candles: dict[PriceKind, dict[str, Series]] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    open_interest: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=OPEN_INTEREST_SAMPLES_MAX))
    """(time ms, open interest atoms) samples, the latest last."""

    def __post_init__(self) -> None:
        """Give every kind and interval its bounded series."""
        for kind in PriceKind:
            self.candles.setdefault(kind, {interval: deque(maxlen=CANDLES_MAX) for interval in KLINE_INTERVALS})

    def observe(self, kind: PriceKind, at_ms: int, price_wad: int) -> None:
        """Move every interval's candle of `kind` to `price_wad` at `at_ms`.

        A price that always exists (Index, Mark) opens a new candle where the last one closed:
        that was its price when the interval began.
        """
        for interval, series in self.candles[kind].items():
            opening = series[-1].close_wad if series else price_wad
            _candle_at(series, interval, at_ms, opening).price(price_wad)

    def trade(self, fill: Fill) -> None:
        """Add a fill to the market's trades and its Last candles."""
        self.fills.append(fill)
        price = fill.price_wad
        for interval, series in self.candles[PriceKind.LAST].items():
            candle = _candle_at(series, interval, fill.at_ms, price)
            candle.price(price)
            candle.volume_atoms += fill.quantity_atoms
            candle.quote_atoms += fill.quote_atoms
            candle.trades += 1

    def series(self, kind: PriceKind, interval: str) -> Series:
        """Return the kept candles of one kind and interval, oldest first."""
        return self.candles[kind][interval]


class MarketHistory:
    """The K-lines, trades and open interest of every market, fed from the engine's events."""

    def __init__(self) -> None:
        """Start empty; use `starting_from` or `restore` for a state that already has history."""
        self.markets: dict[str, MarketRecord] = {}
        self.index_prices_wad: dict[str, int] = {}
        self._sizes: dict[tuple[SubaccountId, str], int] = {}
        self._open_interest_atoms: dict[str, int] = {}

    @classmethod
    def starting_from(cls, state: EngineState) -> MarketHistory:
        """Return a history that knows `state`'s markets, prices, fills and positions, with no candles yet."""
        history = cls()
        history._take_state(state)
        return history

    def _take_state(self, state: EngineState) -> None:
        for spec in state.markets.values():
            self._listed(spec)
        for fill in state.fills:
            self.markets[fill.market].fills.append(fill)
        self.index_prices_wad = dict(state.mark_prices_wad)
        self._sizes = {key: position.quantity_atoms for key, position in state.perp_positions.items()}
        self._open_interest_atoms = {
            symbol: atoms for symbol, atoms in state.open_interest_atoms.items() if symbol in self.markets
        }

    def _listed(self, spec: MarketSpec) -> None:
        if spec.symbol not in self.markets:
            self.markets[spec.symbol] = MarketRecord(spec.base, spec.quote, spec.is_perp)

    # Feeding --------------------------------------------------------------------------------

    def feed(self, events: Iterable[Event], markets: Mapping[str, MarketSpec]) -> None:
        """Take a batch's events, in order; `markets` are the listed markets after the batch."""
        for event in events:
            kind = type(event)
            if kind is Traded:
                assert isinstance(event, Traded)
                self.markets[event.fill.market].trade(event.fill)
            elif kind is PerpMarksSet:
                assert isinstance(event, PerpMarksSet)
                self._perp_marks(event)
            elif kind is MarkPricesSet:
                assert isinstance(event, MarkPricesSet)
                self._index_prices(event)
            elif kind is PerpPositionChanged:
                assert isinstance(event, PerpPositionChanged)
                self._position_changed(event)
            elif kind is MarketsConfigured:
                assert isinstance(event, MarketsConfigured)
                for symbol in event.symbols:
                    self._listed(markets[symbol])

    def _index_of(self, record: MarketRecord) -> int:
        base, quote = self.index_prices_wad.get(record.base), self.index_prices_wad.get(record.quote)
        if not base or not quote:
            return 0
        return base * WAD // quote

    def _index_prices(self, event: MarkPricesSet) -> None:
        changed = {symbol for symbol, _ in event.prices_wad}
        self.index_prices_wad.update(event.prices_wad)
        for record in self.markets.values():
            if record.base not in changed and record.quote not in changed:
                continue
            index = self._index_of(record)
            if not index:
                continue
            record.observe(PriceKind.INDEX, event.at_ms, index)
            if not record.is_perp:
                record.observe(PriceKind.MARK, event.at_ms, index)

    def _perp_marks(self, event: PerpMarksSet) -> None:
        for symbol, mark in event.marks_wad:
            record = self.markets[symbol]
            record.observe(PriceKind.MARK, event.at_ms, mark)
            if not record.series(PriceKind.INDEX, MONTH):
                index = self._index_of(record)
                if index:
                    record.observe(PriceKind.INDEX, event.at_ms, index)

    def _position_changed(self, event: PerpPositionChanged) -> None:
        position = event.position
        key = (position.subaccount_id, position.market)
        before = self._sizes.get(key, 0)
        after = position.quantity_atoms
        if after:
            self._sizes[key] = after
        else:
            self._sizes.pop(key, None)
        change = max(after, 0) - max(before, 0)
        if not change:
            return
        market = position.market
        atoms = self._open_interest_atoms.get(market, 0) + change
        self._open_interest_atoms[market] = atoms
        samples = self.markets[market].open_interest
        if samples and samples[-1][0] // MINUTE_MS == event.at_ms // MINUTE_MS:
            samples.pop()
        samples.append((event.at_ms, atoms))

    # Reads ----------------------------------------------------------------------------------

    def open_interest_atoms(self, market: str) -> int:
        """Return a market's open interest as the history counted it (the engine's own figure)."""
        return self._open_interest_atoms.get(market, 0)

    # Snapshot -------------------------------------------------------------------------------

    def encode(self) -> dict[str, object]:
        """Return what a snapshot keeps of the history (JSON: integers, strings, lists, objects)."""
        markets: dict[str, object] = {}
        for symbol, record in sorted(self.markets.items()):
            markets[symbol] = {
                "candles": {
                    kind.value: {interval: [candle.row() for candle in series] for interval, series in by.items()}
                    for kind, by in record.candles.items()
                },
                "openInterest": [list(sample) for sample in record.open_interest],
            }
        return {"version": ENCODING_VERSION, "markets": markets}

    @classmethod
    def restore(cls, data: object, state: EngineState) -> MarketHistory | None:
        """Return the history a snapshot kept, with `state` the snapshot's state; None if `data` is not one."""
        if not isinstance(data, dict) or data.get("version") != ENCODING_VERSION:
            return None
        history = cls.starting_from(state)
        markets = data.get("markets")
        assert isinstance(markets, dict), "a market history snapshot holds its markets"
        for symbol, kept in markets.items():
            record = history.markets[symbol]
            for kind_name, by in kept["candles"].items():
                kind = PriceKind(kind_name)
                for interval, rows in by.items():
                    record.candles[kind][interval].extend(Candle(*row) for row in rows)
            record.open_interest.extend((at_ms, atoms) for at_ms, atoms in kept["openInterest"])
        return history
