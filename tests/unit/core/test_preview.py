"""engine.preview agrees with engine.execute: the same refusal, the same events, the same figures after.

Method: build a state with a borrow, lends, perp positions and a market maker, jump the clock by
hours (interest and funding fall due, and a settlement), then for each command ask `preview` on
the state and `execute` on a copy of it, and compare the outcome and every figure the views show
(holdings, margin, perp positions, pools, marks, max borrowable and withdrawal, the liquidation
price estimate). The previewed state must be left exactly as it was.
"""

from __future__ import annotations

import copy

import pytest
from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.borrow_lend_preview import view_borrow_lend_preview
from crossmargin.core.commands import BorrowLendSide, Command, ExecuteBorrowLend, Tick, Withdraw
from crossmargin.core.engine import (
    Accepted,
    Rejected,
    compute_max_borrowable,
    compute_max_withdrawal,
    execute,
    preview,
    state_at,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.liquidation_price import estimate_after_borrow_lend, estimate_liquidation_price
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.core.view import StateView

Scenario = tuple[Driver, dict[str, SubaccountId], int]


@pytest.fixture
def scenario(driver: Driver) -> Scenario:
    lender = driver.lender(USDC="1000000", BTC="10")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "30000")
    driver.accept(driver.withdraw(borrower, "USDC", "20000"))
    driver.maker("BTC_USDC_PERP", "60000", "10", "5")
    trader = driver.account()
    driver.deposit(trader, "USDC", "20000")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    later = driver.now_ms + 3 * HOUR_MS + 25_000
    return driver, {"lender": lender, "borrower": borrower, "trader": trader}, later


def _figures(view: Transaction, subs: dict[str, SubaccountId]) -> dict[str, object]:
    found: dict[str, object] = {"marks": dict(view.state.perp_marks_wad) | view.perp_marks_wad}
    for symbol in ("USDC", "BTC"):
        found[f"pool {symbol}"] = view.pool(symbol)
    for name, sub in subs.items():
        subaccount = view.subaccount(sub)
        assert subaccount is not None
        found[f"{name} holdings"] = view.holdings(sub)
        found[f"{name} margin"] = compute_subaccount_margin(view, subaccount)
        found[f"{name} perps"] = view.subaccount_perp_positions(sub)
        found[f"{name} orders"] = view.open_orders(sub)
        found[f"{name} max borrow"] = compute_max_borrowable(view, sub, "USDC")
        found[f"{name} max withdrawal"] = compute_max_withdrawal(
            view, sub, "USDC", auto_borrow=True, auto_lend_redeem=True
        )
        found[f"{name} liquidation BTC"] = estimate_liquidation_price(view, sub, "BTC")
    return found


def _commands(driver: Driver, subs: dict[str, SubaccountId]) -> list[Command]:
    borrower, trader = subs["borrower"], subs["trader"]
    return [
        Tick(),
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "5000"),
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "500000"),
        driver.borrow_lend(borrower, "USDC", BorrowLendSide.LEND, "1000"),
        driver.withdraw(borrower, "USDC", "2000"),
        driver.withdraw(borrower, "BTC", "0.9"),
        driver.order(trader, "BTC_USDC_PERP", "sell", "0.5"),
        driver.order(trader, "BTC_USDC_PERP", "buy", "0.5", "59000"),
        driver.order(trader, "BTC_USDC_PERP", "buy", "100"),
        # A bid inside the spread moves the mark: the re-mark reads the book the command leaves.
        driver.order(trader, "BTC_USDC_PERP", "buy", "0.1", "60005"),
    ]


@pytest.mark.parametrize("index", range(10))
def test_preview_and_execute_agree_after_a_clock_jump_with_due_interest(scenario: Scenario, index: int) -> None:
    driver, subs, later = scenario
    command = _commands(driver, subs)[index]
    untouched = copy.deepcopy(driver.state)
    executed = copy.deepcopy(driver.state)

    previewed = preview(driver.state, command, later)
    result = execute(executed, command, later)

    assert previewed.outcome == result
    assert driver.state == untouched, "a preview changes nothing"
    ticked = copy.deepcopy(driver.state)
    assert isinstance(execute(ticked, Tick(), later), Accepted)
    assert _figures(previewed.before, subs) == _figures(StateView(ticked), subs)
    if isinstance(result, Rejected):
        # A refusal changes nothing; the preview shows the state at its time, as it stands.
        assert executed == untouched
        assert previewed.after is previewed.before
    else:
        assert _figures(previewed.after, subs) == _figures(StateView(executed), subs)


