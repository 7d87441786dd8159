"""RiskColumns mirror real engine states, and stay equal to a rebuild when updated from events."""

from __future__ import annotations

import numpy as np
import pytest
from engine_driver import HOUR_MS, Driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossmargin.core.commands import BorrowLendSide, Command, CreateAccount, Deposit, SetMarkPrices, Tick
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import WAD
from crossmargin.core.transaction import Transaction
from crossmargin.risk.columns import MARK, PRICE, TILE_ROWS, RiskColumns, gather, tile_maxima, untiled
from crossmargin.risk.screen import RiskScreen, confirm

PERP = "BTC_USDC_PERP"


def _trading_driver(driver: Driver) -> tuple[SubaccountId, SubaccountId, SubaccountId]:
    driver.lender(USDC="1000000", BTC="100", ETH="1000")
    driver.maker(PERP, "60000", "5", "2")
    driver.maker("BTC_USDC", "60000", "5", "2")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "20000")
    driver.accept(driver.withdraw(borrower, "USDC", "20000"))
    trader = driver.account()
    driver.deposit(trader, "USDC", "5000")
    driver.accept(driver.order(trader, PERP, "buy", "0.2"))
    driver.place(trader, "BTC_USDC", "buy", "0.01", "50000")  # locks USDC
    short = driver.account()
    driver.deposit(short, "USDC", "3000")
    driver.accept(driver.order(short, PERP, "sell", "0.1"))
    return borrower, trader, short


def _exact_row(driver: Driver, columns: RiskColumns, sub: SubaccountId) -> tuple[np.ndarray, np.ndarray]:
    tx = Transaction(driver.state, driver.now_ms)
    collateral = np.zeros(len(columns.asset_symbols))
    owed = np.zeros(len(columns.asset_symbols))
    for index, symbol in enumerate(columns.asset_symbols):
        holding = tx.holding(sub, symbol)
        unit = driver.state.specs[symbol].unit_atoms
        collateral[index] = (max(holding.spot_atoms, 0) + holding.locked_atoms + holding.lend_atoms) / unit
        owed[index] = (holding.debt_atoms + max(-holding.spot_atoms, 0)) / unit
    return collateral, owed


def test_columns_match_the_exact_holdings_and_positions(driver: Driver) -> None:
    borrower, trader, short = _trading_driver(driver)
    columns = RiskColumns.from_state(driver.state)
    assert columns.rows == len(driver.state.subaccounts)
    for sub in (borrower, trader, short):
        collateral, owed = _exact_row(driver, columns, sub)
        row_collateral, row_owed, _, _ = columns.row_values(columns.row_of[sub])
        np.testing.assert_array_equal(row_collateral, collateral)
        np.testing.assert_array_equal(row_owed, owed)
    usdc, btc = columns.asset_symbols.index("USDC"), columns.asset_symbols.index("BTC")
    row = columns.row_of[borrower]
    collateral, owed, _, _ = columns.row_values(row)
    assert collateral[btc] == 1.0
    assert collateral[usdc] == 0.0
    assert 20000.0 < owed[usdc] < 20001.0  # plus the entry fee
    assert columns.row_values(columns.row_of[trader])[0][usdc] == 5000.0  # spot + the order's lock
    market = columns.market_symbols.index(PERP)
    assert columns.row_values(columns.row_of[trader])[2][market] == 0.2
    assert columns.row_values(columns.row_of[short])[2][market] == -0.1
    position = driver.perp(trader, PERP)
    assert position is not None
    constant = (-position.basis_atoms - position.pending_fee_atoms + position.pending_funding_atoms) / 10**6
    assert columns.row_values(columns.row_of[trader])[3][market] == constant
    assert columns.asset_params[PRICE, btc] == 60000.0
    assert columns.leverage_floor[row] == 0.1


def test_a_sweep_finds_the_borrower_a_price_drop_makes_liquidatable(driver: Driver) -> None:
    borrower, _, _ = _trading_driver(driver)
    columns = RiskColumns.from_state(driver.state)
    screen = RiskScreen(columns)
    assert confirm(driver.state, screen.subaccounts(screen.sweep())) == []
    events = driver.accept(SetMarkPrices((("BTC", 22_000 * WAD),)))
    changes = columns.apply_events(driver.state, events)
    assert set(changes.asset_prices_before) == {columns.asset_symbols.index("BTC")}
    found = screen.subaccounts(screen.update(changes))
    assert borrower in found
    assert borrower in confirm(driver.state, found)
    assert driver.margin(borrower).is_liquidatable


