"""Matching: an incoming order against the resting book, in price-time priority.

The taker walks the opposite side best price first and, within a level, oldest order first; it
fills at the maker's price. Self-trade prevention applies when it meets its own subaccount's
order. Each fill moves money at once: a spot fill swaps what the two orders locked (each side
pays its fee in the asset it receives, rounded up), a perp fill changes both positions and books
the fees to settle in USDC. Makers are read through the transaction, so fills earlier in the same
command are seen; the committed book itself changes only at commit.
"""

from __future__ import annotations

from crossmargin.core.events import OrderChanged, PerpPositionChanged, Traded
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import TRADING_FEES, entry, locked, spot
from crossmargin.core.markets import MarketSpec
from crossmargin.core.orders import (
    ExpiryReason,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
)
from crossmargin.core.perps import PerpPosition, apply_trade
from crossmargin.core.transaction import Transaction


def crosses(order: Order, price_wad: int) -> bool:
    """Return whether an order would trade at a resting price."""
    if order.order_type is OrderType.MARKET:
        return True
    return price_wad <= order.price_wad if order.side is OrderSide.BID else price_wad >= order.price_wad


def preview_fill(
    tx: Transaction, spec: MarketSpec, order: Order, *, quote_budget: int | None = None
) -> tuple[int, int]:
    """Return (quantity, quote value) the book would give an order now, as matching would walk it.

    The order's own resting orders are passed over when self-trade prevention cancels the maker
    (RejectMaker) and end the walk when it stops the taker (RejectTaker, RejectBoth), exactly as
    `match` does. With `quote_budget`, the walk stops before spending more than it (whole steps only).
    """
    stops_at_own = order.self_trade_prevention is not SelfTradePrevention.REJECT_MAKER
    wanted = order.quantity_atoms
    quantity = quote = 0
    for price, ids in tx.book(spec.symbol).opposite(order.side).iter_levels():
        if not crosses(order, price) or (quote_budget is None and quantity >= wanted):
            break
        for maker_id in ids:
            maker = tx.order(maker_id)
            if maker is None or not maker.is_open:
                continue
            if maker.subaccount_id == order.subaccount_id:
                if stops_at_own:
                    return quantity, quote
                continue
            take = maker.remaining_atoms if quote_budget is not None else min(maker.remaining_atoms, wanted - quantity)
            if quote_budget is not None:
                affordable = _steps_affordable(spec, quote_budget - quote, price)
                take = min(take, affordable)
                if take == 0:
                    return quantity, quote
            quantity += take
            quote += spec.quote_atoms(take, price)
            if quote_budget is None and quantity >= wanted:
                break
    return quantity, quote


