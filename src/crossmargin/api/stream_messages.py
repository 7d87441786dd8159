"""The data of Backpack's WebSocket stream messages, made from engine events: pure functions.

Every message travels as `{"stream": "<name>", "data": {...}}`; `data` uses Backpack's one-letter
field names, amounts are exact decimal strings, `E` (event time) and `T` (engine time) are
microseconds (our engine times are milliseconds, so they end in 000). The field lists follow
Backpack's stream documentation and the captures and parser in ccxt 4.5.90's `ccxt/pro/backpack.py`
(see `../shared/reference/backpack-response-examples.json` beside the repository):

- `depth.<symbol>`: `e` "depth", `E`, `s`, `a` and `b` ([price, quantity] of each changed level, the
  level's total after the change, "0" when it emptied), `U` first and `u` last update id, `T`.
  Update ids: one counter for all books, read from the state after the batch (orders placed +
  trades + orders closed: `views.market_data.book_update_id`, the same `lastUpdateId` that
  `GET /api/v1/depth` reports, read with its book in one `Service.read`). `u` is the counter
  after the batch that changed this book and `U` the previous message's `u` + 1 for the same
  market, so `U` = previous `u` + 1 as Backpack promises and the ranges leave no gap. A client
  drops messages with `u` <= the snapshot's lastUpdateId and applies the rest (the one whose range
  holds it included), which is what ccxt does.
- `trade.<symbol>`: `e` "trade", `E`, `s`, `p`, `q`, `b` buyer's order id, `a` seller's order id,
  `t` trade id, `T`, `m` whether the buyer was the maker.
- `ticker.<symbol>`: `e` "ticker", `E`, `s`, `o` first, `c` last, `h` high, `l` low price of the
  fills of the last 24 hours, `v` base and `V` quote volume, `n` number of trades.
- `kline.<interval>.<symbol>`: `e` "kline", `E`, `s`, `t` start and `T` end of the candle (ISO 8601,
  UTC, no zone, as Backpack's documentation shows), `o`, `c`, `h`, `l` of the fills, `v` base
  volume, `n` number of trades (an integer), `X` whether the candle has closed. One message per
  batch that traded in the market, and a final one with `X` true once a batch runs past the
  candle's end (a later trade, or any command or clock tick), for the Last price as Backpack's.
- `markPrice.<symbol>`: `e` "markPrice", `E`, `s`, `p` mark price, `f` funding rate the book would
  pay now, `i` index price, `n` next funding time in **milliseconds** (as Backpack documents and
  sends it, unlike every other time), `T`. Perp marks come from the 10-second
  refresh; a spot market's mark is its base asset's index price (funding "0").
- `account.orderUpdate[.<symbol>]`: `e` orderAccepted | orderFill | orderCancelled | orderExpired |
  triggerPlaced (a trigger order fired and entered the book) | triggerFailed (it fired and was
  refused; `R` says why), `E`, `s`, `c` client id (when given), `S` side, `o` "LIMIT" | "MARKET", `f` time in force, `q`
  quantity, `Q` quote quantity (market orders by quote), `p` price (limit orders), `X` status,
  `R` expiry reason (expired orders), `i` order id, `z` executed quantity, `Z` executed quote,
  `V` self-trade prevention, `r` reduce only, `y` post only, `O` origin (`ORIGINS`: "USER",
  "LIQUIDATION_AUTOCLOSE", "ADL_AUTOCLOSE" or "COLLATERAL_CONVERSION"), `T`; an orderFill adds `t` trade id,
  `l` fill quantity, `L` fill price, `m` maker, `n` fee, `N` fee asset. A trigger order adds `P`
  trigger price, `B` trigger by, `Y` trigger quantity; a stop loss / take profit `b` / `a` trigger
  price, `k` / `j` limit price, `g` / `d` trigger by; a child of another order `I` its id.
- `account.positionUpdate[.<symbol>]`: `e` positionOpened | positionAdjusted | positionClosed, `E`,
  `s`, `b` break-even price (the entry cost net of the funding received, per unit, as REST's
  `breakEvenPrice`), `B` entry price, `l` estimated liquidation price (REST's
  `estLiquidationPrice`, "0" when there is none), `f` IMF, `M` mark price, `m` MMF, `q` net quantity
  (signed), `Q` net exposure quantity (absolute), `n` net exposure notional, `i` position id,
  `p` realized PnL, `P` unrealized PnL, `T`.
- `engine.update` (a crossmargin extension, public): `e` "engineUpdate", `E` (µs) and `T` (engine
  time in **milliseconds**, as `GET /admin/v1/clock` reports it), `k` the sorted kinds of change in
  the batch (`engine_update_kinds`: each event's `core.events.change_kind`). One message per
  durable batch that changed anything but orders, trades, books and oracle guards, so a page
  refetches what it shows; a Tick that charged nothing is "clock".
- `account.balanceUpdate`: not in Backpack's published documentation; ccxt 4.5.90 parses `e`
  "balanceUpdate", `a` asset, `A` available, `L` locked, `S` staked. We send those (staked "0")
  and add, in the same style, `l` lent and `b` borrowed (debt), `E`, `T`: absolute values after the
  batch, one message per asset that moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from crossmargin.api.views.common import JsonObject, JsonValue, naive_time
from crossmargin.app.market_history import Candle
from crossmargin.core.assets import AssetSpec
from crossmargin.core.collateral import value_up
from crossmargin.core.events import ChangeKind, Event, change_kind
from crossmargin.core.fills import Fill
from crossmargin.core.margin import Holding, compute_margin_fraction
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, format_scaled
from crossmargin.core.orders import Order, OrderSide, OrderStatus, OrderType, SystemOrderType, TriggerLegKind
from crossmargin.core.perps import PerpPosition

WAD_DECIMALS: Final = 18
MICROS_PER_MS: Final = 1000

ORDER_ACCEPTED: Final = "orderAccepted"
ORDER_FILL: Final = "orderFill"
ORDER_CANCELLED: Final = "orderCancelled"
ORDER_EXPIRED: Final = "orderExpired"
TRIGGER_PLACED: Final = "triggerPlaced"
TRIGGER_FAILED: Final = "triggerFailed"
POSITION_OPENED: Final = "positionOpened"
POSITION_ADJUSTED: Final = "positionAdjusted"
POSITION_CLOSED: Final = "positionClosed"

ENGINE_UPDATE: Final = "engine.update"
CLOCK: Final = "clock"
UNREPORTED_KINDS: Final = frozenset({ChangeKind.ORDERS, ChangeKind.TRADES, ChangeKind.ORACLE})
"""Kinds `engine.update` leaves out: order, trade and book churn (their own streams carry it), oracle guards."""

Level = tuple[int, int]
"""A price level: (price WAD, total quantity in base atoms)."""


def micros(ms: int) -> int:
    """Return milliseconds as Backpack's microsecond timestamps."""
    return ms * MICROS_PER_MS