def _command(driver: Driver, subs: list[SubaccountId], data: st.DataObject) -> Command:  # noqa: PLR0911
    sub = data.draw(st.sampled_from(subs))
    other = data.draw(st.sampled_from(subs))
    symbol = data.draw(st.sampled_from(["USDC", "BTC", "ETH"]))
    amount = data.draw(st.sampled_from(["0.01", "0.5", "3", "250"]))
    kind = data.draw(
        st.sampled_from(["deposit", "borrow", "lend", "withdraw", "transfer", "perp", "spot", "price", "time"])
    )
    if kind == "deposit":
        return Deposit(sub, symbol, driver.atoms(symbol, amount))
    if kind in {"borrow", "lend"}:
        side = BorrowLendSide.BORROW if kind == "borrow" else BorrowLendSide.LEND
        return driver.borrow_lend(sub, symbol, side, amount)
    if kind == "withdraw":
        return driver.withdraw(sub, symbol, amount, auto_borrow=data.draw(st.booleans()))
    if kind == "transfer":
        return driver.transfer(sub, other, symbol, amount)
    if kind == "perp":
        return driver.order(
            sub, PERP, data.draw(st.sampled_from(["buy", "sell"])), data.draw(st.sampled_from(["0.001", "0.05"]))
        )
    if kind == "spot":
        return driver.order(
            sub,
            "BTC_USDC",
            data.draw(st.sampled_from(["buy", "sell"])),
            "0.01",
            data.draw(st.sampled_from(["59000", "60010"])),
        )
    if kind == "price":
        price = data.draw(st.sampled_from([40_000, 55_000, 60_000, 66_000]))
        return SetMarkPrices((("BTC", price * WAD), ("ETH", price * WAD // 20)))
    driver.now_ms += data.draw(st.sampled_from([1_000, 10_000, HOUR_MS]))
    return Tick()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_incremental_columns_equal_a_rebuild_after_random_commands(data: st.DataObject) -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    subs = list(_trading_driver(driver))
    columns = RiskColumns.from_state(driver.state)
    screen = RiskScreen(columns)
    screen.sweep()
    for _ in range(data.draw(st.integers(5, 25))):
        command = CreateAccount() if data.draw(st.integers(0, 5)) == 0 else _command(driver, subs, data)
        result = execute(driver.state, command, driver.now_ms)
        if not isinstance(result, Accepted):
            continue
        subs.extend(event.subaccount_id for event in result.events if isinstance(event, AccountCreated))
        changes = columns.apply_events(driver.state, result.events)
        candidates = set(screen.subaccounts(screen.update(changes)))
        fresh = RiskColumns.from_state(driver.state)
        _assert_same(columns, fresh)
        tx = Transaction(driver.state, driver.now_ms)
        for sub, subaccount in driver.state.subaccounts.items():
            if compute_subaccount_margin(tx, subaccount).is_liquidatable:
                assert sub in candidates, "the incremental screen missed a liquidatable subaccount"


def _assert_same(columns: RiskColumns, fresh: RiskColumns) -> None:
    assert fresh.rows <= columns.rows
    order = np.array([columns.row_of[sub] for sub in fresh.subaccount_ids[: fresh.rows].tolist()], dtype=np.int64)
    for mine, theirs in zip(columns.cells, fresh.cells, strict=True):
        np.testing.assert_array_equal(gather(mine, order), untiled(theirs, fresh.rows))
    for tiles, maxima in zip(columns.cells, columns.maxima, strict=True):
        np.testing.assert_array_equal(maxima, tile_maxima(tiles), "the tile maxima are exact")
    np.testing.assert_array_equal(columns.leverage_floor[order], fresh.leverage_floor[: fresh.rows])
    np.testing.assert_array_equal(columns.asset_params, fresh.asset_params)
    np.testing.assert_array_equal(columns.market_params[MARK], fresh.market_params[MARK])


def test_a_batch_of_rows_recomputes_each_tiles_maxima_once(driver: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """An hour of interest re-reads every borrower's row: the tile maxima are recomputed per tile, not per row."""
    driver.lender(USDC="1000000")
    borrowers = [driver.account() for _ in range(TILE_ROWS + 40)]
    for sub in borrowers:
        driver.deposit(sub, "BTC", "1")
        driver.borrow(sub, "USDC", "100")
    columns = RiskColumns.from_state(driver.state)
    refreshed: list[int] = []
    recompute = RiskColumns._refresh_maxima

    def counted(self: RiskColumns, tile: int) -> None:
        refreshed.append(tile)
        recompute(self, tile)

    monkeypatch.setattr(RiskColumns, "_refresh_maxima", counted)
    driver.now_ms += HOUR_MS
    changes = columns.apply_events(driver.state, driver.accept(Tick()))
    rows = {columns.row_of[sub] for sub in borrowers}
    assert rows <= changes.rows, "the index moved: every borrower's row was re-read"
    assert sorted(refreshed) == sorted({row // TILE_ROWS for row in changes.rows}), "once per tile"
    for tiles, maxima in zip(columns.cells, columns.maxima, strict=True):
        np.testing.assert_array_equal(maxima, tile_maxima(tiles), "the tile maxima are exact")
