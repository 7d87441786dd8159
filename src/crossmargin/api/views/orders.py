"""Order views: the order as `POST/GET/DELETE /api/v1/order` return it, open orders, order and fill history.

Backpack shows an order two ways. The live answers (`/api/v1/order`, `/api/v1/orders`) use the
`OrderType` shape: `createdAt` in epoch milliseconds, `executedQuantity` and
`executedQuoteQuantity` always present. The history (`/wapi/v1/history/orders`) uses the `Order`
shape: `createdAt` as a naive UTC date-time, plus `expiryReason` and `systemOrderType`. A live
answer about an order that expired on arrival (FOK not fillable, IOC remainder, self-trade
prevention) also carries `expiryReason`, which the spec's `OrderType` does not list but a person
needs to tell why nothing filled. Quantities are base atoms at the market's base decimals, quote
quantities at the quote asset's, prices WAD; nothing is rounded.

History covers open and closed orders of the subaccount, newest first; fills list every trade in
which the subaccount was the maker or the taker, with the fee it paid in the asset it paid it in.

A trigger order (`core/triggers.py`) shows Backpack's trigger fields: `triggerPrice`, `triggerBy`,
`triggerQuantity` (without `quantity` while it is pending, as Backpack shows it), `triggeredAt`
once it fired, `relatedOrderId` on a stop loss / take profit placed for another order, and the
`stopLoss*` / `takeProfit*` fields of the legs it carries or asked for. Pending trigger orders
(`TriggerPending`) are open orders: listed, found and cancelled like resting ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from crossmargin.api.errors import RESOURCE_NOT_FOUND, ApiError
from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    SortDirection,
    choice,
    naive_time,
    require_subaccount,
    sort_newest_first,
    wad,
)
from crossmargin.api.views.public import MARKET_TYPES
from crossmargin.core.commands import CancelOrder
from crossmargin.core.events import Event, OrderChanged
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import format_scaled
from crossmargin.core.orders import (
    Order,
    OrderId,
    OrderSide,
    OrderStatus,
    OrderType,
    SystemOrderType,
    TriggerLegKind,
)
from crossmargin.core.state import EngineState

INVALID_MARKET: Final = "INVALID_MARKET"
# Backpack's `FillType` filter: user fills, or fills of orders the exchange placed for the user.
FILL_TYPES: Final = (
    "User",
    "BookLiquidation",
    "Adl",
    "Backstop",
    "Liquidation",
    "AllLiquidation",
    "CollateralConversion",
    "CollateralConversionAndSpotLiquidation",
)
FILL_TYPE_SYSTEM_ORDERS: Final = {
    "User": (SystemOrderType.NONE,),
    "CollateralConversion": (SystemOrderType.COLLATERAL_CONVERSION,),
    "CollateralConversionAndSpotLiquidation": (SystemOrderType.COLLATERAL_CONVERSION,),
    "BookLiquidation": (SystemOrderType.LIQUIDATE_POSITION_ON_BOOK,),
    "Liquidation": (SystemOrderType.LIQUIDATE_POSITION_ON_BOOK,),
    "AllLiquidation": (SystemOrderType.LIQUIDATE_POSITION_ON_BOOK, SystemOrderType.LIQUIDATE_POSITION_ON_ADL),
    "Adl": (SystemOrderType.LIQUIDATE_POSITION_ON_ADL,),
}


def base_text(spec: MarketSpec, atoms: int) -> str:
    """Format base atoms of a market as a decimal string."""
    return format_scaled(atoms, spec.base_decimals)


def quote_text(spec: MarketSpec, atoms: int) -> str:
    """Format quote atoms of a market as a decimal string."""
    return format_scaled(atoms, spec.quote_decimals)


def require_market(state: EngineState, symbol: str) -> MarketSpec:
    """Return a listed market's spec, or refuse the symbol naming the listed ones."""
    spec = state.markets.get(symbol)
    if spec is None:
        listed = ", ".join(sorted(state.markets)) or "none"
        raise ApiError(f"Unknown market {symbol!r}; markets are {listed}", INVALID_MARKET)
    return spec


def check_market_types(market_types: list[str] | None) -> None:
    """Refuse a `marketType` that is not one of Backpack's."""
    for market_type in market_types or ():
        if market_type not in MARKET_TYPES:
            raise ApiError(f"marketType must be one of {', '.join(MARKET_TYPES)}, not {market_type!r}")


