"""Liquidation's loose ends: throttled pools, auto-lend sources, lend-index cuts in the interest history, ADL fills."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.common import JsonValue
from crossmargin.api.views.history import view_borrow_lend_position_history, view_interest_history
from crossmargin.api.views.orders import view_fills, view_order_history
from crossmargin.core.borrow_lend import borrow, pool_liquidity, pool_supplied, redeem
from crossmargin.core.commands import Liquidate
from crossmargin.core.events import (
    Backstopped,
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    LiquidationStepKind,
    OrderChanged,
    ShortfallCovered,
)
from crossmargin.core.history import InterestKind, compute_interest_history
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.interest import compute_utilization
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderStatus, SystemOrderType, TriggerBy
from crossmargin.core.pools import lend_atoms
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

from .test_liquidation_perps import long_btc_perp


def _throttle(driver: Driver, symbol: str, collateral_btc: str = "30") -> SubaccountId:
    """Borrow 88% of the pool's supply: past the 85% throttle, below the 90% maximum."""
    borrower = driver.account()
    driver.deposit(borrower, "BTC", collateral_btc)
    spec = driver.state.specs[symbol]
    supplied = pool_supplied(Transaction(driver.state, driver.now_ms), symbol)
    atoms = supplied * 88 // 100 // spec.step_atoms * spec.step_atoms
    driver.borrow(borrower, symbol, driver.text(symbol, atoms))
    assert _utilization(driver, symbol) >= driver.state.specs[symbol].throttle_utilization_threshold.wad
    return borrower


def _utilization(driver: Driver, symbol: str) -> int:
    tx = Transaction(driver.state, driver.now_ms)
    return compute_utilization(tx.pool(symbol).borrowed_atoms, pool_supplied(tx, symbol))


def _objects(items: list[JsonValue]) -> list[dict[str, Any]]:
    """Return a view's rows as dictionaries (each row is a JSON object)."""
    rows = [item for item in items if isinstance(item, dict)]
    assert len(rows) == len(items)
    return rows


def _moves(events: tuple[object, ...], subaccount_id: SubaccountId) -> list[BorrowLendMoved]:
    return [event for event in events if isinstance(event, BorrowLendMoved) and event.subaccount_id == subaccount_id]


# (a) Liquidations never pause -----------------------------------------------------------------


