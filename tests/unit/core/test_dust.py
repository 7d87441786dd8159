"""Dust conversion: balances below the spot market's minimum become USDC at the mark, with the exchange."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import MINUTE_MS, Driver

from crossmargin.core.assets import HaircutFunction
from crossmargin.core.audit import audit
from crossmargin.core.commands import ConfigureAssets, ConfigureOracle, ConvertDust, SetMarkPrices
from crossmargin.core.events import BorrowLendMoved, BorrowLendSource, DustConverted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import DUST_CONVERSIONS, spot
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.rejections import RejectReason
from crossmargin.core.statement import StatementKind, statement_rows


def holder(driver: Driver, **deposits: str) -> SubaccountId:
    sub = driver.account()
    for symbol, quantity in deposits.items():
        driver.deposit(sub, symbol, quantity)
    return sub


def converted(events: tuple[object, ...]) -> list[DustConverted]:
    return [event for event in events if isinstance(event, DustConverted)]


def test_a_dust_balance_becomes_usdc_at_the_mark_rounded_down(driver: Driver) -> None:
    sub = holder(driver, SOL="0.00333333", USDC="1")  # SOL_USDC's minimum is 0.01 SOL

    (event,) = converted(driver.accept(ConvertDust(sub, "SOL")))

    # 0.00333333 SOL at 150 = 0.4999995 USDC: 0.499999 paid, the half atom kept by the exchange.
    assert (event.quantity_atoms, event.usdc_atoms) == (333_333, 499_999)
    assert driver.holding(sub, "SOL").spot_atoms == 0
    assert driver.holding(sub, "USDC").spot_atoms == 1_499_999
    assert driver.state.ledger[(DUST_CONVERSIONS, "SOL")] == 333_333
    assert driver.state.ledger[(DUST_CONVERSIONS, "USDC")] == -499_999
    rows = [row for row in statement_rows(driver.state, sub) if row.kind is StatementKind.DUST_CONVERSION]
    assert [(row.symbol, row.balance_change_atoms) for row in rows] == [("SOL", -333_333), ("USDC", 499_999)]
    assert driver.state.dust_conversions == [event]
    assert all(check.ok for check in audit(driver.state))


def test_a_lent_dust_is_redeemed_first_with_the_dust_conversion_source(driver: Driver) -> None:
    sub = holder(driver, SOL="0.005")
    driver.lend(sub, "SOL", "0.004")
    lent = driver.holding(sub, "SOL").lend_atoms

    events = driver.accept(ConvertDust(sub, "SOL"))

    (redeem,) = [event for event in events if isinstance(event, BorrowLendMoved)]
    assert redeem.source is BorrowLendSource.DUST_CONVERSION
    (event,) = converted(events)
    assert event.quantity_atoms == driver.atoms("SOL", "0.001") + lent
    assert driver.holding(sub, "SOL").lend_atoms == 0
    assert driver.holding(sub, "SOL").spot_atoms == 0


def test_without_a_symbol_every_dust_balance_is_converted_and_the_rest_kept(driver: Driver) -> None:
    sub = holder(driver, SOL="0.001", BTC="0.000001", ETH="1")

    events = driver.accept(ConvertDust(sub))

    assert sorted(event.symbol for event in converted(events)) == ["BTC", "SOL"]
    assert driver.holding(sub, "ETH").spot_atoms == driver.atoms("ETH", "1")


def test_auto_lend_lends_the_usdc_received(driver: Driver) -> None:
    sub = holder(driver, SOL="0.001")
    driver.settings(sub, auto_lend=True)

    driver.accept(ConvertDust(sub, "SOL"))

    assert driver.holding(sub, "USDC").lend_atoms > 0


def test_what_is_not_dust_is_refused_with_the_rule(driver: Driver) -> None:
    sub = holder(driver, SOL="1", USDC="10")
    borrower = holder(driver, USDC="1000")
    driver.lender(BTC="1")
    driver.borrow(borrower, "BTC", "0.000001")
    driver.accept(ConfigureAssets((replace(driver.state.specs["SOL"], symbol="JUP"),)))
    driver.deposit(sub, "JUP", "0.001")

    refused = driver.refuse(ConvertDust(sub, "SOL"), RejectReason.NOT_DUST)
    driver.refuse(ConvertDust(sub, "USDC"), RejectReason.NOT_DUST)
    driver.refuse(ConvertDust(sub, "DOGE"), RejectReason.NOT_DUST)
    driver.refuse(ConvertDust(sub, "JUP"), RejectReason.NOT_DUST)  # no JUP_USDC market
    driver.refuse(ConvertDust(sub, "ETH"), RejectReason.NOT_DUST)  # nothing held
    driver.refuse(ConvertDust(borrower, "BTC"), RejectReason.NOT_DUST)  # borrowed
    driver.refuse(ConvertDust(sub), RejectReason.NOT_DUST)  # no dust at all

    assert "below the SOL_USDC minimum order quantity of 0.01" in refused.message


def test_a_missing_subaccount_a_liquidating_one_and_missing_prices_are_refused() -> None:
    driver = Driver()
    sub = holder(driver, SOL="0.001")
    driver.refuse(ConvertDust(SubaccountId(999), "SOL"), RejectReason.SUBACCOUNT_NOT_FOUND)
    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.MARK_PRICE_MISSING)  # no USDC price
    driver.prices(USDC="1")
    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.MARK_PRICE_MISSING)  # no SOL price
    driver.state.subaccounts[sub] = replace(driver.state.subaccounts[sub], liquidating=True)
    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.ACCOUNT_LIQUIDATING)


def test_a_redeem_the_pool_refuses_refuses_the_conversion(driver: Driver) -> None:
    sub = holder(driver, SOL="0.005")
    driver.lend(sub, "SOL", "0.005")
    spec = driver.state.specs["SOL"]
    driver.accept(ConfigureAssets((replace(spec, throttle_utilization_threshold=Ratio(0)),)))

    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.POOL_THROTTLED)


def weight_one(driver: Driver, symbol: str) -> None:
    """Count `symbol` at its full value, so that a conversion's rounding can lower available margin."""
    spec = driver.state.specs[symbol]
    driver.accept(ConfigureAssets((replace(spec, haircut=HaircutFunction(Ratio.parse("1"))),)))