def _steps_affordable(spec: MarketSpec, budget: int, price_wad: int) -> int:
    one_step = spec.quote_atoms(spec.step_atoms, price_wad)
    return (budget // one_step) * spec.step_atoms if one_step else 0


def match(tx: Transaction, spec: MarketSpec, taker: Order) -> tuple[Order, set[SubaccountId]]:
    """Match a taker against the book; return it after its fills and the makers it traded with."""
    makers: set[SubaccountId] = set()
    for price, ids in tx.book(spec.symbol).opposite(taker.side).iter_levels():
        if not crosses(taker, price):
            break
        for maker_id in ids:
            maker = tx.order(maker_id)
            if maker is None or not maker.is_open:
                continue
            if maker.subaccount_id == taker.subaccount_id:
                stopped = _self_trade(tx, taker, maker)
                if stopped is not None:
                    return stopped, makers
                continue
            quantity = min(taker.remaining_atoms, maker.remaining_atoms)
            taker = execute_fill(tx, spec, taker, maker, price, quantity)
            makers.add(maker.subaccount_id)
            if taker.remaining_atoms == 0:
                return taker, makers
    return taker, makers


def _self_trade(tx: Transaction, taker: Order, maker: Order) -> Order | None:
    """Apply self-trade prevention; return the stopped taker, or None to go on past the maker."""
    rule = taker.self_trade_prevention
    if rule in (SelfTradePrevention.REJECT_MAKER, SelfTradePrevention.REJECT_BOTH):
        close_order(tx, maker, OrderStatus.EXPIRED, ExpiryReason.SELF_TRADE_PREVENTION)
    if rule in (SelfTradePrevention.REJECT_TAKER, SelfTradePrevention.REJECT_BOTH):
        return taker.changed(status=OrderStatus.EXPIRED, expiry_reason=ExpiryReason.SELF_TRADE_PREVENTION)
    return None


def close_order(tx: Transaction, order: Order, status: OrderStatus, reason: ExpiryReason | None = None) -> Order:
    """Close an order (cancelled, expired or filled), give back what it locked, record it."""
    spec = tx.market(order.market)
    assert spec is not None, "orders belong to listed markets"
    if order.locked_atoms:
        asset = spec.quote if order.side is OrderSide.BID else spec.base
        account = order.subaccount_id
        tx.post(entry(asset, (locked(account), -order.locked_atoms), (spot(account), order.locked_atoms)))
    closed = order.changed(status=status, expiry_reason=reason, locked_atoms=0)
    tx.set_order(closed)
    tx.emit(OrderChanged(closed, tx.now_ms))
    return closed


def execute_fill(tx: Transaction, spec: MarketSpec, taker: Order, maker: Order, price_wad: int, quantity: int) -> Order:
    """Trade `quantity` at `price_wad` between a taker and a maker; return the taker after."""
    quote = spec.quote_atoms(quantity, price_wad)
    taker_receives, maker_receives = (quantity, quote) if taker.side is OrderSide.BID else (quote, quantity)
    if spec.is_perp:
        taker_fee = spec.taker_fee.apply_up(quote)
        maker_fee = spec.maker_fee.apply_up(quote)
        _trade_perp(tx, spec, taker, quantity, quote, taker_fee)
        _trade_perp(tx, spec, maker, quantity, quote, maker_fee)
        fee_symbols = (spec.quote, spec.quote)
    else:
        taker_fee = spec.taker_fee.apply_up(taker_receives)
        maker_fee = spec.maker_fee.apply_up(maker_receives)
        _swap_spot(tx, spec, taker, maker, quantity, quote, (taker_fee, maker_fee))
        fee_symbols = (spec.base, spec.quote) if taker.side is OrderSide.BID else (spec.quote, spec.base)
    trade_id = tx.take_id("next_trade_id")
    tx.emit(
        Traded(
            Fill(
                trade_id=trade_id,
                market=spec.symbol,
                price_wad=price_wad,
                quantity_atoms=quantity,
                quote_atoms=quote,
                taker_side=taker.side,
                maker_order_id=maker.order_id,
                taker_order_id=taker.order_id,
                maker_subaccount_id=maker.subaccount_id,
                taker_subaccount_id=taker.subaccount_id,
                maker_fee_atoms=maker_fee,
                taker_fee_atoms=taker_fee,
                maker_fee_symbol=fee_symbols[1],
                taker_fee_symbol=fee_symbols[0],
                at_ms=tx.now_ms,
                system_order_type=taker.system_order_type,
            )
        )
    )
    maker_after = _filled(maker, quantity, quote, spot_spent=not spec.is_perp)
    if maker_after.status is OrderStatus.FILLED:
        close_order(tx, maker_after, OrderStatus.FILLED)
    else:
        tx.set_order(maker_after)
        tx.emit(OrderChanged(maker_after, tx.now_ms))
    return _filled(taker, quantity, quote, spot_spent=not spec.is_perp)


def _filled(order: Order, quantity: int, quote: int, *, spot_spent: bool) -> Order:
    spent = 0
    if spot_spent:
        spent = quote if order.side is OrderSide.BID else quantity
    executed = order.executed_atoms + quantity
    return order.changed(
        executed_atoms=executed,
        executed_quote_atoms=order.executed_quote_atoms + quote,
        locked_atoms=order.locked_atoms - spent,
        status=OrderStatus.FILLED if executed == order.quantity_atoms else OrderStatus.PARTIALLY_FILLED,
    )


def _swap_spot(
    tx: Transaction, spec: MarketSpec, taker: Order, maker: Order, quantity: int, quote: int, fees: tuple[int, int]
) -> None:
    buyer, seller = (taker, maker) if taker.side is OrderSide.BID else (maker, taker)
    buyer_fee, seller_fee = fees if taker.side is OrderSide.BID else (fees[1], fees[0])
    assert buyer.locked_atoms >= quote, "a bid locks what it can spend"
    assert seller.locked_atoms >= quantity, "an ask locks what it can sell"
    tx.post(
        entry(
            spec.base,
            (locked(seller.subaccount_id), -quantity),
            (spot(buyer.subaccount_id), quantity - buyer_fee),
            (TRADING_FEES, buyer_fee),
        )
    )
    tx.post(
        entry(
            spec.quote,
            (locked(buyer.subaccount_id), -quote),
            (spot(seller.subaccount_id), quote - seller_fee),
            (TRADING_FEES, seller_fee),
        )
    )


def _trade_perp(tx: Transaction, spec: MarketSpec, order: Order, quantity: int, quote: int, fee: int) -> None:
    position = tx.perp_position(order.subaccount_id, spec.symbol)
    if position is None:
        position = PerpPosition(tx.new_position_id(), order.subaccount_id, spec.symbol)
    signed = quantity if order.side is OrderSide.BID else -quantity
    after = apply_trade(position, signed, quote, fee)
    long_change = max(after.quantity_atoms, 0) - max(position.quantity_atoms, 0)
    if long_change:
        tx.open_interest_atoms[spec.symbol] = tx.open_interest(spec.symbol) + long_change
    tx.set_perp_position(after)
    tx.emit(PerpPositionChanged(after, tx.now_ms))
