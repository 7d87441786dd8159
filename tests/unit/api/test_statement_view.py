"""The statement view (`view_statement`) over liquidations and takeovers, its limits and its INV-STATEMENT-1 check.

The setups mirror `tests/unit/liquidation/*` and `tests/unit/core/test_statement.py`: a spot
liquidation converts BTC on the book (its 1% fee inside the `Trade` rows), a perp liquidation pays
its fee at settlement (`TradingFeesSystem`), and a takeover moves each asset with a
`LiquidationBackstop` row on both sides. Every asset must close at its balance plus its position.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from engine_driver import Driver

from crossmargin.api.errors import ApiError
from crossmargin.api.views import statement as statement_module
from crossmargin.api.views.docs_page import description_bytes
from crossmargin.api.views.statement import STATEMENT_ROWS_MAX, view_statement
from crossmargin.core.commands import Liquidate
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.ledger import spot

PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


def _statements(driver: Driver, sub: SubaccountId, **query: Any) -> dict[str, dict[str, Any]]:
    """Return the subaccount's statement by symbol, after checking that each asset ties out."""
    found: dict[str, dict[str, Any]] = {}
    for answered in view_statement(driver.state, sub, **query):
        assert isinstance(answered, dict)
        asset: dict[str, Any] = dict(answered)
        running = Decimal(str(asset["opening"]))
        for row in asset["rows"]:
            running += Decimal(row["change"])
            assert Decimal(row["runningTotal"]) == running, row
        assert Decimal(str(asset["closing"])) == running
        if "balance" in asset:
            now = Decimal(str(asset["balance"])) + Decimal(str(asset["position"]))
            assert Decimal(str(asset["closing"])) == now, f"INV-STATEMENT-1: {sub} {asset['symbol']}"
        found[str(asset["symbol"])] = asset
    return found