def engine_update_kinds(events: Iterable[Event]) -> list[str]:
    """Return the sorted kinds of change among a batch's events; "clock" for a batch without events.

    An hour charged ("interest") also counts as "clock": the engine's hour moved on.
    """
    kinds: set[str] = set()
    empty = True
    for event in events:
        empty = False
        kind = change_kind(event)
        if kind not in UNREPORTED_KINDS:
            kinds.add(kind.value)
    if empty or ChangeKind.INTEREST in kinds:
        kinds.add(CLOCK)
    return sorted(kinds)


def engine_update_data(now_ms: int, kinds: list[str]) -> JsonObject:
    """Return an `engine.update` message: what kinds of thing changed, and the engine's time."""
    listed: list[JsonValue] = [*kinds]
    return {"e": "engineUpdate", "E": micros(now_ms), "T": now_ms, "k": listed}


def price_text(price_wad: int) -> str:
    """Format a WAD price as a decimal string."""
    return format_scaled(price_wad, WAD_DECIMALS)


def envelope(stream: str, data: JsonObject) -> JsonObject:
    """Wrap a message's data as Backpack sends it."""
    return {"stream": stream, "data": data}


def depth_data(spec: MarketSpec, update: DepthUpdate) -> JsonObject:
    """Return a `depth.<symbol>` message: the changed levels' totals after the batch."""
    return {
        "e": "depth",
        "E": micros(update.at_ms),
        "s": spec.symbol,
        "a": [[price_text(price), format_scaled(quantity, spec.base_decimals)] for price, quantity in update.asks],
        "b": [[price_text(price), format_scaled(quantity, spec.base_decimals)] for price, quantity in update.bids],
        "U": update.first_id,
        "u": update.last_id,
        "T": micros(update.at_ms),
    }


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    """The changed levels of one book in one batch, asks and bids ascending by price, and their ids."""

    asks: tuple[Level, ...]
    bids: tuple[Level, ...]
    first_id: int
    last_id: int
    at_ms: int


