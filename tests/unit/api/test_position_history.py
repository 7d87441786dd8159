"""Position history: perp positions rebuilt from fills, a crossing fill closing one and opening the next."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.common import JsonObject
from crossmargin.api.views.position_history import view_position_history
from crossmargin.core.ids import SubaccountId

PERP = "BTC_USDC_PERP"


def rows(driver: Driver, sub: SubaccountId, **filters: object) -> list[JsonObject]:
    found = view_position_history(driver.state, sub, **filters)  # type: ignore[arg-type]
    return [row for row in found if isinstance(row, dict)]


def test_a_fill_through_zero_closes_the_long_and_opens_a_short(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    sub = driver.account()
    driver.deposit(sub, "USDC", "10000")
    driver.accept(driver.order(sub, PERP, "buy", "0.1"))

    driver.accept(driver.order(sub, PERP, "sell", "0.15"))

    short, long = rows(driver, sub)
    assert (long["state"], long["closedVolume"], long["entryPrice"], long["closingPrice"]) == (
        "Closed",
        "0.1",
        "60005",
        "59995",
    )
    assert long["cumulativePnlRealized"] == "-1"  # 0.1 x (59,995 - 60,005)
    assert (short["state"], short["netQuantity"], short["entryPrice"]) == ("Open", "-0.05", "59995")
    assert short["closedVolume"] == "0"
    assert "closedAt" not in short
    assert [row["id"] for row in rows(driver, sub, sort_direction="Asc")] == [long["id"], short["id"]]
    assert rows(driver, sub, position_state="Closed") == [long]
    assert rows(driver, sub, market_types=["SPOT"]) == []
    assert rows(driver, sub, symbol="ETH_USDC_PERP") == []


def test_funding_goes_to_the_position_open_when_it_was_paid(driver: Driver) -> None:
    driver.maker(PERP, "60000", "5", "2")
    sub = driver.account()
    driver.deposit(sub, "USDC", "10000")
    driver.accept(driver.order(sub, PERP, "buy", "0.1"))
    driver.requote(PERP, "60600")  # the book 1% over the index: longs pay

    driver.tick(2 * HOUR_MS)

    (row,) = rows(driver, sub)
    paid = sum(payment.quantity_atoms for payment in driver.state.funding_payments if payment.subaccount_id == sub)
    assert paid != 0, "the book's premium over the index makes the long pay"
    assert row["fundingQuantity"] == driver.text("USDC", paid)
