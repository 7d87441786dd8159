"""The audit's trading checks notice every kind of broken trading state they claim to check."""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import Driver

from crossmargin.core.audit import audit
from crossmargin.core.events import ShortfallCovered, Withdrew
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import ROUNDING, TRADING_FEES, WORLD, locked, spot
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.orders import Order, OrderId, OrderSide, OrderStatus
from crossmargin.core.perps import PerpPosition
from crossmargin.core.state import EngineState

TRADING_CHECKS = {
    "INV-PERP-1",
    "INV-PERP-2",
    "INV-ORDER-1",
    "INV-ORDER-2",
    "INV-ORDER-3",
    "INV-BOOK-1",
    "INV-TRIGGER-1",
}


def failing(state: EngineState) -> set[str]:
    return {check.invariant for check in audit(state) if not check.ok}


def trading_state(driver: Driver) -> EngineState:
    """A market maker on BTC_USDC and BTC_USDC_PERP; a trader partly fills, rests orders, holds a perp."""
    driver.lender(USDC="100000")
    driver.maker("BTC_USDC", "60000", "10", "1")
    driver.maker("BTC_USDC_PERP", "60000", "10", "1")
    trader = driver.account()
    driver.deposit(trader, "USDC", "50000")
    driver.deposit(trader, "BTC", "1")
    driver.place(trader, "BTC_USDC", "buy", "0.1", "59000")
    driver.place(trader, "BTC_USDC", "sell", "0.2", "61000")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.5")
    driver.place(trader, "BTC_USDC_PERP", "sell", "0.1", "62000")
    driver.place(trader, "BTC_USDC", "buy", "0.05")
    assert failing(driver.state) == set()
    return copy.deepcopy(driver.state)


def moved(position: PerpPosition, market: str, quantity_atoms: int) -> PerpPosition:
    """Return a copy of a position in another market or with another size."""
    return PerpPosition(
        position_id=position.position_id,
        subaccount_id=position.subaccount_id,
        market=market,
        quantity_atoms=quantity_atoms,
        basis_atoms=position.basis_atoms,
        entry_cost_atoms=position.entry_cost_atoms,
    )


def open_order(state: EngineState, market: str, side: OrderSide) -> Order:
    return next(order for order in state.orders.values() if order.market == market and order.side is side)


def test_a_healthy_trading_state_passes_every_trading_check(driver: Driver) -> None:
    state = trading_state(driver)
    checked = {check.invariant for check in audit(state)}
    assert checked >= TRADING_CHECKS
    assert any(order.status is OrderStatus.PARTIALLY_FILLED for order in state.orders.values())
    assert state.perp_positions


def test_perp_positions_that_do_not_net_to_zero_are_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    key, position = next(iter(state.perp_positions.items()))
    state.perp_positions[key] = moved(position, position.market, position.quantity_atoms + 1)
    assert "INV-PERP-1" in failing(state)


def test_a_position_in_an_unlisted_market_is_checked_too(driver: Driver) -> None:
    state = trading_state(driver)
    _, position = next(iter(state.perp_positions.items()))
    state.perp_positions[(position.subaccount_id, "DOGE_USDC_PERP")] = moved(
        position, "DOGE_USDC_PERP", position.quantity_atoms
    )
    details = [check.detail for check in audit(state) if not check.ok]
    assert "INV-PERP-1" in failing(state)
    assert any("DOGE_USDC_PERP" in detail for detail in details)


def test_open_interest_that_is_not_the_longs_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    state.open_interest_atoms["BTC_USDC_PERP"] += 1
    assert failing(state) == {"INV-PERP-2"}


def test_a_ledger_lock_without_an_order_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    sub = open_order(state, "BTC_USDC", OrderSide.BID).subaccount_id
    state.ledger[(locked(sub), "USDC")] += 1
    state.ledger[(spot(sub), "USDC")] -= 1
    assert failing(state) == {"INV-ORDER-1"}


def test_an_order_locking_more_than_the_ledger_holds_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = open_order(state, "BTC_USDC", OrderSide.ASK)
    state.orders[order.order_id] = replace(order, locked_atoms=order.locked_atoms + 1)
    assert failing(state) == {"INV-ORDER-1"}


def test_a_perp_order_that_locks_funds_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = open_order(state, "BTC_USDC_PERP", OrderSide.ASK)
    state.orders[order.order_id] = replace(order, locked_atoms=1)
    assert failing(state) == {"INV-ORDER-1"}


def test_an_open_order_missing_from_its_book_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = open_order(state, "BTC_USDC", OrderSide.BID)
    state.books["BTC_USDC"].remove(order)
    assert failing(state) == {"INV-ORDER-2"}


