"""`collateralLiquidationPrice` (a crossmargin extension) in the collateral and position views.

The brief's example, 1 BTC at 60,000 with 40,000 USDC borrowed and withdrawn: BTC is only spot,
so it has no borrow-lend row; its liquidation price shows on its `/capital/collateral` row. A
lent asset shows it on its position row too (equal to `estLiquidationPrice` there); a borrow row
of an asset not held carries no such field. Bodies are validated with the closed-schema checks
of `test_views_schema.py`, which let through only the extension fields the OpenAPI build script
declares.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from engine_driver import Driver
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from tests.unit.api.test_views_schema import SPEC_PATH, assert_valid, spec, validators

from crossmargin.api.views import JsonValue, view_borrow_lend_positions, view_capital_collateral
from crossmargin.api.views.common import wad
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.transaction import Transaction

pytestmark = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Backpack's published spec is not at {SPEC_PATH}")

__all__ = ["spec", "validators"]  # fixtures shared with the schema tests

FIELD = "collateralLiquidationPrice"


def _market() -> Driver:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    return driver


def _brief_example(driver: Driver) -> SubaccountId:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.borrow(trader, "USDC", "40000")
    driver.accept(driver.withdraw(trader, "USDC", "40000"))
    return trader


def _estimate(driver: Driver, sub: SubaccountId, symbol: str) -> str:
    found = estimate_liquidation_price(Transaction(driver.state, driver.now_ms), sub, symbol)
    assert found is not None
    return wad(found)


def _by_symbol(rows: JsonValue) -> dict[str, dict[str, JsonValue]]:
    assert isinstance(rows, list)
    found = {}
    for row in rows:
        assert isinstance(row, dict)
        found[str(row["symbol"])] = row
    return found


def _collateral(driver: Driver, sub: SubaccountId) -> dict[str, dict[str, JsonValue]]:
    return _by_symbol(view_capital_collateral(driver.state, sub)["collateral"])


def test_spot_btc_behind_a_usdc_borrow_shows_its_liquidation_price_on_its_collateral_row(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = _market()
    trader = _brief_example(driver)

    body = view_capital_collateral(driver.state, trader)

    assert_valid(validators("/api/v1/capital/collateral"), body)
    rows = _by_symbol(body["collateral"])
    assert list(rows) == ["BTC"]
    assert rows["BTC"][FIELD] == _estimate(driver, trader, "BTC")
    assert str(rows["BTC"][FIELD]).startswith("46868.")


def test_the_usdc_borrow_row_keeps_backpacks_usdc_price_and_carries_no_collateral_price(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = _market()
    trader = _brief_example(driver)

    body = view_borrow_lend_positions(driver.state, trader)

    assert_valid(validators("/api/v1/borrowLend/positions"), body)
    usdc = _by_symbol(body)["USDC"]
    assert usdc["estLiquidationPrice"] == _estimate(driver, trader, "USDC")
    assert str(usdc["estLiquidationPrice"]).startswith("1.2794")
    assert FIELD not in usdc


def test_a_lent_asset_shows_its_collateral_price_on_its_position_row_as_on_its_collateral_row(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = _market()
    trader = driver.account()
    driver.deposit(trader, "ETH", "20")
    driver.lend(trader, "ETH", "20")
    driver.borrow(trader, "USDC", "40000")
    driver.accept(driver.withdraw(trader, "USDC", "40000"))

    body = view_borrow_lend_positions(driver.state, trader)

    assert_valid(validators("/api/v1/borrowLend/positions"), body)
    eth = _by_symbol(body)["ETH"]
    assert eth[FIELD] == _estimate(driver, trader, "ETH")
    assert eth[FIELD] == eth["estLiquidationPrice"]
    assert eth[FIELD] == _collateral(driver, trader)["ETH"][FIELD]


def test_an_asset_both_borrowed_and_held_carries_the_field_on_its_borrow_row() -> None:
    driver = _market()
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.borrow(trader, "USDC", "1000")  # the borrowed USDC stays in the balance

    usdc = _by_symbol(view_borrow_lend_positions(driver.state, trader))["USDC"]

    assert usdc[FIELD] == usdc["estLiquidationPrice"]
    assert _collateral(driver, trader)["USDC"][FIELD] == usdc[FIELD]


def test_collateral_without_any_risk_shows_zero() -> None:
    driver = _market()
    saver = driver.account()
    driver.deposit(saver, "BTC", "1")
    driver.deposit(saver, "USDC", "500")

    rows = _collateral(driver, saver)

    assert {symbol: row[FIELD] for symbol, row in rows.items()} == {"BTC": "0", "USDC": "0"}


def test_a_misspelt_extension_field_is_still_refused_by_the_schema_checks(
    validators: Callable[[str], Draft202012Validator],
) -> None:
    driver = _market()
    trader = _brief_example(driver)
    body = view_capital_collateral(driver.state, trader)
    row = _by_symbol(body["collateral"])["BTC"]
    misspelt = {**body, "collateral": [{**row, "collateralLiquidationPrise": row.pop(FIELD)}]}

    with pytest.raises(ValidationError):
        validators("/api/v1/capital/collateral").validate(misspelt)
