"""Parse Backpack's order payloads into engine commands, refusing malformed input by field name.

`POST /api/v1/order` and each item of `POST /api/v1/orders` (`batch`) become a `PlaceOrder` through
the one parser `place_order`: quantities are base atoms at the market's base decimals,
`quoteQuantity` quote atoms, prices WAD, all parsed exactly from decimal strings (never rounded).
Grid rules the engine owns (tick, step, minimum, post-only, reduce-only) are left to it, so its
messages are the ones a person reads; what is checked here is only what cannot reach it: a missing
or mistyped field, an unknown enum value, a quantity finer than the asset itself or beyond the
engine's `AMOUNT_ATOMS_MAX`, a price beyond its `PRICE_WAD_MAX`, a decimal string longer than
`DECIMAL_CHARS_MAX`, a `clientId` outside uint32 (as Backpack's spec types it), an `orderId`
outside int64, or a `slippageTolerance` above 100 percent or 1,000,000 ticks, or without its
`slippageToleranceType` (the engine refuses one on a limit order). Trigger prices are parsed like
limit prices; as on Backpack, `triggerPrice` and `triggerQuantity` come together or not
at all (the refusal is Backpack's own message).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, TypeVar

from crossmargin.api import inputs
from crossmargin.api.errors import ApiError
from crossmargin.core.commands import CancelAllOrders, CancelOrder, PlaceOrder
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, PRICE_WAD_MAX, format_scaled, parse_decimal
from crossmargin.core.orders import (
    CancelScope,
    OrderFlags,
    OrderId,
    OrderSide,
    OrderType,
    SelfTradePrevention,
    Slippage,
    SlippageToleranceType,
    TimeInForce,
    TriggerBy,
)

BATCH_ORDERS_MAX: Final = 50
CLIENT_ID_MAX: Final = 2**32 - 1
ORDER_ID_MAX: Final = 2**63 - 1
PRICE_DECIMALS: Final = 18
SLIPPAGE_MAX: Final = {SlippageToleranceType.PERCENT: 100, SlippageToleranceType.TICK_SIZE: 1_000_000}
# Names some clients send that Backpack's payload does not have (ccxt passes its unified
# `stopLossPrice` / `takeProfitPrice` params through unmapped): refused rather than ignored, since
# an ignored stop loss leaves a bot unprotected without a word.
FOREIGN_FIELDS: Final = {
    "stopLossPrice": ("stopLossTriggerPrice", "stopLoss", "stop loss"),
    "takeProfitPrice": ("takeProfitTriggerPrice", "takeProfit", "take profit"),
}
E = TypeVar("E", bound=StrEnum)
FLAG_FIELDS: Final = ("postOnly", "reduceOnly", "autoBorrow", "autoBorrowRepay", "autoLend", "autoLendRedeem")


def require_market(markets: Mapping[str, MarketSpec], symbol: str) -> MarketSpec:
    """Return a listed market, or refuse the symbol (400 INVALID_MARKET, as the market queries do)."""
    spec = markets.get(symbol)
    if spec is None:
        listed = ", ".join(sorted(markets)) or "none"
        raise ApiError(f"Unknown market {symbol!r}; listed markets are {listed}", "INVALID_MARKET")
    return spec


def _decimal(values: Mapping[str, object], name: str, decimals: int, step: str, code: str, maximum: int) -> int | None:
    if values.get(name) is None:
        return None
    raw = inputs.decimal_text(values, name, code)
    try:
        parsed = parse_decimal(raw, decimals)
    except ValueError:
        if raw.strip().lstrip("-").replace(".", "", 1).isdigit():
            raise ApiError(f"{name} {raw!r} is not a multiple of the step size {step}", code) from None
        raise ApiError(f'{name} {raw!r} is not a plain decimal number such as "1.5"', code) from None
    return inputs.require_at_most(name, parsed, maximum, decimals, code)


def _optional_enum(values: Mapping[str, object], name: str, enum: type[E]) -> E | None:
    if values.get(name) is None:
        return None
    return enum(inputs.choice(values, name, tuple(member.value for member in enum)))


def _client_id(values: Mapping[str, object]) -> int | None:
    if values.get("clientId") is None:
        return None
    return inputs.integer(values, "clientId", maximum=CLIENT_ID_MAX, maximum_is=" (an unsigned 32-bit integer)")


def order_id(values: Mapping[str, object]) -> OrderId | None:
    """Return the optional `orderId` (Backpack sends it as a string of digits)."""
    raw = values.get("orderId")
    if raw is None:
        return None
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ApiError('orderId must be the id of an order: a string of digits such as "42"')
    return OrderId(inputs.integer({"orderId": text}, "orderId", maximum=ORDER_ID_MAX))


def client_id(values: Mapping[str, object]) -> int | None:
    """Return the optional `clientId` (uint32)."""
    return _client_id(values)


def _flags(values: Mapping[str, object]) -> OrderFlags:
    post, reduce, borrow, repay, lend, redeem = (bool(inputs.optional_bool(values, name)) for name in FLAG_FIELDS)
    return OrderFlags(post, reduce, borrow, repay, lend, redeem, _slippage(values))


def _slippage(values: Mapping[str, object]) -> Slippage | None:
    """Return the order's `slippageTolerance` with its `slippageToleranceType`, both or neither."""
    kind = _optional_enum(values, "slippageToleranceType", SlippageToleranceType)
    if (kind is None) != (values.get("slippageTolerance") is None):
        raise ApiError("Give slippageTolerance and slippageToleranceType (TickSize or Percent) together")
    if kind is None:
        return None
    tolerance = _decimal(values, "slippageTolerance", PRICE_DECIMALS, "0.000000000000000001", inputs.INVALID, 10**40)
    assert tolerance is not None, "slippageTolerance is present"
    inputs.require_at_most("slippageTolerance", tolerance, SLIPPAGE_MAX[kind] * 10**PRICE_DECIMALS, PRICE_DECIMALS)
    if tolerance <= 0:
        raise ApiError("slippageTolerance must be greater than zero")
    return Slippage(tolerance, kind)


