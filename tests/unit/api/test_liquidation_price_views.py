"""`estLiquidationPrice` in position views and the what-if view, against Backpack's schemas and the core's estimate.

The scenario has a USDC borrow against BTC (liquidated as BTC falls), a long BTC perp (the same)
and a well-margined lender (no estimate: "0"). Each body is validated with the closed-schema
checks of `test_views_schema.py`, and each estimate is compared with
`crossmargin.core.liquidation_price` on the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from engine_driver import Driver
from jsonschema import Draft202012Validator
from tests.unit.api.test_views_schema import SPEC_PATH, assert_valid, spec, validators

from crossmargin.api.errors import ApiError
from crossmargin.api.views import view_borrow_lend_positions
from crossmargin.api.views.common import wad
from crossmargin.api.views.liquidation_price import liquidation_price_text, view_planned_liquidation_price
from crossmargin.api.views.perps import view_positions
from crossmargin.core.commands import BorrowLendSide, ExecuteBorrowLend
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction

pytestmark = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Backpack's published spec is not at {SPEC_PATH}")

__all__ = ["spec", "validators"]  # fixtures shared with the schema tests

Scenario = tuple[Driver, dict[str, SubaccountId]]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    lender = driver.lender(USDC="1000000", BTC="10")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "30000")
    driver.accept(driver.withdraw(borrower, "USDC", "30000"))
    seller = driver.account()
    driver.deposit(seller, "USDC", "100000")
    driver.place(seller, "BTC_USDC_PERP", "sell", "1", "60000")
    trader = driver.account()
    driver.deposit(trader, "USDC", "6100")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    return driver, {"lender": lender, "borrower": borrower, "trader": trader, "seller": seller}


def _expected(driver: Driver, sub: SubaccountId, symbol: str) -> str:
    estimate = estimate_liquidation_price(Transaction(driver.state, driver.now_ms), sub, symbol)
    assert estimate is not None
    return wad(estimate)


def test_a_borrow_position_shows_the_cores_estimate_and_matches_the_schema(
    scenario: Scenario, validators: Callable[[str], Draft202012Validator]
) -> None:
    driver, subs = scenario

    body = view_borrow_lend_positions(driver.state, subs["borrower"])

    assert_valid(validators("/api/v1/borrowLend/positions"), body)
    (position,) = body
    assert isinstance(position, dict)
    assert position["symbol"] == "USDC"
    assert position["estLiquidationPrice"] == _expected(driver, subs["borrower"], "USDC")
    assert position["estLiquidationPrice"] != "0"


def test_a_lend_without_risk_shows_zero(scenario: Scenario, validators: Callable[[str], Draft202012Validator]) -> None:
    driver, subs = scenario

    body = view_borrow_lend_positions(driver.state, subs["lender"])

    assert_valid(validators("/api/v1/borrowLend/positions"), body)
    assert [row["estLiquidationPrice"] for row in body if isinstance(row, dict)] == ["0", "0"]


def test_a_perp_position_shows_the_estimate_of_its_base_asset(
    scenario: Scenario, validators: Callable[[str], Draft202012Validator]
) -> None:
    driver, subs = scenario

    body = view_positions(driver.state, subs["trader"])

    assert_valid(validators("/api/v1/position"), body)
    (position,) = body
    assert isinstance(position, dict)
    assert position["estLiquidationPrice"] == _expected(driver, subs["trader"], "BTC")
    assert Decimal(54250) < Decimal(str(position["estLiquidationPrice"])) < Decimal(54300)


def test_a_short_perp_with_ample_collateral_shows_a_price_above_the_mark(scenario: Scenario) -> None:
    driver, subs = scenario

    (position,) = view_positions(driver.state, subs["seller"])

    assert isinstance(position, dict)
    assert position["netQuantity"] == "-1"
    assert position["estLiquidationPrice"] == _expected(driver, subs["seller"], "BTC")
    assert Decimal(str(position["estLiquidationPrice"])) > Decimal(60000)


def test_the_what_if_view_matches_the_schema_and_is_the_estimate_after_the_borrow(
    scenario: Scenario, validators: Callable[[str], Draft202012Validator]
) -> None:
    driver, subs = scenario
    planned = ExecuteBorrowLend(subs["borrower"], "USDC", BorrowLendSide.BORROW, driver.atoms("USDC", "5000"))

    body = view_planned_liquidation_price(driver.state, planned)

    assert isinstance(body, dict)
    assert_valid(validators("/api/v1/borrowLend/position/liquidationPrice"), body)
    assert body["markPrice"] == "1"
    before = liquidation_price_text(Transaction(driver.state, driver.now_ms), subs["borrower"], "USDC")
    assert body["liquidationPrice"] != before, "5000 more USDC held against 5000 more owed moves the estimate"


def test_the_what_if_view_shows_zero_without_an_estimate(validators: Callable[[str], Draft202012Validator]) -> None:
    driver = Driver()
    driver.prices(USDC="1", BTC="60000")
    saver = driver.account()
    driver.deposit(saver, "USDC", "1000")
    planned = ExecuteBorrowLend(saver, "USDC", BorrowLendSide.LEND, driver.atoms("USDC", "500"))

    body = view_planned_liquidation_price(driver.state, planned)

    assert body == {"liquidationPrice": "0", "markPrice": "1"}
    assert_valid(validators("/api/v1/borrowLend/position/liquidationPrice"), body)


def test_the_what_if_view_refuses_what_the_engine_refuses(scenario: Scenario) -> None:
    driver, subs = scenario
    planned = ExecuteBorrowLend(subs["trader"], "BTC", BorrowLendSide.BORROW, driver.atoms("BTC", "10"))

    refused = view_planned_liquidation_price(driver.state, planned)

    assert isinstance(refused, Rejection)
    assert refused.reason is RejectReason.POOL_UTILIZATION_EXCEEDED


def test_the_what_if_view_refuses_an_unknown_subaccount(scenario: Scenario) -> None:
    driver, _ = scenario
    planned = ExecuteBorrowLend(SubaccountId(999_999), "BTC", BorrowLendSide.BORROW, 1)

    with pytest.raises(ApiError) as unknown:
        view_planned_liquidation_price(driver.state, planned)
    assert unknown.value.code == "RESOURCE_NOT_FOUND"