def test_a_conversion_that_rounds_available_margin_below_zero_is_refused(driver: Driver) -> None:
    weight_one(driver, "SOL")
    driver.lender(USDC="1000000")
    sub = holder(driver, SOL="0.00000001", USDC="10")  # 1 atom of SOL: 0.0000015 USDC
    driver.borrow(sub, "USDC", driver.text("USDC", driver.max_borrowable(sub, "USDC")))
    assert driver.margin(sub).available_wad < WAD // 10**7

    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.MARGIN_INSUFFICIENT)


def test_a_conversion_that_lowers_margin_on_a_stale_price_is_refused(driver: Driver) -> None:
    weight_one(driver, "SOL")
    sub = holder(driver, SOL="0.00000001", USDC="10")
    driver.accept(ConfigureOracle(price_max_age_ms=MINUTE_MS))
    driver.at(driver.now_ms + 2 * MINUTE_MS)
    driver.accept(SetMarkPrices((("USDC", WAD),)))

    driver.refuse(ConvertDust(sub, "SOL"), RejectReason.PRICE_STALE)
    driver.accept(SetMarkPrices((("SOL", 150 * WAD),)))
    driver.accept(ConvertDust(sub, "SOL"))
    assert driver.state.ledger.get((spot(sub), "SOL"), 0) == 0


def test_each_holders_statement_shows_its_own_dust_conversions_only(driver: Driver) -> None:
    """A statement passes over the others' conversions before building rows; what it shows is unchanged."""
    first = holder(driver, SOL="0.00333333", USDC="1")
    second = holder(driver, SOL="0.002", USDC="1")
    driver.accept(ConvertDust(first, "SOL"))
    driver.accept(ConvertDust(second, "SOL"))
    everyone = statement_rows(driver.state)
    for sub, sold in ((first, -333_333), (second, -200_000)):
        mine = statement_rows(driver.state, sub)
        assert mine == [row for row in everyone if row.subaccount_id == sub]
        dust = [row for row in mine if row.kind is StatementKind.DUST_CONVERSION]
        assert next((row.symbol, row.balance_change_atoms) for row in dust) == ("SOL", sold)