def place_order(
    subaccount_id: SubaccountId, values: Mapping[str, object], markets: Mapping[str, MarketSpec]
) -> PlaceOrder:
    """Return the `PlaceOrder` an OrderExecutePayload asks for."""
    for name, (field, ccxt, what) in FOREIGN_FIELDS.items():
        if values.get(name) is not None:
            raise ApiError(
                f"{name} is not a field of Backpack's order payload (Backpack would place the order without a "
                f"{what}): send {field} (with ccxt: params={{'{ccxt}': {{'triggerPrice': ...}}}})"
            )
    if (values.get("triggerPrice") is None) != (values.get("triggerQuantity") is None):
        raise ApiError("Must specify both `triggerPrice` and `triggerQuantity` or neither")
    spec = require_market(markets, inputs.text(values, "symbol"))
    side = OrderSide(inputs.choice(values, "side", tuple(member.value for member in OrderSide)))
    order_type = OrderType(inputs.choice(values, "orderType", tuple(member.value for member in OrderType)))
    step = format_scaled(spec.step_atoms, spec.base_decimals)
    tick = format_scaled(spec.tick_size_wad, PRICE_DECIMALS)
    quote_step = format_scaled(1, spec.quote_decimals)

    def price(name: str) -> int | None:
        return _decimal(values, name, PRICE_DECIMALS, tick, "INVALID_PRICE", PRICE_WAD_MAX)

    return PlaceOrder(
        subaccount_id=subaccount_id,
        market=spec.symbol,
        side=side,
        order_type=order_type,
        quantity_atoms=_decimal(values, "quantity", spec.base_decimals, step, "INVALID_QUANTITY", AMOUNT_ATOMS_MAX),
        price_wad=_decimal(values, "price", PRICE_DECIMALS, tick, "INVALID_PRICE", PRICE_WAD_MAX),
        quote_quantity_atoms=_decimal(
            values, "quoteQuantity", spec.quote_decimals, quote_step, "INVALID_QUANTITY", AMOUNT_ATOMS_MAX
        ),
        time_in_force=_optional_enum(values, "timeInForce", TimeInForce) or TimeInForce.GTC,
        client_id=_client_id(values),
        flags=_flags(values),
        self_trade_prevention=_optional_enum(values, "selfTradePrevention", SelfTradePrevention)
        or SelfTradePrevention.REJECT_TAKER,
        trigger_price_wad=price("triggerPrice"),
        trigger_quantity_atoms=_decimal(
            values, "triggerQuantity", spec.base_decimals, step, "INVALID_QUANTITY", AMOUNT_ATOMS_MAX
        ),
        trigger_by=_optional_enum(values, "triggerBy", TriggerBy),
        stop_loss_trigger_price_wad=price("stopLossTriggerPrice"),
        stop_loss_limit_price_wad=price("stopLossLimitPrice"),
        stop_loss_trigger_by=_optional_enum(values, "stopLossTriggerBy", TriggerBy),
        take_profit_trigger_price_wad=price("takeProfitTriggerPrice"),
        take_profit_limit_price_wad=price("takeProfitLimitPrice"),
        take_profit_trigger_by=_optional_enum(values, "takeProfitTriggerBy", TriggerBy),
    )


