"""Settlement every 10 seconds: perp PnL, fees and funding realized into USDC.

At each due 10-second boundary the perp marks are refreshed, then every position's unrealized PnL
(value at mark, rounded toward minus infinity, minus basis), pending fees and pending funding move
into its subaccount's USDC balance in one balanced entry against `PERP_CLEARING` (PnL and funding)
and `TRADING_FEES` (fees). The position keeps its size; its basis becomes its value at mark.

A subaccount left short of USDC is covered in a fixed order: (1) redeem its USDC lend; (2) if
`autoBorrowSettlements` is on, borrow the rest (entry fee and hourly interest as any borrow);
(3) otherwise sell other collateral for USDC on the book (IOC `CollateralConversion` orders).
Other collateral is never sold while an auto-borrow can serve. What cannot be covered stays as a
negative USDC balance, which margin counts as owed. Every step is recorded with its cause
(`ShortfallCovered`, and `Reconciliation` as the borrow-lend source), so "why do I have a USDC
borrow?" is one history query. A subaccount left with a profit gets its auto settings applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from crossmargin.core.accounts import Subaccount
from crossmargin.core.borrow_lend import borrow, redeem
from crossmargin.core.events import (
    BorrowLendSource,
    Conversion,
    PositionsSettled,
    ShortfallCovered,
)
from crossmargin.core.funding import apply_auto_settings
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import PERP_CLEARING, TRADING_FEES, new_tuple, spot
from crossmargin.core.markets import MarketKind, MarketSpec
from crossmargin.core.marks import refresh_perp_marks
from crossmargin.core.matching import preview_fill
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import Order, OrderFlags, OrderId, OrderSide, OrderType, SystemOrderType, TimeInForce
from crossmargin.core.perps import PerpPosition
from crossmargin.core.trading import run_order
from crossmargin.core.transaction import Transaction


def settle(tx: Transaction) -> None:
    """Settle every perp position at `tx.now_ms` (a 10-second boundary), then cover shortfalls.

    One tight pass: per position a handful of integer operations, one new position, one credit and
    a reference to the position as it was. Each market's moved positions make one `PositionsSettled`
    event (its `Settled` rows are expanded on read); the USDC moves of all positions go into one
    balanced bulk posting per asset.
    """
    tx.settlement_due_ms = None
    refresh_perp_marks(tx)
    credited_by_asset: dict[str, dict[SubaccountId, int]] = {}
    passes: dict[str, tuple[int, int, str, dict[SubaccountId, int], list[PerpPosition]]] = {
        spec.symbol: (
            tx.perp_mark(spec.symbol) * spec.quote_unit_atoms,
            spec.base_unit_atoms * WAD,
            spec.quote,
            credited_by_asset.setdefault(spec.quote, {}),
            [],
        )
        for spec in tx.perp_markets()
    }
    written = tx.perp_positions
    # Read as plain objects: compiled with mypyc, a typed unpacking unboxes every field and the new
    # position boxes them again, an allocation per field and position.
    positions: Any = perp_positions_by_key(tx)
    for key, position in positions.items():
        pid, account, market, quantity, basis, entry_cost, fee, funding, realized, cumulative, system_fee = position
        numerator, denominator, _, credited, moved = passes[market]
        value = quantity * numerator // denominator
        pnl = value - basis
        if not (pnl or fee or funding or system_fee):
            continue
        written[key] = new_tuple(
            PerpPosition, (pid, account, market, quantity, value, entry_cost, 0, 0, realized + pnl, cumulative, 0)
        )
        credited[account] = credited.get(account, 0) + pnl + funding - fee - system_fee
        moved.append(position)
    fees: dict[str, int] = dict.fromkeys(credited_by_asset, 0)
    for market, (numerator, denominator, quote, _, moved) in passes.items():
        if moved:
            tx.emit(PositionsSettled(market, numerator, denominator, tuple(moved), tx.now_ms))
            fees[quote] += sum(map(_PENDING_FEE, moved))
    for asset, credited in sorted(credited_by_asset.items()):
        if credited:
            # `TRADING_FEES` takes the trading fees and `PERP_CLEARING` the rest. A liquidation fee
            # was paid to the fund out of `PERP_CLEARING` when it was charged: settling it pays
            # `PERP_CLEARING` back.
            exchange = {PERP_CLEARING: -sum(credited.values()) - fees[asset], TRADING_FEES: fees[asset]}
            _cover(tx, asset, credited, tx.post_spot_credits(asset, credited, exchange))


_PENDING_FEE = itemgetter(PerpPosition._fields.index("pending_fee_atoms"))


def all_perp_positions(tx: Transaction) -> Iterable[PerpPosition]:
    """Return every perp position as of the transaction (the state's order, then new ones)."""
    return perp_positions_by_key(tx).values()


def perp_positions_by_key(tx: Transaction) -> dict[tuple[SubaccountId, str], PerpPosition]:
    """Return every perp position by (subaccount, market) as of the transaction (the state's dict if unchanged)."""
    layers = [layer for layer in (tx, *tx.parents) if layer.perp_positions]
    if not layers:
        return tx.state.perp_positions
    merged = dict(tx.state.perp_positions)
    for each in reversed(layers):
        merged.update(each.perp_positions)
    return merged


def _cover(tx: Transaction, asset: str, credited: dict[SubaccountId, int], balances: list[int | None]) -> None:
    """Cover every balance the pass left negative; apply auto settings where it left a profit.

    `balances` are the balances after the pass, in `credited`'s order (None: nothing posted, read
    from this layer). Only subaccounts with something to do are looked at, in subaccount order: a
    balance left negative, or a credit with auto-lend or auto-repay on.
    """
    subaccount_of = tx.subaccount
    due: list[tuple[SubaccountId, int]] = []
    for (owner, credit), posted in zip(credited.items(), balances, strict=True):
        balance = tx.ledger.get((spot(owner), asset), 0) if posted is None else posted
        if balance < 0:
            due.append((owner, balance))
        elif credit > 0:
            subaccount = subaccount_of(owner)
            assert subaccount is not None, "positions belong to existing subaccounts"
            if subaccount.auto_lend or subaccount.auto_repay_borrows:
                due.append((owner, 0))
    for owner, balance in sorted(due):
        subaccount = subaccount_of(owner)
        assert subaccount is not None, "positions belong to existing subaccounts"
        if balance < 0:
            cover_shortfall(tx, subaccount, asset, -balance)
        else:
            apply_auto_settings(tx, owner)


def cover_shortfall(tx: Transaction, subaccount: Subaccount, asset: str, short: int) -> None:
    """Cover a negative balance: redeem the lend, auto-borrow if allowed, else convert collateral."""
    spec = tx.spec(asset)
    assert spec is not None, "settlement assets are listed"
    account = subaccount.subaccount_id
    needed = short
    redeemed = borrowed = 0
    lent = tx.holding(account, asset).lend_atoms
    if lent:
        amount = min(short, lent)
        if redeem(tx, account, spec, amount, BorrowLendSource.RECONCILIATION) is None:
            redeemed, short = amount, short - amount
    still_lent = tx.holding(account, asset).lend_atoms
    can_borrow = short and subaccount.auto_borrow_settlements and not still_lent
    if can_borrow and borrow(tx, account, spec, short, BorrowLendSource.RECONCILIATION) is None:
        borrowed, short = short, 0
    conversions: tuple[Conversion, ...] = ()
    if short:
        conversions = convert_collateral(tx, subaccount, asset, short)
        short = max(0, short - sum(conversion.proceeds_atoms for conversion in conversions))
    tx.emit(
        ShortfallCovered(
            account,
            asset,
            needed,
            redeemed,
            borrowed,
            conversions,
            short,
            subaccount.auto_borrow_settlements,
            tx.now_ms,
        )
    )


def convert_collateral(tx: Transaction, subaccount: Subaccount, asset: str, short: int) -> tuple[Conversion, ...]:
    """Sell other collateral for `asset` on its spot books until `short` is covered or nothing sells.

    Lent collateral counts: the conversion redeems what it sells beyond the spot balance (auto-lent
    assets are collateral like any other), and sells only the spot balance if the pool refuses that.
    """
    done: list[Conversion] = []
    account = subaccount.subaccount_id
    for spec in _conversion_markets(tx, account, asset):
        holding = tx.holding(account, spec.base)
        most = holding.spot_atoms + holding.lend_atoms
        most -= most % spec.step_atoms
        if most <= 0:
            continue  # an earlier conversion's auto settings used it up: never a zero-quantity order
        quantity = _quantity_for(tx, spec, account, most, short)
        before = tx.balance(spot(account), asset)
        result = _sell(tx, spec, subaccount, quantity)
        if result is None:
            continue
        proceeds = tx.balance(spot(account), asset) - before
        done.append(Conversion(spec.base, result.executed_atoms, proceeds))
        short -= proceeds
        if short <= 0:
            break
    return tuple(done)


def _sell(tx: Transaction, spec: MarketSpec, subaccount: Subaccount, quantity: int) -> Order | None:
    """Sell `quantity` redeeming its lend as needed; if the redeem is refused, sell the spot balance only."""
    trial = Transaction(tx, tx.now_ms)
    result = run_order(trial, spec, subaccount, _conversion_order(trial, spec, subaccount, quantity))
    if isinstance(result, Order):
        trial.commit()
        return result
    held = tx.balance(spot(subaccount.subaccount_id), spec.base)
    quantity = min(quantity, held - held % spec.step_atoms)
    if quantity <= 0:
        return None
    result = run_order(tx, spec, subaccount, _conversion_order(tx, spec, subaccount, quantity))
    assert isinstance(result, Order), "a conversion within the spot balance is never refused"
    return result


def _conversion_order(tx: Transaction, spec: MarketSpec, subaccount: Subaccount, quantity: int) -> Order:
    return Order(
        order_id=OrderId(tx.take_id("next_order_id")),
        subaccount_id=subaccount.subaccount_id,
        market=spec.symbol,
        side=OrderSide.ASK,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        price_wad=0,
        quantity_atoms=quantity,
        created_ms=tx.now_ms,
        flags=OrderFlags(auto_lend_redeem=True),
        system_order_type=SystemOrderType.COLLATERAL_CONVERSION,
    )


def _conversion_markets(tx: Transaction, subaccount_id: SubaccountId, asset: str) -> list[MarketSpec]:
    """Return the spot markets selling held collateral (at least a step, spot or lent) for `asset`.

    Stablecoins first, then by symbol.
    """
    found = [
        spec
        for spec in tx.all_markets().values()
        if spec.kind is MarketKind.SPOT
        and spec.quote == asset
        and tx.balance(spot(subaccount_id), spec.base) + tx.holding(subaccount_id, spec.base).lend_atoms
        >= spec.step_atoms
    ]
    return sorted(found, key=lambda spec: (tx.mark_price(spec.base) != tx.mark_price(asset), spec.symbol))


def _quantity_for(tx: Transaction, spec: MarketSpec, subaccount_id: SubaccountId, most: int, short: int) -> int:
    """Return the least quantity (whole steps, at most `most` > 0) whose sale nets `short`, or `most`."""

    def proceeds(quantity: int) -> int:
        probe = Order(
            OrderId(0),
            subaccount_id,
            spec.symbol,
            OrderSide.ASK,
            OrderType.MARKET,
            TimeInForce.IOC,
            0,
            quantity,
            tx.now_ms,
        )
        sold, quote = preview_fill(tx, spec, probe)
        return quote - spec.taker_fee.apply_up(quote) if sold else 0

    if proceeds(most) <= short:
        return most
    low, high = 0, most // spec.step_atoms
    while high - low > 1:
        middle = (low + high) // 2
        if proceeds(middle * spec.step_atoms) >= short:
            high = middle
        else:
            low = middle
    return high * spec.step_atoms