def test_the_preview_ran_interest_that_fell_due(scenario: Scenario) -> None:
    driver, subs, later = scenario
    before = StateView(driver.state).holding(subs["borrower"], "USDC").debt_atoms
    after = state_at(driver.state, later).holding(subs["borrower"], "USDC").debt_atoms
    assert after > before, "three hours of interest are charged before the command"
    assert state_at(driver.state, 0).now_ms == driver.state.now_ms, "never before the state's time"


def test_the_borrow_preview_view_shows_what_execute_then_shows(scenario: Scenario) -> None:
    driver, subs, later = scenario
    borrower = subs["borrower"]
    command = driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "5000")
    body = view_borrow_lend_preview(driver.state, command, later)
    executed = copy.deepcopy(driver.state)
    assert isinstance(execute(executed, command, later), Accepted)

    view = StateView(executed)
    subaccount = view.subaccount(borrower)
    assert subaccount is not None
    holding = view.holding(borrower, "USDC")
    assert body["accepted"] is True
    assert body["netQuantityAfter"] == driver.text("USDC", holding.lend_atoms - holding.debt_atoms)
    summary = compute_subaccount_margin(view, subaccount)
    assert body["netEquityAvailableAfter"] == _wad(summary.available_wad)
    estimate = estimate_liquidation_price(view, borrower, "USDC")
    assert estimate is not None
    assert body["estLiquidationPriceAfter"] == _wad(estimate)
    ticked = copy.deepcopy(driver.state)
    assert isinstance(execute(ticked, Tick(), later), Accepted)
    assert body["maxBorrowQuantity"] == driver.text("USDC", compute_max_borrowable(StateView(ticked), borrower, "USDC"))


def test_the_planned_liquidation_price_runs_what_fell_due_first(scenario: Scenario) -> None:
    driver, subs, later = scenario
    borrower = subs["borrower"]
    command = driver.borrow_lend(borrower, "USDC", BorrowLendSide.BORROW, "5000")
    planned = estimate_after_borrow_lend(Transaction(driver.state, later), command)
    executed = copy.deepcopy(driver.state)
    assert isinstance(execute(executed, command, later), Accepted)
    assert planned == estimate_liquidation_price(StateView(executed), borrower, "USDC")


def test_a_preview_refuses_what_execute_refuses_before_running(driver: Driver) -> None:
    driver.at(HOUR_MS).tick(HOUR_MS)
    refused = preview(driver.state, Tick(), 0)
    assert refused.rejection is not None
    assert refused.rejection.reason is RejectReason.CLOCK_MUST_NOT_GO_BACK
    assert refused.before.now_ms == HOUR_MS


def test_a_state_view_never_commits() -> None:
    with pytest.raises(AssertionError, match="never changes the state"):
        StateView(EngineState()).commit()


def _wad(value: int) -> str:
    from crossmargin.api.views.common import wad  # noqa: PLC0415 -- the view layer's own formatting

    return wad(value)


@pytest.mark.parametrize("name", ["borrower", "trader"])
def test_the_max_queries_are_what_preview_accepts(scenario: Scenario, name: str) -> None:
    driver, subs, later = scenario
    sub = subs[name]
    now = state_at(driver.state, later)
    step = driver.state.specs["USDC"].step_atoms
    most = compute_max_borrowable(now, sub, "USDC")
    borrow = ExecuteBorrowLend(sub, "USDC", BorrowLendSide.BORROW, most + step)
    assert preview(driver.state, borrow, later).rejection is not None, "one step more than the max is refused"
    if most:
        accepted = preview(driver.state, ExecuteBorrowLend(sub, "USDC", BorrowLendSide.BORROW, most), later)
        assert accepted.rejection is None
    most = compute_max_withdrawal(now, sub, "USDC", auto_borrow=False, auto_lend_redeem=True)
    withdraw = Withdraw(sub, "USDC", most + 1, auto_borrow=False, auto_lend_redeem=True)
    assert preview(driver.state, withdraw, later).rejection is not None, "one atom more than the max is refused"
    if most:
        withdraw = Withdraw(sub, "USDC", most, auto_borrow=False, auto_lend_redeem=True)
        assert preview(driver.state, withdraw, later).rejection is None
