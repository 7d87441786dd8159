"""The pools' hourly history, extended read by read, equals the replay from the start.

`PoolHistory` replays each pool's movements once and then only what came since its last read; the
naive reference here is the view as it was: every movement replayed from the exchange's first hour
for each read. Random borrows and lends (each repaying or redeeming first) by two subaccounts, hours charged between
them, and reads of every window in between, through one shared `PoolHistory`.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from engine_driver import Driver
from hypothesis import given, settings
from hypothesis import strategies as st

from crossmargin.api.views.common import JsonObject
from crossmargin.api.views.pool_history import KEPT_MS, HourFigures, PoolHistory, PoolReplay
from crossmargin.api.views.public import HISTORY_INTERVALS_MS, view_borrow_lend_markets_history
from crossmargin.core.commands import BorrowLendSide, ConfigureAssets
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.pools import debt_atoms
from crossmargin.core.state import EngineState

START_MS = 0  # the driver lists its assets at 0: the pools charge from that hour


def reference_rows(state: EngineState, interval: str, symbol: str) -> list[JsonObject]:
    """The window's rows of one pool, newest first, every movement replayed from the start."""
    spec = state.specs[symbol]
    movements = [movement for movement in state.movements if movement.symbol == symbol]
    replay = PoolReplay()
    applied = 0
    rows = []
    for accrual in state.accruals.get(symbol, []):
        while applied < len(movements) and movements[applied].at_ms < accrual.hour_ms:
            replay.apply(movements[applied])
            applied += 1
        if accrual.hour_ms > state.now_ms - HISTORY_INTERVALS_MS[interval]:
            borrowed = debt_atoms(replay.debt_scaled_total, accrual.borrow_index_before_ray)
            rows.append(HourFigures(accrual, borrowed, replay.cash_atoms + borrowed).row(spec))
    return rows[::-1]


def _driver() -> Driver:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    return driver


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["hours", "borrow", "lend", "read"]),
        st.integers(0, 1),  # which subaccount
        st.integers(1, 40),  # hours to pass, or a quantity in hundreds of USDC
    ),
    min_size=1,
    max_size=40,
)


@settings(deadline=None, max_examples=40)
@given(ACTIONS)
def test_each_read_equals_the_replay_from_the_start(actions: list[tuple[str, int, int]]) -> None:
    driver = _driver()
    subs = [driver.account(), driver.account()]
    for sub in subs:
        driver.deposit(sub, "BTC", "10")
        driver.deposit(sub, "USDC", "100000")
    history = PoolHistory()
    sides = {"borrow": BorrowLendSide.BORROW, "lend": BorrowLendSide.LEND}  # each repays or redeems first
    for action, who, size in [*actions, ("hours", 0, 1), ("read", 0, 0)]:
        if action == "hours":
            hour = (driver.now_ms // MS_PER_HOUR + size) * MS_PER_HOUR
            driver.tick(hour + (17_000 if who else 0))  # on the hour (a movement then follows its charge) or after
        elif action == "read":
            for interval in HISTORY_INTERVALS_MS:
                for symbol in ("USDC", "BTC"):
                    shared = view_borrow_lend_markets_history(driver.state, interval, symbol, history)
                    assert shared == reference_rows(driver.state, interval, symbol), (interval, symbol)
        else:
            command = driver.borrow_lend(subs[who], "USDC", sides[action], str(size * 100))
            execute(driver.state, command, driver.now_ms)  # a refused one (nothing to repay) changes nothing


def test_a_new_state_or_a_reconfigured_pool_is_replayed_afresh() -> None:
    driver = _driver()
    sub = driver.account()
    driver.deposit(sub, "USDC", "1000")
    driver.lend(sub, "USDC", "1000")
    driver.tick(START_MS + 5 * MS_PER_HOUR)
    history = PoolHistory()
    first = view_borrow_lend_markets_history(driver.state, "1d", "USDC", history)
    assert first == reference_rows(driver.state, "1d", "USDC")
    assert len(first) == 5

    restored = copy.deepcopy(driver.state)  # as a snapshot loaded: new lists, the same history
    driver.state = restored
    driver.tick(START_MS + 7 * MS_PER_HOUR)
    assert view_borrow_lend_markets_history(driver.state, "1d", "USDC", history) == reference_rows(
        driver.state, "1d", "USDC"
    )

    spec = driver.state.specs["USDC"]
    result = execute(driver.state, ConfigureAssets((replace(spec, fee=spec.fee),)), driver.now_ms)
    assert isinstance(result, Accepted)
    assert driver.state.specs["USDC"] is not spec
    assert view_borrow_lend_markets_history(driver.state, "1d", "USDC", history) == reference_rows(
        driver.state, "1d", "USDC"
    )


def test_figures_older_than_any_window_are_forgotten() -> None:
    driver = _driver()
    sub = driver.account()
    driver.deposit(sub, "USDC", "1000")
    driver.lend(sub, "USDC", "1000")
    history = PoolHistory()
    for day in range(1, 400, 30):
        driver.tick(START_MS + day * 24 * MS_PER_HOUR)
        assert view_borrow_lend_markets_history(driver.state, "1year", "USDC", history) == reference_rows(
            driver.state, "1year", "USDC"
        )
    kept = history.kept_hours("USDC")
    assert kept
    assert min(kept) > driver.state.now_ms - KEPT_MS
    assert len(kept) <= KEPT_MS // MS_PER_HOUR
    assert len(driver.state.accruals["USDC"]) > len(kept), "the state has hours the history no longer keeps"