def test_a_liquidation_redeems_a_lend_from_a_throttled_pool(driver: Driver) -> None:
    driver.lender(BTC="10", USDC="100000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "4500")
    driver.lend(trader, "USDC", "4500")
    driver.accept(driver.withdraw(trader, "BTC", "0.06", auto_borrow=True))
    _throttle(driver, "USDC")
    manual = redeem(
        Transaction(driver.state, driver.now_ms), trader, driver.state.specs["USDC"], 1, BorrowLendSource.MANUAL
    )
    assert manual is not None
    assert manual.reason is RejectReason.POOL_THROTTLED
    driver.prices(BTC="73000")
    maker = driver.account()
    driver.deposit(maker, "BTC", "100")
    driver.place(maker, "BTC_USDC", "sell", "1", "73500")
    assert driver.margin(trader).is_liquidatable
    lent = driver.holding(trader, "USDC").lend_atoms

    events = driver.accept(Liquidate(trader))

    (redeemed, *_) = _moves(events, trader)
    assert (redeemed.event_type, redeemed.source) == (BorrowLendEventType.LEND_REDEEM, BorrowLendSource.LIQUIDATION)
    assert redeemed.quantity_atoms == lent
    assert driver.state.liquidation_steps[0].kind is LiquidationStepKind.BUY_BORROWED
    assert not [event for event in events if isinstance(event, Backstopped)], "the redeemed USDC buys BTC back"


def test_a_lend_the_pool_cannot_pay_stays_collateral_through_the_liquidation(driver: Driver) -> None:
    driver.lender(BTC="10", USDC="1000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "4500")
    driver.lend(trader, "USDC", "4500")
    driver.accept(driver.withdraw(trader, "BTC", "0.06", auto_borrow=True))
    _throttle(driver, "USDC")
    lent = driver.holding(trader, "USDC").lend_atoms
    assert 0 < pool_liquidity(Transaction(driver.state, driver.now_ms), "USDC") < lent, "the pool cannot pay it"
    driver.prices(BTC="73000")
    assert driver.margin(trader).is_liquidatable

    events = driver.accept(Liquidate(trader))

    to_spot = [move for move in _moves(events, trader) if move.event_type is BorrowLendEventType.LEND_REDEEM]
    assert [move.balance_change_atoms for move in to_spot] == [0], "never redeemed to spot: the takeover moved it"
    assert [event.subaccount_id for event in events if isinstance(event, Backstopped)] == [trader]
    assert driver.holding(INSURANCE_FUND_ID, "USDC").lend_atoms >= lent, "the fund took the lend over"


def test_a_forced_redeem_passes_the_throttle_but_never_the_liquidity(driver: Driver) -> None:
    lender = driver.lender(USDC="100000")
    _throttle(driver, "USDC")
    spec = driver.state.specs["USDC"]
    tx = Transaction(driver.state, driver.now_ms)
    claim = tx.holding(lender, "USDC").lend_atoms
    liquidity = pool_liquidity(tx, "USDC")
    assert 0 < liquidity < claim
    plain = redeem(Transaction(tx, tx.now_ms), lender, spec, liquidity, BorrowLendSource.MANUAL)
    assert plain is not None
    assert plain.reason is RejectReason.POOL_THROTTLED
    too_much = redeem(
        Transaction(tx, tx.now_ms), lender, spec, liquidity + 1, BorrowLendSource.LIQUIDATION, forced=True
    )
    assert too_much is not None
    assert too_much.reason is RejectReason.POOL_LIQUIDITY_INSUFFICIENT
    trial = Transaction(tx, tx.now_ms)
    assert redeem(trial, lender, spec, liquidity, BorrowLendSource.LIQUIDATION, forced=True) is None
    assert pool_liquidity(trial, "USDC") == 0
    assert trial.pool("USDC").borrowed_atoms == pool_supplied(trial, "USDC"), "INV-POOL-1 holds at the edge"


def test_a_forced_borrow_passes_the_throttle_but_never_the_liquidity(driver: Driver) -> None:
    driver.lender(USDC="100000")
    _throttle(driver, "USDC")
    other = driver.account()
    driver.deposit(other, "BTC", "10")
    spec = driver.state.specs["USDC"]
    tx = Transaction(driver.state, driver.now_ms)
    liquidity = pool_liquidity(tx, "USDC")
    plain = borrow(Transaction(tx, tx.now_ms), other, spec, 1_000_000, BorrowLendSource.MANUAL)
    assert plain is not None
    assert plain.reason is RejectReason.POOL_THROTTLED
    beyond = borrow(
        Transaction(tx, tx.now_ms), other, spec, liquidity + 1, BorrowLendSource.BACKSTOP_PROVIDER, forced=True
    )
    assert beyond is not None
    assert beyond.reason is RejectReason.POOL_LIQUIDITY_INSUFFICIENT
    trial = Transaction(tx, tx.now_ms)
    assert borrow(trial, other, spec, 1_000_000, BorrowLendSource.BACKSTOP_PROVIDER, forced=True) is None
    assert trial.holding(other, "USDC").spot_atoms == 1_000_000


def test_the_fund_borrows_what_it_is_short_from_a_throttled_pool(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.settings(trader, auto_borrow_settlements=False)
    _throttle(driver, "USDC")
    driver.prices(BTC="50000")
    driver.tick(20_000)
    assert driver.holding(trader, "USDC").spot_atoms < 0
    events = driver.accept(Liquidate(trader))
    fund_moves = _moves(events, INSURANCE_FUND_ID)
    assert [(move.event_type, move.source) for move in fund_moves] == [
        (BorrowLendEventType.BORROW, BorrowLendSource.BACKSTOP_PROVIDER)
    ]
    assert driver.holding(INSURANCE_FUND_ID, "USDC").spot_atoms >= 0


# (b) Auto settings record a liquidation's proceeds as Liquidation --------------------------------


def test_an_auto_lend_account_s_liquidation_records_every_movement_as_liquidation(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.settings(trader, auto_lend=True)
    driver.maker("BTC_USDC", "55900", "10", "5")
    driver.prices(BTC="55900")
    assert driver.margin(trader).is_liquidatable

    events = driver.accept(Liquidate(trader))

    moves = _moves(events, trader)
    assert any(move.event_type is BorrowLendEventType.BORROW_REPAY for move in moves)
    assert {move.source for move in moves} == {BorrowLendSource.LIQUIDATION}
    assert {step.kind for step in driver.state.liquidation_steps} == {LiquidationStepKind.SELL_COLLATERAL}


def test_a_cancelled_order_s_release_at_the_start_is_recorded_as_liquidation(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.deposit(trader, "ETH", "1")
    driver.accept(driver.withdraw(trader, "USDC", "49000", auto_borrow=True))
    driver.place(trader, "ETH_USDC", "sell", "1", "3700")  # locks the ETH
    driver.settings(trader, auto_lend=True)
    driver.prices(BTC="50000")
    assert driver.margin(trader).is_liquidatable

    events = driver.accept(Liquidate(trader))

    moves = _moves(events, trader)
    assert moves, "the released ETH is lent, then redeemed"
    assert {move.source for move in moves} <= {BorrowLendSource.LIQUIDATION, BorrowLendSource.LIQUIDATION_BACKSTOP}


# (c) A lend-index cut in the interest history ---------------------------------------------------


def _crash_with_a_cut(driver: Driver) -> tuple[SubaccountId, SubaccountId]:
    lender = driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.deposit(INSURANCE_FUND_ID, "USDC", "1000")
    driver.prices(BTC="40000")
    return lender, trader


def test_a_lender_sees_its_loss_share_as_a_negative_lend_row(driver: Driver) -> None:
    lender, trader = _crash_with_a_cut(driver)
    position = driver.state.positions[(lender, "USDC")]
    claim_before = driver.holding(lender, "USDC").lend_atoms
    driver.accept(Liquidate(trader))
    late = driver.lender(USDC="500")  # the same millisecond, after the cut

    (cut,) = driver.state.lend_index_cuts
    (row,) = [
        row
        for row in compute_interest_history(driver.state, lender)
        if row.at_ms == cut.at_ms and row.kind is InterestKind.LEND
    ]
    lost = lend_atoms(position.lend_scaled, cut.lend_index_after_ray) - lend_atoms(
        position.lend_scaled, cut.lend_index_before_ray
    )
    assert (row.kind, row.quantity_atoms, row.rate_wad, row.interval_ms) == (InterestKind.LEND, lost, 0, 0)
    assert -lost == claim_before - driver.holding(lender, "USDC").lend_atoms
    assert driver.text("USDC", -lost) == "7000.197261"
    assert not compute_interest_history(driver.state, late), "a lend made after the cut bore none of it"
    assert all(row.kind is InterestKind.ENTRY_FEE for row in compute_interest_history(driver.state, trader))

    (shown,) = [
        item for item in _objects(view_interest_history(driver.state, lender)) if str(item["quantity"]).startswith("-")
    ]
    assert shown["paymentType"] == "Lend"
    assert (shown["quantity"], shown["interestRate"], shown["interval"]) == ("-7000.197261", "0", 0)
    assert shown["positionId"] == str(position.position_id)
    (summary,) = _objects(view_borrow_lend_position_history(driver.state, lender))
    value = driver.holding(lender, "USDC").lend_atoms
    assert summary["cumulativeInterest"] == driver.text("USDC", value - 1_000_000_000_000)


def test_rows_telescope_across_hours_and_a_cut(driver: Driver) -> None:
    lender, trader = _crash_with_a_cut(driver)
    position = driver.state.positions[(lender, "USDC")]
    start = lend_atoms(position.lend_scaled, driver.state.pools["USDC"].lend_index_ray)
    driver.tick(driver.now_ms + 2 * 3_600_000)
    driver.accept(Liquidate(trader))
    driver.tick(driver.now_ms + 2 * 3_600_000)
    rows = compute_interest_history(driver.state, lender)
    assert {row.kind for row in rows} <= {InterestKind.LEND, InterestKind.ENTRY_FEE}
    assert sum(row.quantity_atoms < 0 for row in rows) == 1
    # No movement since `start`: the rows since then add up to the change of the claim exactly.
    since = sum(row.quantity_atoms for row in rows if row.at_ms > position_time(driver, lender))
    assert since == driver.holding(lender, "USDC").lend_atoms - start


def position_time(driver: Driver, subaccount_id: SubaccountId) -> int:
    """Return when the subaccount's last movement happened."""
    return max(move.at_ms for move in driver.state.movements if move.subaccount_id == subaccount_id)


# (d) ADL fills are recorded as system orders ----------------------------------------------------


def test_adl_fills_have_orders_a_price_and_their_system_order_type_on_both_sides(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.settings(trader, auto_borrow_settlements=False)
    (seller,) = [owner for owner, _ in driver.state.perp_positions if owner != trader]
    driver.prices(BTC="50000")
    driver.tick(20_000)
    driver.accept(Liquidate(trader))
    (adl,) = driver.state.auto_deleverages
    fill = driver.state.fills[-1]
    assert fill.system_order_type is SystemOrderType.LIQUIDATE_POSITION_ON_ADL
    assert 0 not in (fill.maker_order_id, fill.taker_order_id)
    assert fill.maker_order_id != fill.taker_order_id
    spec = driver.state.markets["BTC_USDC_PERP"]
    # The price is the quote over the size, rounded down to the WAD: off the tick grid in general.
    assert fill.price_wad == fill.quote_atoms * spec.base_unit_atoms * WAD // (
        fill.quantity_atoms * spec.quote_unit_atoms
    )
    assert fill.quote_atoms == adl.quote_atoms
    orders = {order.order_id: order for kept in driver.state.closed_orders.values() for order in kept}
    for order_id, owner in ((fill.maker_order_id, seller), (fill.taker_order_id, INSURANCE_FUND_ID)):
        order = orders[order_id]
        assert (order.subaccount_id, order.status, order.system_order_type) == (
            owner,
            OrderStatus.FILLED,
            SystemOrderType.LIQUIDATE_POSITION_ON_ADL,
        )
        assert (order.executed_atoms, order.executed_quote_atoms) == (fill.quantity_atoms, fill.quote_atoms)
        assert order.flags.reduce_only
    (row,) = _objects(view_fills(driver.state, seller, fill_type="Adl"))
    assert row["systemOrderType"] == "LiquidatePositionOnAdl"
    assert row["orderId"] == str(fill.maker_order_id)
    assert row["isMaker"] is True
    assert row["price"] != "0"
    assert _objects(view_fills(driver.state, seller, fill_type="AllLiquidation")) == [row]
    assert fill.trade_id not in [
        item["tradeId"] for item in _objects(view_fills(driver.state, seller, fill_type="User"))
    ]
    (fund_row,) = _objects(view_fills(driver.state, INSURANCE_FUND_ID, fill_type="Adl"))
    assert fund_row["orderId"] == str(fill.taker_order_id)
    (shown,) = [
        item for item in _objects(view_order_history(driver.state, seller)) if item["id"] == str(fill.maker_order_id)
    ]
    assert (shown["systemOrderType"], shown["status"]) == ("LiquidatePositionOnAdl", "Filled")


# Found by the liquidation machine's reasoning: a fund short the pool cannot lend -----------------


def _fund_short(driver: Driver, fund_lend: str, drained: str) -> tuple[object, ...]:
    """A long perp loses 13,930 USDC past its collateral; the fund takes it over, lending `fund_lend` USDC."""
    driver.lender(USDC="100000")
    if fund_lend != "0":
        driver.deposit(INSURANCE_FUND_ID, "USDC", fund_lend)
        driver.lend(INSURANCE_FUND_ID, "USDC", fund_lend)
    seller = driver.account()
    driver.deposit(seller, "USDC", "100000")
    driver.place(seller, "BTC_USDC_PERP", "sell", "1", "60000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "6100")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    driver.settings(trader, auto_borrow_settlements=False)
    if drained != "0":
        borrower = driver.account()
        driver.deposit(borrower, "BTC", "30")
        driver.borrow(borrower, "USDC", drained)
    driver.prices(BTC="40000")
    driver.tick(20_000)
    assert driver.usdc(trader) == "-13930"
    return driver.accept(Liquidate(trader))


def _fund_shortfalls(events: tuple[object, ...]) -> list[ShortfallCovered]:
    return [e for e in events if isinstance(e, ShortfallCovered) and e.subaccount_id == INSURANCE_FUND_ID]


def test_a_fund_short_the_pool_cannot_lend_is_recorded_as_uncovered(driver: Driver) -> None:
    events = _fund_short(driver, "0", "89000")
    (short,) = _fund_shortfalls(events)
    assert (short.symbol, short.redeemed_atoms, short.borrowed_atoms) == ("USDC", 0, 0)
    assert driver.text("USDC", short.uncovered_atoms) == "13930"
    assert driver.usdc(INSURANCE_FUND_ID) == "-13930"  # owed, and the audit (at teardown) reads it so


def test_the_fund_s_lend_covers_its_short_first_then_a_borrow(driver: Driver) -> None:
    events = _fund_short(driver, "5000", "0")
    assert not _fund_shortfalls(events)
    moves = [(m.event_type, driver.text("USDC", m.quantity_atoms)) for m in _moves(events, INSURANCE_FUND_ID)]
    assert moves == [(BorrowLendEventType.LEND_REDEEM, "5000"), (BorrowLendEventType.BORROW, "8930")]
    assert driver.usdc(INSURANCE_FUND_ID) == "0"


def test_a_large_fund_lend_covers_the_whole_short(driver: Driver) -> None:
    events = _fund_short(driver, "20000", "0")
    assert not _fund_shortfalls(events)
    moves = [(m.event_type, driver.text("USDC", m.quantity_atoms)) for m in _moves(events, INSURANCE_FUND_ID)]
    assert moves == [(BorrowLendEventType.LEND_REDEEM, "13930")]


def test_a_fund_lend_the_pool_cannot_pay_leaves_the_short_uncovered(driver: Driver) -> None:
    events = _fund_short(driver, "20000", "107500")
    (short,) = _fund_shortfalls(events)
    assert (short.redeemed_atoms, short.borrowed_atoms) == (0, 0)
    assert driver.text("USDC", short.uncovered_atoms) == "13930"
    assert driver.holding(INSURANCE_FUND_ID, "USDC").lend_atoms > 0


# Found by the liquidation machine: a debt that more USDC cannot repay ---------------------------


def test_a_debt_the_book_cannot_buy_back_goes_to_the_fund_rather_than_converting_collateral(driver: Driver) -> None:
    # A BTC debt with USDC held and no BTC ask in the band: selling ETH for more USDC repays
    # nothing. It used to count as progress (ETH's weight is below USDC's), so a liquidation with
    # a stuck perp and a dust debt converted collateral a step at a time and never reached its
    # backstop (the liquidation machine's finding).
    driver.lender(BTC="10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.deposit(trader, "ETH", "2")
    driver.accept(driver.withdraw(trader, "BTC", "0.08", auto_borrow=True))
    maker = driver.account()
    driver.deposit(maker, "USDC", "100000")
    driver.place(maker, "ETH_USDC", "buy", "10", "2990")
    driver.prices(BTC="78000")
    assert driver.margin(trader).net_equity_wad > 0
    assert driver.margin(trader).is_liquidatable

    events = driver.accept(Liquidate(trader))

    assert not [step for step in driver.state.liquidation_steps if step.kind is LiquidationStepKind.SELL_COLLATERAL]
    assert [event for event in events if isinstance(event, Backstopped)]


def test_the_fund_s_hourly_interest_after_a_cut_follows_its_real_debt(driver: Driver) -> None:
    # A lend-index cut forgives part of the fund's debt; it is recorded as a repay by the backstop
    # provider, so the next hour's derived interest row is what the debt really grew by.
    _, trader = _crash_with_a_cut(driver)
    driver.accept(Liquidate(trader))
    (cut,) = driver.state.lend_index_cuts
    (forgiven,) = [
        movement
        for movement in driver.state.movements
        if movement.subaccount_id == INSURANCE_FUND_ID and movement.event_type is BorrowLendEventType.BORROW_REPAY
    ]
    assert (forgiven.source, forgiven.quantity_atoms) == (BorrowLendSource.BACKSTOP_PROVIDER, cut.loss_atoms)
    debt_before = driver.holding(INSURANCE_FUND_ID, "USDC").debt_atoms
    hour = (driver.now_ms // HOUR_MS + 1) * HOUR_MS
    driver.tick(hour)
    grown = driver.holding(INSURANCE_FUND_ID, "USDC").debt_atoms - debt_before
    (row,) = [row for row in compute_interest_history(driver.state, INSURANCE_FUND_ID) if row.at_ms == hour]
    assert row.kind is InterestKind.BORROW
    assert row.quantity_atoms == grown


# (e) Pending trigger orders at the start ---------------------------------------------------------


def test_the_start_cancels_pending_trigger_orders_so_none_fires_after_the_liquidation(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    entry = replace(
        driver.order(trader, "ETH_USDC", "buy", "0.1"),
        trigger_price_wad=5_000 * WAD,
        trigger_by=TriggerBy.INDEX_PRICE,
    )
    driver.accept(entry)
    (pending,) = [order for order in driver.state.trigger_orders.values() if order.subaccount_id == trader]
    driver.prices(BTC="50000")
    assert driver.margin(trader).is_liquidatable

    events = driver.accept(Liquidate(trader))

    cancelled = [event.order for event in events if isinstance(event, OrderChanged)]
    assert [(order.order_id, order.status) for order in cancelled if order.order_id == pending.order_id] == [
        (pending.order_id, OrderStatus.CANCELLED)
    ]
    assert not [order for order in driver.state.trigger_orders.values() if order.subaccount_id == trader]
    driver.prices(ETH="5000")
    assert driver.perp(trader, "ETH_USDC_PERP") is None
    assert driver.holding(trader, "ETH").spot_atoms == 0, "the cancelled trigger never fires"