def max_order_quantity(
    subaccount_id: SubaccountId, values: Mapping[str, object], markets: Mapping[str, MarketSpec]
) -> PlaceOrder:
    """Return the order `GET /api/v1/account/limits/order` asks about (its quantity is what is searched).

    A limit order at `price` when one is given, else a market order; the flags are the query's.
    """
    spec = require_market(markets, inputs.text(values, "symbol"))
    side = OrderSide(inputs.choice(values, "side", tuple(member.value for member in OrderSide)))
    tick = format_scaled(spec.tick_size_wad, PRICE_DECIMALS)
    price = _decimal(values, "price", PRICE_DECIMALS, tick, "INVALID_PRICE", PRICE_WAD_MAX)
    reduce, borrow, repay, redeem = (
        bool(inputs.optional_bool(values, name))
        for name in ("reduceOnly", "autoBorrow", "autoBorrowRepay", "autoLendRedeem")
    )
    return PlaceOrder(
        subaccount_id=subaccount_id,
        market=spec.symbol,
        side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity_atoms=spec.step_atoms,
        price_wad=price,
        flags=OrderFlags(reduce_only=reduce, auto_borrow=borrow, auto_borrow_repay=repay, auto_lend_redeem=redeem),
    )


def cancel_order(
    subaccount_id: SubaccountId, values: Mapping[str, object], markets: Mapping[str, MarketSpec]
) -> CancelOrder:
    """Return the `CancelOrder` an OrderCancelPayload asks for: by `orderId` or by `clientId`, not both."""
    spec = require_market(markets, inputs.text(values, "symbol"))
    by_id, by_client = order_id(values), _client_id(values)
    if (by_id is None) == (by_client is None):
        raise ApiError("Give either orderId or clientId (one of them)")
    return CancelOrder(subaccount_id, spec.symbol, by_id, by_client)


def cancel_all_orders(
    subaccount_id: SubaccountId, values: Mapping[str, object], markets: Mapping[str, MarketSpec]
) -> CancelAllOrders:
    """Return the `CancelAllOrders` an OrderCancelAllPayload asks for."""
    scope = _optional_enum(values, "orderType", CancelScope)
    return CancelAllOrders(subaccount_id, require_market(markets, inputs.text(values, "symbol")).symbol, scope)


def batch(decoded: object) -> list[dict[str, object]]:
    """Return the order payloads of a decoded `POST /api/v1/orders` body: 1 to `BATCH_ORDERS_MAX` objects."""
    if not isinstance(decoded, list) or not decoded:
        raise ApiError("The request body must be a non-empty JSON array of orders")
    if len(decoded) > BATCH_ORDERS_MAX:
        raise ApiError(f"A batch holds at most {BATCH_ORDERS_MAX} orders, not {len(decoded)}")
    if not all(isinstance(item, dict) for item in decoded):
        raise ApiError("Every item of the batch must be a JSON object (one order payload)")
    for index, item in enumerate(decoded):
        inputs.require_parameter_count(len(item), f"Order {index} of the batch")
    return decoded