def trade_data(spec: MarketSpec, fill: Fill) -> JsonObject:
    """Return a `trade.<symbol>` message for one fill."""
    buyer_is_taker = fill.taker_side is OrderSide.BID
    buyer, seller = (
        (fill.taker_order_id, fill.maker_order_id) if buyer_is_taker else (fill.maker_order_id, fill.taker_order_id)
    )
    return {
        "e": "trade",
        "E": micros(fill.at_ms),
        "s": spec.symbol,
        "p": price_text(fill.price_wad),
        "q": format_scaled(fill.quantity_atoms, spec.base_decimals),
        "b": str(buyer),
        "a": str(seller),
        "t": fill.trade_id,
        "T": micros(fill.at_ms),
        "m": not buyer_is_taker,
    }


@dataclass(frozen=True, slots=True)
class TickerStats:
    """A market's fills over the last 24 hours."""

    open_wad: int
    close_wad: int
    high_wad: int
    low_wad: int
    base_atoms: int
    quote_atoms: int
    trades: int


def ticker_data(spec: MarketSpec, stats: TickerStats, at_ms: int) -> JsonObject:
    """Return a `ticker.<symbol>` message: 24-hour rolling statistics of the fills."""
    return {
        "e": "ticker",
        "E": micros(at_ms),
        "s": spec.symbol,
        "o": price_text(stats.open_wad),
        "c": price_text(stats.close_wad),
        "h": price_text(stats.high_wad),
        "l": price_text(stats.low_wad),
        "v": format_scaled(stats.base_atoms, spec.base_decimals),
        "V": format_scaled(stats.quote_atoms, spec.quote_decimals),
        "n": stats.trades,
    }


def kline_data(spec: MarketSpec, candle: Candle, at_ms: int, *, closed: bool) -> JsonObject:
    """Return a `kline.<interval>.<symbol>` message: one candle of the market's trades as it stands."""
    return {
        "e": "kline",
        "E": micros(at_ms),
        "s": spec.symbol,
        "t": naive_time(candle.start_ms),
        "T": naive_time(candle.end_ms),
        "o": price_text(candle.open_wad),
        "c": price_text(candle.close_wad),
        "h": price_text(candle.high_wad),
        "l": price_text(candle.low_wad),
        "v": format_scaled(candle.volume_atoms, spec.base_decimals),
        "n": candle.trades,
        "X": closed,
    }


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """What a `markPrice.<symbol>` message reports."""

    symbol: str
    mark_wad: int
    index_wad: int
    funding_rate_wad: int
    next_funding_ms: int
    at_ms: int


def mark_price_data(mark: MarkPrice) -> JsonObject:
    """Return a `markPrice.<symbol>` message."""
    return {
        "e": "markPrice",
        "E": micros(mark.at_ms),
        "s": mark.symbol,
        "p": price_text(mark.mark_wad),
        "f": price_text(mark.funding_rate_wad),
        "i": price_text(mark.index_wad),
        "n": mark.next_funding_ms,
        "T": micros(mark.at_ms),
    }


