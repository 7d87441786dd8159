"""The insurance fund view: a perp it took over, an ADL close and a lend-index cut, in exact strings.

The states are the crashes of `tests/unit/liquidation/test_backstop_and_loss_sharing.py`. Each
expected string comes from the engine's own records of what happened (the `Backstopped`,
`AutoDeleveraged` and `LendIndexCut` events kept in the state) or from the driver's holdings,
formatted independently; the fund's `value` is checked against the sum of its parts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine_driver import Driver
from tests.unit.liquidation.test_liquidation_perps import long_btc_perp

from crossmargin.api.views.insurance_fund import HISTORY_ROWS, view_insurance_fund
from crossmargin.core.commands import Liquidate
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.numbers import format_scaled
from crossmargin.core.transaction import Transaction


def _fund(driver: Driver) -> Any:
    """Return the view's body, typed loosely for indexing in asserts."""
    return view_insurance_fund(driver.state)


def _value(driver: Driver) -> str:
    return format_scaled(fund_value_wad(Transaction(driver.state, driver.now_ms)), 18)


def _sums_to_value(body: dict[str, Any]) -> bool:
    parts = sum(Decimal(row["value"]) for row in body["balances"]) + Decimal(body["unsettledEquity"])
    return parts == Decimal(body["value"])


def test_a_perp_taken_over_shows_its_size_entry_mark_and_unsettled_pnl(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.prices(BTC="54250")  # no bid within the band: the fund takes the position whole
    driver.accept(Liquidate(trader))
    fund = driver.perp(INSURANCE_FUND_ID, "BTC_USDC_PERP")
    assert fund is not None
    mark = driver.state.perp_marks_wad["BTC_USDC_PERP"]

    body = _fund(driver)

    spec = driver.state.markets["BTC_USDC_PERP"]
    assert body["perpPositions"] == [
        {
            "symbol": "BTC_USDC_PERP",
            "netQuantity": "1",
            "entryPrice": "60000",
            "markPrice": format_scaled(mark, 18),
            "pnlUnrealized": format_scaled(fund.unrealized_atoms(spec, mark), 6),
        }
    ]
    (taken,) = body["backstops"]
    assert taken["subaccountId"] == trader
    assert taken["perpPositions"] == [{"symbol": "BTC_USDC_PERP", "netQuantity": "1"}]
    assert taken["timestamp"] == "1970-01-01T00:00:00"
    assert body["value"] == _value(driver)
    assert _sums_to_value(body)


def test_an_adl_close_shows_the_counterparty_size_and_loss(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.settings(trader, auto_borrow_settlements=False)
    driver.prices(BTC="50000")
    driver.at(20_000).tick(20_000)
    driver.accept(Liquidate(trader))
    (adl,) = driver.state.auto_deleverages

    body = _fund(driver)

    assert body["autoDeleverageCount"] == 1
    assert body["autoDeleverages"] == [
        {
            "symbol": "BTC_USDC_PERP",
            "counterpartySubaccountId": adl.counterparty_subaccount_id,
            "quantity": "1",
            "quoteQuantity": format_scaled(adl.quote_atoms, 6),
            "loss": format_scaled(adl.loss_atoms, 6),
            "timestamp": "1970-01-01T00:00:20",
        }
    ]
    assert Decimal(body["autoDeleverages"][0]["loss"]) > 0
    assert body["perpPositions"] == [], "the ADL closed the fund's position"
    assert body["value"] == _value(driver)


def test_a_lend_index_cut_shows_the_indices_the_loss_and_the_debt_forgiven(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.deposit(INSURANCE_FUND_ID, "USDC", "1000")
    driver.prices(BTC="40000")
    driver.accept(Liquidate(trader))
    (cut,) = driver.state.lend_index_cuts

    body = _fund(driver)

    assert body["lendIndexCutCount"] == 1
    (row,) = body["lendIndexCuts"]
    assert row == {
        "symbol": "USDC",
        "lendIndexBefore": format_scaled(cut.lend_index_before_ray, 27),
        "lendIndexAfter": format_scaled(cut.lend_index_after_ray, 27),
        "loss": row["debtForgiven"],
        "debtForgiven": driver.text("USDC", cut.debt_forgiven_atoms),
        "timestamp": "1970-01-01T00:00:00",
    }
    # The fund held 1000 USDC and 1 BTC (40,000) against the 48,000 USDC debt and its entry fee.
    debt_taken = body["backstops"][0]["holdings"][1]
    assert debt_taken["symbol"] == "USDC"
    assert Decimal(row["debtForgiven"]) == Decimal(debt_taken["owed"]) - 1000 - 40000
    assert Decimal(row["lendIndexAfter"]) < Decimal(row["lendIndexBefore"])
    assert body["value"] == "0"
    usdc = next(balance for balance in body["balances"] if balance["symbol"] == "USDC")
    assert usdc["owed"] == "41000"
    assert _sums_to_value(body)


def test_the_histories_list_the_newest_first_and_at_most_a_page(driver: Driver) -> None:
    driver.lender(USDC="10000000")
    takeovers = []
    for _ in range(3):
        driver.prices(BTC="60000")
        trader = driver.account()
        driver.deposit(trader, "BTC", "1")
        driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
        driver.prices(BTC="56000")
        driver.accept(Liquidate(trader))
        takeovers.append(trader)

    body = _fund(driver)

    assert [row["subaccountId"] for row in body["backstops"]] == takeovers[::-1]
    assert body["backstopCount"] == 3
    assert HISTORY_ROWS >= 3