def test_an_order_resting_twice_or_at_the_wrong_price_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = open_order(state, "BTC_USDC", OrderSide.BID)
    state.books["BTC_USDC"].bids.add(order.price_wad - 10**18, order.order_id)
    assert failing(state) == {"INV-ORDER-2"}


def test_a_closed_or_unknown_order_in_a_book_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    state.books["ETH_USDC"].asks.add(3_000 * 10**18, OrderId(10_000))
    assert "INV-ORDER-2" in failing(state)


def test_a_level_out_of_time_order_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = open_order(state, "BTC_USDC", OrderSide.BID)
    later = replace(order, order_id=OrderId(order.order_id + 10_000))
    state.orders[later.order_id] = later
    state.open_order_ids[later.subaccount_id][later.order_id] = None
    level = state.books["BTC_USDC"].bids.levels[-order.price_wad]
    level.clear()
    level.update({later.order_id: None, order.order_id: None})
    state.ledger[(locked(order.subaccount_id), "USDC")] += order.locked_atoms
    state.ledger[(WORLD, "USDC")] -= order.locked_atoms
    # The locked funds were added behind the history's back: the statement no longer adds up either.
    assert failing(state) == {"INV-ORDER-2", "INV-STATEMENT-1"}


def test_an_unindexed_or_empty_price_level_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    state.books["SOL_USDC"].asks.levels[150 * 10**18] = {}
    assert failing(state) == {"INV-ORDER-2"}


def test_a_stale_open_order_index_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    state.open_order_ids.setdefault(SubaccountId(99), {})[OrderId(1)] = None
    assert failing(state) == {"INV-ORDER-2"}


def test_stale_perp_order_totals_are_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    resting = open_order(state, "BTC_USDC_PERP", OrderSide.ASK)
    key = (resting.subaccount_id, "BTC_USDC_PERP")
    bids, asks = state.perp_order_totals[key]
    state.perp_order_totals[key] = (bids, asks + 1)
    assert failing(state) == {"INV-ORDER-2"}


def test_perp_order_totals_are_rebuilt_with_the_other_indexes(driver: Driver) -> None:
    state = trading_state(driver)
    kept = dict(state.perp_order_totals)
    assert any(asks for _, asks in kept.values())
    assert any(bids for bids, _ in kept.values())
    state.perp_order_totals.clear()
    state.rebuild_indexes()
    assert state.perp_order_totals == kept


def test_a_crossed_book_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    bid = open_order(state, "BTC_USDC_PERP", OrderSide.BID)
    state.books["BTC_USDC_PERP"].remove(bid)
    crossing = replace(bid, price_wad=63_000 * 10**18)
    state.orders[bid.order_id] = crossing
    state.books["BTC_USDC_PERP"].add(crossing)
    # The crossing bid is also a best bid the perp's mark was not computed from.
    assert failing(state) == {"INV-BOOK-1", "INV-MARK-1"}


def test_a_perp_mark_the_re_mark_missed_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    state.perp_marks_wad["BTC_USDC_PERP"] += 1
    assert failing(state) == {"INV-MARK-1"}


def test_a_perp_market_without_an_index_price_has_no_mark_to_check(driver: Driver) -> None:
    state = trading_state(driver)
    state.perp_marks_wad["BTC_USDC_PERP"] += 1
    del state.mark_prices_wad["BTC"]
    assert "INV-MARK-1" not in failing(state)


def test_a_partly_filled_order_still_marked_new_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = next(order for order in state.orders.values() if order.status is OrderStatus.PARTIALLY_FILLED)
    state.orders[order.order_id] = replace(order, status=OrderStatus.NEW)
    assert failing(state) == {"INV-ORDER-3"}


def test_an_unfilled_order_marked_partially_filled_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = next(order for order in state.orders.values() if order.status is OrderStatus.NEW)
    state.orders[order.order_id] = replace(order, status=OrderStatus.PARTIALLY_FILLED)
    assert failing(state) == {"INV-ORDER-3"}


def test_a_fully_filled_order_left_open_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = next(order for order in state.orders.values() if order.status is OrderStatus.PARTIALLY_FILLED)
    state.orders[order.order_id] = replace(order, executed_atoms=order.quantity_atoms)
    assert failing(state) == {"INV-ORDER-3"}


def test_an_order_filed_under_another_id_is_flagged(driver: Driver) -> None:
    state = trading_state(driver)
    order = next(order for order in state.orders.values() if order.status is OrderStatus.NEW)
    state.orders[order.order_id] = replace(order, order_id=OrderId(order.order_id + 1))
    assert "INV-ORDER-3" in failing(state)


