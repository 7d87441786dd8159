"""The liquidation price search lands where bisection alone lands, for random accounts.

`estimate_liquidation_price` steers its probes by the slack's secant (`liquidation_price.py`) and
closes the same bracket a plain bisection closes; here a naive reference — the estimator as it was,
bisection on `is_liquidatable_at` alone — must agree with it to the grid step, for every asset of
random accounts: collateral in BTC, ETH and USDC, a borrow of USDC or BTC or ETH sized up to near
the limit, and sometimes a long or short BTC perp.
"""

from __future__ import annotations

from fractions import Fraction

from engine_driver import Driver
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.core.engine import execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import (
    UPSIDE_RANGE,
    estimate_liquidation_price,
    grid_step_wad,
    is_liquidatable_at,
    last_safe_index,
)
from crossmargin.core.transaction import Transaction


def reference_estimate(tx: Transaction, sub: SubaccountId, symbol: str) -> int | None:
    """The estimate by bisection on the liquidation test alone (the estimator before its secant steps)."""
    subaccount = tx.subaccount(sub)
    assert subaccount is not None
    mark = tx.mark_price(symbol)
    step = grid_step_wad(mark)
    center = mark // step

    def liquidatable(index: int) -> bool:
        return is_liquidatable_at(tx, subaccount, symbol, index * step)

    if liquidatable(center):
        return mark
    found = []
    for end in (1, center * UPSIDE_RANGE):
        if not liquidatable(end):
            continue
        danger, safe = end, center
        while abs(danger - safe) > 1:
            middle = (danger + safe) // 2
            if liquidatable(middle):
                danger = middle
            else:
                safe = middle
        found.append(safe)
    if not found:
        return None
    return min(found, key=lambda index: Fraction(max(index, center), min(index, center))) * step


@st.composite
def accounts(draw: st.DrawFn) -> tuple[Driver, SubaccountId]:
    driver = Driver()
    driver.prices(BTC="60000", ETH="3000", SOL="150", USDC="1", USDT="1")
    driver.lender(BTC="100", ETH="1000", USDC="10000000")
    trader = driver.account()
    deposits = {
        "BTC": draw(st.integers(0, 300)) * 0.01,
        "ETH": draw(st.integers(0, 200)) * 0.1,
        "USDC": draw(st.integers(0, 50)) * 1000,
    }
    if not any(deposits.values()):
        deposits["USDC"] = 1000
    for symbol, quantity in deposits.items():
        if quantity:
            driver.deposit(trader, symbol, f"{quantity:.8f}")
    if draw(st.booleans()):
        other = driver.account()
        driver.deposit(other, "USDC", "1000000")
        side = draw(st.sampled_from(["buy", "sell"]))
        size = f"{draw(st.integers(1, 20)) * 0.05:.2f}"
        driver.place(other, "BTC_USDC_PERP", "sell" if side == "buy" else "buy", size, "60000")
        execute(driver.state, driver.order(trader, "BTC_USDC_PERP", side, size), driver.now_ms)  # refused: no perp
    borrowed = draw(st.sampled_from(["USDC", "BTC", "ETH", None]))
    if borrowed is not None:
        limit = driver.max_borrowable(trader, borrowed)
        share = Fraction(draw(st.integers(1, 99)), 100)
        unit = driver.state.specs[borrowed].unit_atoms
        millionths = int(limit * share) * 10**6 // unit  # rounded down: within the limit
        if millionths >= 10**4:
            driver.borrow(trader, borrowed, f"{millionths // 10**6}.{millionths % 10**6:06d}")
    return driver, trader


@settings(deadline=None, max_examples=40)
@given(accounts())
def test_the_search_agrees_with_bisection_alone(account: tuple[Driver, SubaccountId]) -> None:
    driver, trader = account
    tx = Transaction(driver.state, driver.now_ms)
    for symbol in ("BTC", "ETH", "USDC"):
        assert estimate_liquidation_price(tx, trader, symbol) == reference_estimate(tx, trader, symbol), symbol


def test_a_flat_slack_falls_back_to_bisection_and_a_jump_is_found_exactly() -> None:
    """Slack that does not change between probes gives no secant: the search bisects and still closes exactly."""
    probes: list[int] = []

    def step_probe(index: int) -> tuple[bool, int]:  # safe (slack 5) below 700, liquidatable (slack -5) from it
        probes.append(index)
        return index >= 700, 5 if index < 700 else -5

    assert last_safe_index(step_probe, (1000, -5), (1, 5)) == 699
    assert len(probes) <= 2 * 10 + 2, probes  # about twice bisection's ten steps at most


def test_a_linear_slack_is_found_in_a_few_probes() -> None:
    probes: list[int] = []

    def linear_probe(index: int) -> tuple[bool, int]:  # slack 3 * (123_457 - index) + 1
        probes.append(index)
        slack = 3 * (123_457 - index) + 1
        return slack <= 0, slack

    assert last_safe_index(linear_probe, (10**9, linear_probe(10**9)[1]), (1, linear_probe(1)[1])) == 123_457
    assert len(probes) <= 2 + 4, probes
