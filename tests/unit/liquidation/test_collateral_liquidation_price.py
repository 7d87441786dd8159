"""Liquidation price per collateral asset: the price of each asset held at which the account is liquidated.

The brief's own example: 1 BTC at 60,000 and 40,000 USDC borrowed and withdrawn. Backpack's
`estLiquidationPrice` on the USDC borrow is a USDC price (1.2794); the price that matters is the
BTC price at which the account reaches MMR 100%, about 46,869. The exact expectation is derived
here from the margin rules with `Decimal` arithmetic (`tests/support/margin_math.py`, not the
engine's code): 1 BTC counts N * 0.9 / (1 + 0.00002 * sqrt(N)) at notional N (BTC's inverseSqrt
haircut), the debt D needs MMF 5% of itself for maintenance, so liquidation starts where that
collateral value falls to D * 1.05; the estimate is the grid price next to it on the mark's side. Every figure is then checked against the engine's own `Liquidate`: refused 0.5% above
the estimate, accepted 0.5% below.
"""

from __future__ import annotations

from decimal import Decimal

from engine_driver import Driver
from margin_math import (
    BTC_HAIRCUT,
    ETH_HAIRCUT,
    collateral_value,
    estimate_above,
    estimate_below,
    price_covering,
    text,
    usdc_maintained,
)

from crossmargin.core.collateral_liquidation_price import collateral_liquidation_prices
from crossmargin.core.commands import Liquidate
from crossmargin.core.events import LiquidationStarted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.numbers import format_scaled
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction


def _lenders(driver: Driver) -> None:
    driver.lender(USDC="1000000")


def _borrow_and_withdraw_usdc(driver: Driver, trader: SubaccountId, quantity: str) -> None:
    driver.borrow(trader, "USDC", quantity)
    driver.accept(driver.withdraw(trader, "USDC", quantity))


def _brief_example(driver: Driver) -> SubaccountId:
    """1 BTC at 60,000 as spot collateral; 40,000 USDC borrowed and withdrawn."""
    _lenders(driver)
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    _borrow_and_withdraw_usdc(driver, trader, "40000")
    return trader


def _price_text(price_wad: int) -> str:
    return format_scaled(price_wad, 18)


def _mark(driver: Driver, symbol: str) -> Decimal:
    return Decimal(_price_text(driver.state.mark_prices_wad[symbol]))


def _usdc_needed(driver: Driver, trader: SubaccountId) -> Decimal:
    """Return what the collateral must cover for maintenance: the USDC debt (at 1 USD) plus 5% of it."""
    return usdc_maintained(Decimal(driver.text("USDC", driver.holding(trader, "USDC").debt_atoms)))


def _prices(driver: Driver, trader: SubaccountId) -> dict[str, int | None]:
    return collateral_liquidation_prices(Transaction(driver.state, driver.now_ms), trader)


def _moved(price_wad: int, percent: str) -> str:
    """Return the price moved by `percent` (e.g. "-0.5"), as a decimal string with 18 decimals at most."""
    moved = Decimal(_price_text(price_wad)) * (1 + Decimal(percent) / 100)
    return text(moved.quantize(Decimal(1).scaleb(-18)))


def _assert_liquidated_only_below(driver: Driver, trader: SubaccountId, symbol: str, estimate_wad: int) -> None:
    """0.5% above the estimate `Liquidate` is refused; 0.5% below it, it starts a liquidation."""
    assert estimate_wad < driver.state.mark_prices_wad[symbol], "collateral is liquidated as it falls"
    driver.prices(**{symbol: _moved(estimate_wad, "0.5")})
    assert not driver.margin(trader).is_liquidatable
    driver.refuse(Liquidate(trader), RejectReason.NOT_LIQUIDATABLE)
    driver.prices(**{symbol: _moved(estimate_wad, "-0.5")})
    assert driver.margin(trader).is_liquidatable
    events = driver.accept(Liquidate(trader))
    assert any(isinstance(event, LiquidationStarted) for event in events)


def test_the_brief_example_is_liquidated_when_btc_falls_to_about_46869(driver: Driver) -> None:
    trader = _brief_example(driver)

    prices = _prices(driver, trader)

    estimate = prices["BTC"]
    assert estimate is not None
    exact = price_covering(Decimal(1), BTC_HAIRCUT, _usdc_needed(driver, trader))
    assert round(exact) == 46_869
    assert _price_text(estimate) == estimate_below(exact, _mark(driver, "BTC"))