def test_negative_locks_and_fee_income_are_claims_gone_wrong(driver: Driver) -> None:
    state = trading_state(driver)
    state.ledger[(TRADING_FEES, "ETH")] = -1
    state.ledger[(WORLD, "ETH")] = state.ledger.get((WORLD, "ETH"), 0) + 1
    # The atom the fees lost came from outside with no deposit: the conservation across everyone breaks too.
    assert failing(state) == {"INV-LEDGER-3", "INV-STATEMENT-2"}


def test_an_atom_from_outside_with_no_deposit_breaks_conservation(driver: Driver) -> None:
    state = trading_state(driver)
    assert "INV-STATEMENT-2" not in failing(state)
    state.ledger[(ROUNDING, "ETH")] = state.ledger.get((ROUNDING, "ETH"), 0) + 1
    state.ledger[(WORLD, "ETH")] = state.ledger.get((WORLD, "ETH"), 0) - 1
    assert failing(state) == {"INV-STATEMENT-2"}


def test_an_asset_held_only_as_a_lock_is_in_the_held_index(driver: Driver) -> None:
    # Everything the trader has in BTC is locked by an ask: the held index keeps BTC.
    trader = driver.account()
    driver.deposit(trader, "BTC", "0.1")
    driver.place(trader, "BTC_USDC", "sell", "0.1", "70000")
    assert driver.state.ledger.get((spot(trader), "BTC"), 0) == 0
    assert "BTC" in driver.state.held[trader]
    assert failing(driver.state) == set()


def _withdrawn(state: EngineState, withdrawal: Withdrew) -> None:
    """Record a withdrawal in the history, numbered, as a commit would."""
    state.withdrawals.append(withdrawal)
    state.history_count += 1
    state.history_sequence.setdefault("withdrawals", []).append(state.history_count)


def test_a_negative_balance_is_allowed_only_as_far_as_a_shortfall_was_left_uncovered(driver: Driver) -> None:
    state = trading_state(driver)
    sub = open_order(state, "BTC_USDC", OrderSide.ASK).subaccount_id
    state.shortfalls.append(
        ShortfallCovered(sub, "ETH", 5, 0, 0, (), 5, auto_borrow_settlements=False, at_ms=state.now_ms)
    )
    held = state.ledger.get((spot(sub), "ETH"), 0)
    state.ledger[(spot(sub), "ETH")] = -5
    state.ledger[(WORLD, "ETH")] = state.ledger.get((WORLD, "ETH"), 0) + held + 5
    _withdrawn(state, Withdrew(sub, "ETH", held + 5, state.now_ms))  # so the statement adds up too
    state.held[sub].add("ETH")
    assert failing(state) == set()
    state.ledger[(spot(sub), "ETH")] = -6
    state.ledger[(WORLD, "ETH")] += 1
    _withdrawn(state, Withdrew(sub, "ETH", 1, state.now_ms))
    assert failing(state) == {"INV-LEDGER-3"}


def _with_triggers(driver: Driver) -> tuple[EngineState, Order, Order]:
    """The trading state plus a standalone trigger order and a stop loss following a resting parent."""
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    command = driver.order(trader, "BTC_USDC", "buy", "0.01")
    driver.accept(replace(command, trigger_price_wad=parse_decimal("70000", 18)))
    parent = driver.order(trader, "BTC_USDC_PERP", "buy", "0.01", "55000")
    driver.accept(replace(parent, stop_loss_trigger_price_wad=parse_decimal("50000", 18)))
    state = copy.deepcopy(driver.state)
    assert failing(state) == set()
    standalone, child = sorted(state.trigger_orders.values(), key=lambda order: order.order_id)
    return state, standalone, child


def test_a_broken_pending_trigger_order_is_flagged(driver: Driver) -> None:
    trading_state(driver)
    state, standalone, child = _with_triggers(driver)
    assert child.trigger is not None
    breakages = [
        replace(standalone, trigger=None),
        replace(standalone, status=OrderStatus.NEW),
        replace(standalone, locked_atoms=1),
        replace(standalone, market="NOPE"),
        replace(child, quantity_atoms=1),
        replace(child, trigger=replace(child.trigger, parent_order_id=OrderId(999))),
    ]
    for broken in breakages:
        damaged = copy.deepcopy(state)
        damaged.trigger_orders[broken.order_id] = broken
        assert failing(damaged) == {"INV-TRIGGER-1"}, broken
    on_book = copy.deepcopy(state)
    on_book.trigger_orders[next(iter(on_book.orders))] = standalone
    assert "INV-TRIGGER-1" in failing(on_book)