def _common(order: Order, spec: MarketSpec) -> JsonObject:
    body: JsonObject = {
        "id": str(order.order_id),
        "executedQuantity": base_text(spec, order.executed_atoms),
        "executedQuoteQuantity": quote_text(spec, order.executed_quote_atoms),
        "orderType": order.order_type.value,
        "quantity": base_text(spec, order.quantity_atoms),
        "selfTradePrevention": order.self_trade_prevention.value,
        "side": order.side.value,
        "status": order.status.value,
        "symbol": order.market,
        "timeInForce": order.time_in_force.value,
    }
    if order.client_id is not None:
        body["clientId"] = order.client_id
    if order.order_type is OrderType.LIMIT:
        body["price"] = wad(order.price_wad)
        body["postOnly"] = order.flags.post_only
    if order.quote_quantity_atoms is not None:
        body["quoteQuantity"] = quote_text(spec, order.quote_quantity_atoms)
    if order.flags.slippage is not None:
        body["slippageTolerance"] = wad(order.flags.slippage.tolerance_wad)
        body["slippageToleranceType"] = order.flags.slippage.kind.value
    body |= trigger_fields(order, spec)
    if order.trigger is not None and order.trigger.triggered_ms is None:
        del body["quantity"]  # a trigger order that never fired has only its triggerQuantity, as on Backpack
    return body


_LEG_FIELDS: Final = {
    TriggerLegKind.ENTRY: ("triggerPrice", None, "triggerBy"),
    TriggerLegKind.STOP_LOSS: ("stopLossTriggerPrice", "stopLossLimitPrice", "stopLossTriggerBy"),
    TriggerLegKind.TAKE_PROFIT: ("takeProfitTriggerPrice", "takeProfitLimitPrice", "takeProfitTriggerBy"),
}


def trigger_fields(order: Order, spec: MarketSpec) -> JsonObject:
    """Return Backpack's trigger, stop-loss and take-profit fields of an order (none for a plain one)."""
    trigger = order.trigger
    body: JsonObject = {}
    for leg in (*(trigger.legs if trigger else ()), *order.brackets):
        price, limit, by = _LEG_FIELDS[leg.kind]
        body[price] = wad(leg.price_wad)
        body[by] = leg.by.value
        if limit is not None and leg.limit_price_wad is not None:
            body[limit] = wad(leg.limit_price_wad)
    if trigger is None:
        return body
    if trigger.quantity_atoms is not None:
        body["triggerQuantity"] = base_text(spec, trigger.quantity_atoms)
    if trigger.triggered_ms is not None:
        body["triggeredAt"] = trigger.triggered_ms
    if trigger.parent_order_id is not None:
        body["relatedOrderId"] = str(trigger.parent_order_id)
    return body


def placed_order(events: tuple[Event, ...], subaccount_id: SubaccountId) -> Order:
    """Return the final state of the order a `PlaceOrder` command placed, from its accepted events."""
    changed = [event.order for event in events if isinstance(event, OrderChanged)]
    own = [order for order in changed if order.subaccount_id == subaccount_id and not _is_child(order)]
    assert own, "an accepted order placement reports the order it placed"
    newest = max(order.order_id for order in own)
    return [order for order in own if order.order_id == newest][-1]


def _is_child(order: Order) -> bool:
    """Return whether an order is a stop loss / take profit placed for another order."""
    return order.trigger is not None and order.trigger.parent_order_id is not None


def cancelled_order(events: tuple[Event, ...], command: CancelOrder) -> Order:
    """Return the order a `CancelOrder` cancelled (its stop loss / take profit may have gone with it)."""
    return next(
        order
        for order in cancelled_orders(events, command.subaccount_id, command.market)
        if order.order_id == command.order_id
        or (command.client_id is not None and order.client_id == command.client_id)
    )


def cancelled_orders(events: tuple[Event, ...], subaccount_id: SubaccountId, market: str) -> list[Order]:
    """Return the orders a cancel command cancelled, in the order it cancelled them."""
    return [
        event.order
        for event in events
        if isinstance(event, OrderChanged)
        and event.order.subaccount_id == subaccount_id
        and event.order.market == market
        and event.order.status is OrderStatus.CANCELLED
    ]