def test_the_brief_example_lists_only_btc_its_one_collateral(driver: Driver) -> None:
    trader = _brief_example(driver)

    assert list(_prices(driver, trader)) == ["BTC"]
    usdc = estimate_liquidation_price(Transaction(driver.state, driver.now_ms), trader, "USDC")
    assert usdc is not None
    # Backpack's estLiquidationPrice on the borrow row: the USDC price at which 1 BTC at 60,000 no
    # longer covers the debt and its 5% maintenance, about 1.2794.
    exact = collateral_value(Decimal(60000), BTC_HAIRCUT) / _usdc_needed(driver, trader)
    assert exact.quantize(Decimal("0.0001")) == Decimal("1.2794")
    assert _price_text(usdc) == estimate_above(exact, _mark(driver, "USDC"))


def test_btc_half_a_percent_below_the_estimate_is_liquidated_and_above_it_is_not(driver: Driver) -> None:
    trader = _brief_example(driver)
    estimate = _prices(driver, trader)["BTC"]
    assert estimate is not None

    _assert_liquidated_only_below(driver, trader, "BTC", estimate)


def test_with_btc_and_eth_as_collateral_each_has_its_own_price_with_the_other_fixed(driver: Driver) -> None:
    _lenders(driver)
    trader = driver.account()
    driver.deposit(trader, "BTC", "0.5")
    driver.deposit(trader, "ETH", "10")
    _borrow_and_withdraw_usdc(driver, trader, "40000")

    prices = _prices(driver, trader)

    assert list(prices) == ["BTC", "ETH"]
    btc, eth = prices["BTC"], prices["ETH"]
    assert btc is not None
    assert eth is not None
    needed = _usdc_needed(driver, trader)
    # Half a BTC at 60,000 is 30,000 notional; 10 ETH at 3,000 is 30,000. Each threshold: the one
    # asset's collateral value covers what the other (at its mark) leaves uncovered.
    eth_counts = collateral_value(Decimal(10) * 3000, ETH_HAIRCUT)
    btc_counts = collateral_value(Decimal("0.5") * 60000, BTC_HAIRCUT)
    exact_btc = price_covering(Decimal("0.5"), BTC_HAIRCUT, needed - eth_counts)
    exact_eth = price_covering(Decimal(10), ETH_HAIRCUT, needed - btc_counts)
    assert _price_text(btc) == estimate_below(exact_btc, _mark(driver, "BTC"))
    assert _price_text(eth) == estimate_below(exact_eth, _mark(driver, "ETH"))


def test_eth_half_a_percent_below_its_estimate_is_liquidated_and_above_it_is_not(driver: Driver) -> None:
    _lenders(driver)
    trader = driver.account()
    driver.deposit(trader, "BTC", "0.5")
    driver.deposit(trader, "ETH", "10")
    _borrow_and_withdraw_usdc(driver, trader, "40000")
    estimate = _prices(driver, trader)["ETH"]
    assert estimate is not None

    _assert_liquidated_only_below(driver, trader, "ETH", estimate)


def test_a_lent_and_a_locked_asset_count_as_collateral_and_a_borrowed_one_does_not(driver: Driver) -> None:
    driver.lender(USDC="1000000", SOL="10000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.deposit(trader, "ETH", "10")
    driver.lend(trader, "ETH", "10")
    driver.deposit(trader, "USDT", "1000")
    driver.place(trader, "BTC_USDC", "sell", "0.5", "74000")  # locks half the BTC
    driver.accept(driver.withdraw(trader, "SOL", "10", auto_borrow=True))

    prices = _prices(driver, trader)

    assert list(prices) == ["BTC", "ETH", "USDT"]
    assert driver.holding(trader, "BTC").locked_atoms == driver.atoms("BTC", "0.5")
    # Collateral of ~91,000 USD against a 1,500 USD SOL borrow: no collateral price within reach.
    assert prices["BTC"] is None
    assert prices["ETH"] is None
    assert prices["USDT"] is None


def test_an_account_with_nothing_held_has_no_collateral_prices(driver: Driver) -> None:
    trader = driver.account()

    assert _prices(driver, trader) == {}
    assert collateral_liquidation_prices(Transaction(driver.state, driver.now_ms), SubaccountId(999)) == {}


def test_the_estimate_is_the_engines_own_estimate_for_that_asset(driver: Driver) -> None:
    trader = _brief_example(driver)
    tx = Transaction(driver.state, driver.now_ms)

    assert collateral_liquidation_prices(tx, trader)["BTC"] == estimate_liquidation_price(tx, trader, "BTC")
