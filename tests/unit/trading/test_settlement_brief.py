"""The brief's surprise: futures settle in USDC, so a USDT-only account sees a USDC borrow appear."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.core.events import BorrowLendSource, Settled, SettlementSource, ShortfallCovered, settled_rows
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import spot

SECOND_MS = 1_000


def _market(driver: Driver) -> None:
    driver.prices(BTC="65000", USDC="1", USDT="1", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    driver.maker("BTC_USDC_PERP", "65000", "5", "2")
    driver.maker("USDT_USDC", "1", "0.0001", "100000")


def _losing_long(driver: Driver, **settings: object) -> SubaccountId:
    """A USDT-only trader buys 0.1 BTC perp, then BTC falls 1,000: a loss to settle in USDC."""
    trader = driver.account()
    driver.deposit(trader, "USDT", "10000")
    if settings:
        driver.settings(trader, **settings)
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(driver.now_ms + 2 * SECOND_MS).prices(BTC="64000")
    driver.requote("BTC_USDC_PERP", "64000")
    driver.tick(driver.now_ms + 20 * SECOND_MS)
    return trader


def test_a_usdt_only_account_auto_borrows_usdc_for_a_settled_loss() -> None:
    driver = Driver().at(HOUR_MS + 50 * 60 * SECOND_MS)
    _market(driver)
    trader = _losing_long(driver)
    position = driver.perp(trader, "BTC_USDC_PERP")
    assert position is not None
    assert driver.text("BTC", position.quantity_atoms) == "0.1"
    # Bought 0.1 at the maker's ask of 65005. BTC falls to 64000 and the maker requotes 63995/64005:
    # the mark is the median of index, best bid and best ask, 64000, so the PnL is 0.1 x (64000 - 65005).
    settled = [row for row in settled_rows(driver.state.settlements) if row.subaccount_id == trader]
    sources = {row.source: driver.text("USDC", row.quantity_atoms) for row in settled}
    assert sources[SettlementSource.REALIZE_PNL] == "-100.5"
    assert sources[SettlementSource.TRADING_FEES] == "-3.25025"
    holding = driver.holding(trader, "USDC")
    assert holding.spot_atoms == 0
    assert holding.debt_atoms > driver.atoms("USDC", "103.75025")  # the loss, the fee and an entry fee
    borrows = [m for m in driver.state.movements if m.subaccount_id == trader]
    assert [m.source for m in borrows] == [BorrowLendSource.RECONCILIATION]
    assert driver.holding(trader, "USDT").spot_atoms == driver.atoms("USDT", "10000")
    (shortfall,) = [row for row in driver.state.shortfalls if row.subaccount_id == trader]
    assert shortfall.borrowed_atoms == shortfall.short_atoms
    debt_before = holding.debt_atoms
    driver.tick(2 * HOUR_MS + 1)
    assert driver.holding(trader, "USDC").debt_atoms > debt_before


def test_with_auto_borrow_of_settlements_off_usdt_is_converted() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = _losing_long(driver, auto_borrow_settlements=False)
    assert driver.holding(trader, "USDC").debt_atoms == 0
    assert driver.holding(trader, "USDC").spot_atoms >= 0
    assert driver.holding(trader, "USDT").spot_atoms < driver.atoms("USDT", "10000")
    (shortfall,) = [row for row in driver.state.shortfalls if row.subaccount_id == trader]
    assert shortfall.borrowed_atoms == 0
    assert [c.symbol for c in shortfall.conversions] == ["USDT"]
    assert shortfall.uncovered_atoms == 0


def test_with_usdc_held_no_borrow_appears() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "USDC", "1000")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(driver.now_ms + 2 * SECOND_MS).prices(BTC="64000")
    driver.requote("BTC_USDC_PERP", "64000")
    driver.tick(driver.now_ms + 20 * SECOND_MS)
    assert driver.holding(trader, "USDC").debt_atoms == 0
    assert driver.usdc(trader) == "896.24975"
    assert not [row for row in driver.state.shortfalls if row.subaccount_id == trader]
    assert driver.state.ledger.get((spot(trader), "USDT"), 0) == 0
    assert all(isinstance(row, Settled) for row in settled_rows(driver.state.settlements))
    assert not [row for row in driver.state.shortfalls if isinstance(row, ShortfallCovered) and row.borrowed_atoms]