ORIGINS: Final = {
    SystemOrderType.NONE: "USER",
    SystemOrderType.COLLATERAL_CONVERSION: "COLLATERAL_CONVERSION",
    SystemOrderType.LIQUIDATE_POSITION_ON_BOOK: "LIQUIDATION_AUTOCLOSE",
    SystemOrderType.LIQUIDATE_POSITION_ON_ADL: "ADL_AUTOCLOSE",
}
"""Backpack's `O` (origin of the update) for each kind of order; a test checks every kind has one."""


def order_event_type(order: Order) -> str:
    """Return the orderUpdate event type of an order change that is not a fill.

    A pending trigger order is `orderAccepted`; once it fires it is `triggerPlaced` (entered) or
    `triggerFailed`. Backpack's `orderModified` (a resting reduce-only order shrunk so it cannot
    flip the position) has no cause here: the engine never shrinks one.
    """
    if order.status is OrderStatus.CANCELLED:
        return ORDER_CANCELLED
    if order.status is OrderStatus.EXPIRED:
        return ORDER_EXPIRED
    if order.status is OrderStatus.TRIGGER_FAILED:
        return TRIGGER_FAILED
    return accepted_event_type(order)


def accepted_event_type(order: Order) -> str:
    """Return the event of an order entering the book: `triggerPlaced` for a trigger order that fired."""
    fired = order.trigger is not None and order.trigger.triggered_ms is not None
    return TRIGGER_PLACED if fired else ORDER_ACCEPTED


_LEG_KEYS: Final = {
    TriggerLegKind.ENTRY: ("P", None, "B"),
    TriggerLegKind.STOP_LOSS: ("b", "k", "g"),
    TriggerLegKind.TAKE_PROFIT: ("a", "j", "d"),
}


def _trigger_data(spec: MarketSpec, order: Order) -> JsonObject:
    trigger = order.trigger
    data: JsonObject = {}
    for leg in (*(trigger.legs if trigger else ()), *order.brackets):
        price, limit, by = _LEG_KEYS[leg.kind]
        data[price] = price_text(leg.price_wad)
        data[by] = leg.by.value
        if limit is not None and leg.limit_price_wad is not None:
            data[limit] = price_text(leg.limit_price_wad)
    if trigger is not None and trigger.quantity_atoms is not None:
        data["Y"] = format_scaled(trigger.quantity_atoms, spec.base_decimals)
    if trigger is not None and trigger.parent_order_id is not None:
        data["I"] = str(trigger.parent_order_id)
    return data


def order_data(spec: MarketSpec, event_type: str, order: Order, at_ms: int) -> JsonObject:
    """Return an `account.orderUpdate` message for an order in the state it reached."""
    data: JsonObject = {"e": event_type, "E": micros(at_ms), "s": spec.symbol}
    if order.client_id is not None:
        data["c"] = order.client_id
    data |= {
        "S": order.side.value,
        "o": order.order_type.value.upper(),
        "f": order.time_in_force.value,
        "q": format_scaled(order.quantity_atoms, spec.base_decimals),
    }
    if order.quote_quantity_atoms is not None:
        data["Q"] = format_scaled(order.quote_quantity_atoms, spec.quote_decimals)
    if order.order_type is OrderType.LIMIT:
        data["p"] = price_text(order.price_wad)
    data |= _trigger_data(spec, order)
    data["X"] = order.status.value
    if order.expiry_reason is not None:
        data["R"] = order.expiry_reason.value
    data |= {
        "i": str(order.order_id),
        "z": format_scaled(order.executed_atoms, spec.base_decimals),
        "Z": format_scaled(order.executed_quote_atoms, spec.quote_decimals),
        "V": order.self_trade_prevention.value,
        "r": order.flags.reduce_only,
        "y": order.flags.post_only,
        "O": ORIGINS[order.system_order_type],
        "T": micros(at_ms),
    }
    return data