def _rows(asset: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [row for row in asset["rows"] if row["type"] == kind]


def _spot_liquidation() -> tuple[Driver, SubaccountId]:
    """A trader borrows all it can against 1 BTC; BTC falls; the liquidation sells BTC to a bid at 56,000."""
    driver = Driver()
    driver.prices(**PRICES)
    driver.lender(USDC="1000000")
    maker = driver.account()
    driver.deposit(maker, "USDC", "10000000")
    driver.place(maker, "BTC_USDC", "buy", "1", "56000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    most = driver.max_withdrawal(trader, "USDC", auto_borrow=True)
    driver.accept(driver.withdraw(trader, "USDC", driver.text("USDC", most), auto_borrow=True))
    driver.prices(BTC="57200")
    driver.accept(Liquidate(trader))
    return driver, trader


def test_a_spot_liquidation_shows_its_fee_inside_the_trade_rows_and_as_the_funds_liquidation_fees() -> None:
    driver, trader = _spot_liquidation()
    fills = [fill for fill in driver.state.fills if fill.taker_subaccount_id == trader]

    mine, fund = _statements(driver, trader), _statements(driver, INSURANCE_FUND_ID)

    trades = _rows(mine["USDC"], "Trade")
    assert len(trades) == len(fills) > 0
    for row, fill in zip(trades, fills, strict=True):
        assert row["cause"] == "Ask BTC_USDC (CollateralConversion)"
        assert fill.fee_atoms(maker=False) == fill.taker_fee_atoms + fill.liquidation_fee_atoms
        assert fill.liquidation_fee_atoms > 0
        assert row["change"] == driver.text("USDC", fill.quote_atoms - fill.fee_atoms(maker=False)), "net of 1.1%"
    sold = [Decimal(row["change"]) for row in _rows(mine["BTC"], "Trade")]
    assert sum(sold) == -sum(Decimal(driver.text("BTC", fill.quantity_atoms)) for fill in fills)
    fees = _rows(fund["USDC"], "LiquidationFee")
    assert [row["cause"] for row in fees] == [f"Liquidation of subaccount {trader} on BTC_USDC"] * len(fills)
    assert sum(Decimal(row["change"]) for row in fees) == Decimal(
        driver.text("USDC", sum(fill.liquidation_fee_atoms for fill in fills))
    )


def test_a_perp_liquidation_fee_settles_as_a_trading_fees_system_row() -> None:
    driver = Driver()
    driver.prices(**PRICES)
    driver.lender(USDC="1000000")
    driver.maker("BTC_USDC_PERP", "60000", "5", "10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "6100")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    driver.prices(BTC="54000")
    driver.requote("BTC_USDC_PERP", "54000")
    driver.accept(Liquidate(trader))
    driver.tick(driver.now_ms + 10_000)
    fee = sum(step.fee_atoms for step in driver.state.liquidation_steps if step.subaccount_id == trader)

    mine, fund = _statements(driver, trader), _statements(driver, INSURANCE_FUND_ID)

    settled = {row["cause"]: row["change"] for row in _rows(mine["USDC"], "Settlement")}
    assert fee > 0
    assert settled["TradingFeesSystem BTC_USDC_PERP"] == driver.text("USDC", -fee)
    assert set(settled) == {f"{source} BTC_USDC_PERP" for source in ("RealizePnl", "TradingFees", "TradingFeesSystem")}
    received = sum(Decimal(row["change"]) for row in _rows(fund["USDC"], "LiquidationFee"))
    assert received == Decimal(driver.text("USDC", fee)), "what the account paid, the fund received"


def test_a_backstop_takeover_moves_each_asset_with_a_liquidation_backstop_row_on_both_sides() -> None:
    driver = Driver()
    driver.prices(**PRICES)
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.deposit(INSURANCE_FUND_ID, "USDC", "10000")
    driver.prices(BTC="56000")
    driver.accept(Liquidate(trader))

    mine, fund = _statements(driver, trader), _statements(driver, INSURANCE_FUND_ID)

    assert [(row["cause"], row["change"]) for row in _rows(mine["BTC"], "LiquidationBackstop")] == [
        ("Taken over by the insurance fund", "-1")
    ]
    assert [(row["cause"], row["change"]) for row in _rows(fund["BTC"], "LiquidationBackstop")] == [
        (f"Taken over from subaccount {trader}", "1")
    ]
    assert (mine["BTC"]["closing"], mine["USDC"]["closing"]) == ("0", "0"), "nothing is left to the account"
    (repaid,) = [row for row in _rows(mine["USDC"], "BorrowLend") if "LiquidationBackstop" in row["cause"]]
    (provided,) = [row for row in _rows(fund["USDC"], "BorrowLend") if "BackstopProvider" in row["cause"]]
    assert Decimal(repaid["positionChange"]) == -Decimal(provided["positionChange"]) > 48000, "the debt moved whole"


def test_a_window_of_more_rows_than_the_limit_is_refused_naming_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    driver, trader = _spot_liquidation()
    monkeypatch.setattr(statement_module, "STATEMENT_ROWS_MAX", 3)

    with pytest.raises(ApiError, match=r"at most 3 are sent at once: ask for a shorter window with from and to"):
        view_statement(driver.state, trader)
    (btc,) = view_statement(driver.state, trader, "BTC")

    assert isinstance(btc, dict)
    assert isinstance(btc["rows"], list)
    assert len(btc["rows"]) == 3


def test_the_served_description_states_the_row_limit() -> None:
    document = json.loads(description_bytes())

    operation = document["paths"]["/wapi/v1/statement"]["get"]

    assert f"{STATEMENT_ROWS_MAX:,} rows" in operation["description"]
    assert "`statementQuery`" in operation["description"]


def test_from_after_to_and_an_unknown_subaccount_are_refused() -> None:
    driver, trader = _spot_liquidation()

    with pytest.raises(ApiError, match=r"from \(2\) must not be later than to \(1\)"):
        view_statement(driver.state, trader, from_ms=2, to_ms=1)
    with pytest.raises(ApiError, match="Subaccount 999 does not exist") as refused:
        view_statement(driver.state, SubaccountId(999))
    assert refused.value.code == "RESOURCE_NOT_FOUND"


def test_a_state_whose_rows_miss_an_atom_fails_the_inv_statement_1_check() -> None:
    driver, trader = _spot_liquidation()
    driver.state.ledger[(spot(trader), "BTC")] += 1  # an atom that no row explains

    with pytest.raises(AssertionError, match=r"INV-STATEMENT-1: subaccount \d+ BTC"):
        view_statement(driver.state, trader, "BTC")
    (windowed,) = view_statement(driver.state, trader, "BTC", to_ms=driver.now_ms + 1)
    assert isinstance(windowed, dict)
    assert "balance" not in windowed, "a window with an end is not compared with now"
