"""Liquidation orders are priced in their book's own currency, so a USDC that is not worth $1 still liquidates.

Found on main: 1 BTC against 45,000 USDC of debt with USDC at 1.14 still had +2,436.60 USD of
equity, yet nothing was sold and the fund took everything, because the sell order's band was
60,000 x 0.95 in USD while the BTC_USDC book is quoted in USDC (about 52,600). The same account
at USDC 0.90, 1.00, 1.07 and 1.14 must be worked off on the book and keep its remaining equity.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_driver import Driver

from crossmargin.core.commands import Liquidate
from crossmargin.core.events import LiquidationStepKind
from crossmargin.core.marks import market_index_wad
from crossmargin.core.numbers import WAD, format_scaled
from crossmargin.core.transaction import Transaction

BTC_USD = Decimal(60_000)


def _usd(wad: int) -> Decimal:
    return Decimal(wad) / WAD


def _worth_usd(driver: Driver, sub: int) -> Decimal:
    """Return what the subaccount owns minus what it owes, at index prices, unweighted."""
    total = Decimal(0)
    for symbol in ("BTC", "USDC"):
        holding = driver.holding(sub, symbol)  # type: ignore[arg-type]
        units = Decimal(holding.spot_atoms + holding.lend_atoms - holding.debt_atoms)
        total += units / 10 ** driver.state.specs[symbol].decimals * _usd(driver.state.mark_prices_wad[symbol])
    return total


def _quote_book(driver: Driver, usdc_usd: Decimal) -> None:
    """A deep BTC_USDC book around the index in USDC, as the demo market maker quotes it."""
    spec = driver.state.markets["BTC_USDC"]
    mid = market_index_wad(Transaction(driver.state, driver.now_ms), spec)
    tick = spec.tick_size_wad
    maker = driver.account()
    driver.deposit(maker, "USDC", "10000000")
    driver.deposit(maker, "BTC", "100")
    for level in range(1, 6):
        offset = mid * level // 2_000
        driver.place(maker, "BTC_USDC", "buy", "1", format_scaled((mid - offset) // tick * tick, 18))
        driver.place(maker, "BTC_USDC", "sell", "1", format_scaled(-(-(mid + offset) // tick) * tick, 18))
    assert usdc_usd > 0


@pytest.mark.parametrize("usdc_usd", ["0.90", "1.00", "1.07", "1.14"])
def test_a_btc_backed_usdc_borrow_is_worked_off_on_the_book_at_any_usdc_price(usdc_usd: str) -> None:
    driver = Driver()
    driver.prices(USDC=usdc_usd, USDT="1", BTC=str(BTC_USD), ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    # The borrowed USDC leaves the exchange: the debt is backed by the BTC alone.
    most = driver.max_withdrawal(borrower, "USDC", auto_borrow=True)
    driver.accept(driver.withdraw(borrower, "USDC", driver.text("USDC", most), auto_borrow=True))
    # BTC falls, 1% at a time, until the account is just past maintenance, with equity left.
    fall = 0
    while not driver.margin(borrower).is_liquidatable:
        fall += 1
        driver.prices(BTC=str(BTC_USD * (100 - fall) / 100))
    _quote_book(driver, Decimal(usdc_usd))
    before = driver.margin(borrower)
    assert before.is_liquidatable
    assert before.net_equity_wad > 0
    worth_before = _worth_usd(driver, borrower)
    for _ in range(20):
        if not driver.margin(borrower).is_liquidatable and not driver.state.subaccounts[borrower].liquidating:
            break
        driver.accept(Liquidate(borrower))
    after = driver.margin(borrower)
    kinds = {step.kind for step in driver.state.liquidation_steps if step.subaccount_id == borrower}
    assert LiquidationStepKind.SELL_COLLATERAL in kinds, "BTC was sold on the book"
    assert not driver.state.backstops, "the insurance fund took nothing over"
    assert not after.is_liquidatable
    assert driver.holding(borrower, "BTC").spot_atoms > 0, "the account keeps what was not needed"
    # What it lost is the fees (1% liquidation + 0.1% taker) and the spread on what was sold, a few
    # percent of the sold value at most, never its equity.
    sold_usd = sum(
        _usd(step.quote_atoms * 10**12) * Decimal(usdc_usd)
        for step in driver.state.liquidation_steps
        if step.subaccount_id == borrower
    )
    lost = worth_before - _worth_usd(driver, borrower)
    assert 0 < lost <= sold_usd * Decimal("0.03"), (lost, sold_usd)