def fill_data(spec: MarketSpec, order: Order, fill: Fill, fee_decimals: int) -> JsonObject:
    """Return the `orderFill` message of one side of a fill; `order` is that side after the fill."""
    data = order_data(spec, ORDER_FILL, order, fill.at_ms)
    maker = fill.maker_order_id == order.order_id
    data |= {
        "t": fill.trade_id,
        "l": format_scaled(fill.quantity_atoms, spec.base_decimals),
        "L": price_text(fill.price_wad),
        "m": maker,
        "n": format_scaled(fill.fee_atoms(maker=maker), fee_decimals),
        "N": fill.maker_fee_symbol if maker else fill.taker_fee_symbol,
    }
    return data


def position_event_type(quantity_before: int, quantity_after: int) -> str:
    """Return the positionUpdate event type of a change of size."""
    if quantity_after == 0:
        return POSITION_CLOSED
    if quantity_before == 0:
        return POSITION_OPENED
    return POSITION_ADJUSTED


@dataclass(frozen=True, slots=True)
class PositionContext:
    """What a position message needs besides the position: the mark, the IMF floor, the time."""

    mark_wad: int
    imf_floor_wad: int
    at_ms: int
    liquidation_price_wad: int | None = None


def _per_unit(spec: MarketSpec, quote_atoms: int, quantity_atoms: int) -> int:
    """Return |quote| / |quantity| as a WAD price per whole base unit, rounded down (0 for no size)."""
    if not quantity_atoms:
        return 0
    return abs(quote_atoms) * spec.base_unit_atoms * WAD // (abs(quantity_atoms) * spec.quote_unit_atoms)


def position_data(spec: MarketSpec, event_type: str, position: PerpPosition, context: PositionContext) -> JsonObject:
    """Return an `account.positionUpdate` message for a perp position at a mark price.

    The IMF is at least 1 / the subaccount's leverage limit, as everywhere margin is reported.
    """
    mark_wad, at_ms = context.mark_wad, context.at_ms
    quantity = position.quantity_atoms
    entry = _per_unit(spec, position.entry_cost_atoms, quantity)
    break_even = _per_unit(spec, position.entry_cost_atoms - position.cumulative_funding_atoms, quantity)
    liquidation = context.liquidation_price_wad
    notional = value_up(abs(quantity), mark_wad, spec.base_unit_atoms)
    return {
        "e": event_type,
        "E": micros(at_ms),
        "s": spec.symbol,
        "b": price_text(break_even),
        "B": price_text(entry),
        "l": "0" if liquidation is None else price_text(liquidation),
        "f": price_text(compute_margin_fraction(spec.imf, notional, context.imf_floor_wad)),
        "M": price_text(mark_wad),
        "m": price_text(compute_margin_fraction(spec.mmf, notional, 0)),
        "q": format_scaled(quantity, spec.base_decimals),
        "Q": format_scaled(abs(quantity), spec.base_decimals),
        "n": price_text(notional),
        "i": position.position_id,
        "p": format_scaled(position.realized_pnl_atoms, spec.quote_decimals),
        "P": format_scaled(position.unrealized_atoms(spec, mark_wad), spec.quote_decimals),
        "T": micros(at_ms),
    }


def balance_data(spec: AssetSpec, holding: Holding, at_ms: int) -> JsonObject:
    """Return an `account.balanceUpdate` message: one asset's balances after the batch."""
    decimals = spec.decimals
    return {
        "e": "balanceUpdate",
        "E": micros(at_ms),
        "a": spec.symbol,
        "A": format_scaled(holding.spot_atoms, decimals),
        "L": format_scaled(holding.locked_atoms, decimals),
        "S": "0",
        "l": format_scaled(holding.lend_atoms, decimals),
        "b": format_scaled(holding.debt_atoms, decimals),
        "T": micros(at_ms),
    }


def error_message(code: int, message: str, request_id: JsonValue = None) -> JsonObject:
    """Return a refusal of a client's request, in the shape ccxt reads (`error.code`, `error.message`)."""
    return {"id": request_id, "error": {"code": code, "message": message}}