def view_order(order: Order, spec: MarketSpec) -> JsonObject:
    """Return an order in the `OrderType` shape of the live order endpoints (createdAt in ms)."""
    body = _common(order, spec)
    body["createdAt"] = order.created_ms
    if spec.is_perp:
        body["reduceOnly"] = order.flags.reduce_only
    if order.status is OrderStatus.EXPIRED and order.expiry_reason is not None:
        body["expiryReason"] = order.expiry_reason.value
    return body


def view_placed_order(
    events: tuple[Event, ...], subaccount_id: SubaccountId, markets: Mapping[str, MarketSpec]
) -> JsonObject:
    """Return the order a `PlaceOrder` command placed, as it ended up, in the live `OrderType` shape."""
    order = placed_order(events, subaccount_id)
    return view_order(order, markets[order.market])


def view_cancelled_orders(events: tuple[Event, ...], subaccount_id: SubaccountId, spec: MarketSpec) -> list[JsonValue]:
    """Return the orders a cancel-all command cancelled in one market, in the order it cancelled them."""
    return [view_order(order, spec) for order in cancelled_orders(events, subaccount_id, spec.symbol)]


def view_batch_item(outcome: JsonObject | ApiError) -> JsonObject:
    """Return one item of a batch's answer (Backpack's `BatchCommandOrderResult`): the order, or the error."""
    if isinstance(outcome, ApiError):
        return {"operation": "Err", **outcome.body()}
    return {"operation": "Ok", **outcome}


def view_history_order(order: Order, spec: MarketSpec) -> JsonObject:
    """Return an order in the `Order` shape of the order history (createdAt as a naive date-time)."""
    body = _common(order, spec)
    body["createdAt"] = naive_time(order.created_ms)
    if order.expiry_reason is not None:
        body["expiryReason"] = order.expiry_reason.value
    if order.system_order_type is not SystemOrderType.NONE:
        body["systemOrderType"] = order.system_order_type.value
    return body


def _open_orders(state: EngineState, subaccount_id: SubaccountId) -> Iterator[Order]:
    """Yield a subaccount's open orders, resting and pending triggers, oldest (lowest id) first."""
    pending = [order_id for order_id, order in state.trigger_orders.items() if order.subaccount_id == subaccount_id]
    for order_id in sorted([*state.open_order_ids.get(subaccount_id, {}), *pending]):
        yield state.orders.get(order_id) or state.trigger_orders[order_id]


def view_open_orders(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    market_type: str | None = None,
) -> list[JsonValue]:
    """Return `GET /api/v1/orders`: the subaccount's open orders, oldest first, in one market or type."""
    require_subaccount(state, subaccount_id)
    check_market_types(None if market_type is None else [market_type])
    if symbol is not None:
        require_market(state, symbol)
    return [
        view_order(order, state.markets[order.market])
        for order in _open_orders(state, subaccount_id)
        if symbol in (None, order.market) and market_type in (None, state.markets[order.market].kind.value)
    ]


def find_open_order(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str,
    order_id: OrderId | None,
    client_id: int | None,
) -> Order:
    """Return the subaccount's open order in a market by id or client id, or refuse with RESOURCE_NOT_FOUND."""
    require_subaccount(state, subaccount_id)
    spec = require_market(state, symbol)
    if (order_id is None) == (client_id is None):
        raise ApiError("Give either orderId or clientId (one of them)")
    for order in _open_orders(state, subaccount_id):
        if order.market == spec.symbol and (
            order.order_id == order_id or (client_id is not None and order.client_id == client_id)
        ):
            return order
    which = f"id {order_id}" if order_id is not None else f"clientId {client_id}"
    raise ApiError(f"No open {symbol} order with {which}", RESOURCE_NOT_FOUND)


def view_open_order(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str,
    order_id: OrderId | None = None,
    client_id: int | None = None,
) -> JsonObject:
    """Return `GET /api/v1/order`: one open order, or RESOURCE_NOT_FOUND."""
    order = find_open_order(state, subaccount_id, symbol, order_id, client_id)
    return view_order(order, state.markets[order.market])


def subaccount_orders(state: EngineState, subaccount_id: SubaccountId) -> list[Order]:
    """Return every order of a subaccount, closed and open, oldest (lowest id) first."""
    closed = state.closed_orders_of(subaccount_id)
    return sorted([*closed, *_open_orders(state, subaccount_id)], key=lambda order: order.order_id)


def view_order_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    order_id: OrderId | None = None,
    market_types: list[str] | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/orders`: the subaccount's orders, open and closed, newest first."""
    require_subaccount(state, subaccount_id)
    check_market_types(market_types)
    if symbol is not None:
        require_market(state, symbol)
    rows: list[JsonValue] = [
        view_history_order(order, state.markets[order.market])
        for order in subaccount_orders(state, subaccount_id)
        if symbol in (None, order.market)
        and order_id in (None, order.order_id)
        and (not market_types or state.markets[order.market].kind.value in market_types)
    ]
    newest_first = sort_newest_first(choice(SortDirection, sort_direction, "sortDirection"))
    return rows[::-1] if newest_first else rows


def _fill_row(state: EngineState, fill: Fill, *, is_maker: bool, client_ids: dict[OrderId, int]) -> JsonObject:
    spec = state.markets[fill.market]
    fee_symbol = fill.maker_fee_symbol if is_maker else fill.taker_fee_symbol
    fee_atoms = fill.fee_atoms(maker=is_maker)
    order_id = fill.maker_order_id if is_maker else fill.taker_order_id
    side = fill.taker_side if not is_maker else (OrderSide.ASK if fill.taker_side is OrderSide.BID else OrderSide.BID)
    row: JsonObject = {
        "fee": format_scaled(fee_atoms, state.specs[fee_symbol].decimals),
        "feeSymbol": fee_symbol,
        "isMaker": is_maker,
        "orderId": str(order_id),
        "price": wad(fill.price_wad),
        "quantity": base_text(spec, fill.quantity_atoms),
        "side": side.value,
        "symbol": fill.market,
        "timestamp": naive_time(fill.at_ms),
        "tradeId": fill.trade_id,
    }
    if order_id in client_ids:
        row["clientId"] = str(client_ids[order_id])
    system = _own_system_order_type(fill, is_maker=is_maker)
    if system is not SystemOrderType.NONE:
        row["systemOrderType"] = system.value
    return row


def _own_system_order_type(fill: Fill, *, is_maker: bool) -> SystemOrderType:
    """Return the system order type of one side of a fill: an ADL's two sides are both system orders."""
    if is_maker and fill.system_order_type is not SystemOrderType.LIQUIDATE_POSITION_ON_ADL:
        return SystemOrderType.NONE
    return fill.system_order_type


def _fill_type_matches(fill: Fill, *, is_maker: bool, fill_type: str | None) -> bool:
    if fill_type is None:
        return True
    return _own_system_order_type(fill, is_maker=is_maker) in FILL_TYPE_SYSTEM_ORDERS.get(fill_type, ())


def view_fills(  # noqa: PLR0913, PLR0917 -- one per query parameter, in `read_inputs.FillsQuery`'s order
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    fill_type: str | None = None,
    order_id: OrderId | None = None,
    market_types: list[str] | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/fills`: the subaccount's fills as maker or taker, newest first."""
    require_subaccount(state, subaccount_id)
    check_market_types(market_types)
    if symbol is not None:
        require_market(state, symbol)
    if fill_type is not None and fill_type not in FILL_TYPES:
        raise ApiError(f"fillType must be one of {', '.join(FILL_TYPES)}, not {fill_type!r}")
    client_ids = {
        order.order_id: order.client_id
        for order in subaccount_orders(state, subaccount_id)
        if order.client_id is not None
    }
    rows: list[JsonValue] = []
    for fill in state.fills_of(subaccount_id):
        for is_maker, owner, own_order in (
            (True, fill.maker_subaccount_id, fill.maker_order_id),
            (False, fill.taker_subaccount_id, fill.taker_order_id),
        ):
            if (
                owner == subaccount_id
                and symbol in (None, fill.market)
                and order_id in (None, own_order)
                and (from_ms is None or fill.at_ms >= from_ms)
                and (to_ms is None or fill.at_ms <= to_ms)
                and (not market_types or state.markets[fill.market].kind.value in market_types)
                and _fill_type_matches(fill, is_maker=is_maker, fill_type=fill_type)
            ):
                rows.append(_fill_row(state, fill, is_maker=is_maker, client_ids=client_ids))
    newest_first = sort_newest_first(choice(SortDirection, sort_direction, "sortDirection"))
    return rows[::-1] if newest_first else rows
