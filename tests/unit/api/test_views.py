"""The API views: exact Backpack bodies from engine state, to the atom and the 1e-18.

States are built through `engine.execute` (the driver); expected figures are derived here
independently, with fractions and the documented rounding, or from the engine's own records
where the view's job is only to show them (then the test checks it shows the right one).
"""

from __future__ import annotations

import copy
import math
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from engine_driver import HOUR_MS, MINUTE_MS, Driver

from crossmargin.api.errors import ApiError
from crossmargin.api.views import (
    JsonObject,
    JsonValue,
    page,
    view_account,
    view_assets,
    view_borrow_lend_history,
    view_borrow_lend_markets,
    view_borrow_lend_markets_history,
    view_borrow_lend_position_history,
    view_borrow_lend_positions,
    view_capital,
    view_capital_collateral,
    view_collateral,
    view_deposits,
    view_interest_history,
    view_mark_prices,
    view_max_borrow,
    view_max_withdrawal,
    view_status,
    view_time,
    view_withdrawals,
)
from crossmargin.api.views.common import naive_time, zoned_time
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import compute_borrow_rate
from crossmargin.core.numbers import Ratio, format_scaled, parse_decimal

WAD = 10**18
YEAR_MS = 365 * 24 * HOUR_MS
JAN_1_2026_MS = 1_767_225_600_000


def obj(value: JsonValue) -> JsonObject:
    assert isinstance(value, dict), value
    return value


def rows(value: JsonValue) -> list[JsonObject]:
    assert isinstance(value, list), value
    return [obj(item) for item in value]


def by_symbol(value: JsonValue) -> dict[str, JsonObject]:
    return {str(row["symbol"]): row for row in rows(value)}


def ceil_to_wad(value: Fraction) -> Fraction:
    return Fraction(math.ceil(value * WAD), WAD)


def text_of(value: Fraction, decimals: int = 18) -> str:
    """Format an exact fraction that has at most `decimals` places, as the views do."""
    scaled = value * 10**decimals
    assert scaled.denominator == 1, value
    return format_scaled(scaled.numerator, decimals)


def usdc_rate(utilization: Fraction) -> Fraction:
    """The demo USDC curve below its 80% kink: 3% + 10% * U / 0.8, rounded up to 1e-18."""
    return ceil_to_wad(Fraction(3, 100) + Fraction(10, 100) * utilization / Fraction(8, 10))


@pytest.fixture
def worked(driver: Driver) -> tuple[Driver, SubaccountId, SubaccountId]:
    """The brief's worked example: 100,000 USDC lent; 1 BTC of collateral; 2,000 USDC borrowed at 00:50."""
    lender = driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.at(50 * MINUTE_MS).borrow(borrower, "USDC", "2000")
    return driver, lender, borrower


# Formats -------------------------------------------------------------------------------------


def test_naive_times_are_utc_without_zone_and_show_milliseconds_only_when_there_are_some() -> None:
    assert naive_time(JAN_1_2026_MS + 50 * MINUTE_MS) == "2026-01-01T00:50:00"
    assert naive_time(JAN_1_2026_MS + 250) == "2026-01-01T00:00:00.250"
    assert naive_time(JAN_1_2026_MS + 7) == "2026-01-01T00:00:00.007"
    assert zoned_time(JAN_1_2026_MS) == "2026-01-01T00:00:00Z"


# Public --------------------------------------------------------------------------------------


def test_time_is_the_bare_millisecond_count_and_status_is_ok() -> None:
    assert view_time(1_753_131_712_992) == "1753131712992"
    assert view_status() == {"status": "Ok"}


def test_assets_list_each_asset_on_its_chain_with_its_scale(driver: Driver) -> None:
    assets = by_symbol(view_assets(driver.state))

    assert sorted(assets) == ["BTC", "ETH", "SOL", "USDC", "USDT"]
    assert assets["BTC"]["displayName"] == "Bitcoin"
    assert assets["BTC"]["tokens"] == [
        {
            "displayName": "Bitcoin",
            "blockchain": "Bitcoin",
            "depositEnabled": True,
            "minimumDeposit": "0",
            "withdrawEnabled": True,
            "minimumWithdrawal": "0.00000001",
            "withdrawalFee": "0",
            "nativeDecimals": 8,
        }
    ]
    assert rows(assets["USDC"]["tokens"])[0]["blockchain"] == "Solana"


def test_collateral_shows_the_configured_functions_exactly(driver: Driver) -> None:
    collateral = by_symbol(view_collateral(driver.state))

    assert collateral["SOL"] == {
        "symbol": "SOL",
        "imfFunction": {"type": "sqrt", "base": "0.1", "factor": "0.00036"},
        "mmfFunction": {"type": "sqrt", "base": "0.05", "factor": "0.000216"},
        "haircutFunction": {
            "weight": "0.9",
            "kind": {"type": "inverseSqrt", "base": "0.9", "positiveCurvePenalty": "0.00005"},
        },
    }
    assert collateral["USDC"]["haircutFunction"] == {"weight": "1", "kind": {"type": "identity"}}


def test_market_after_the_worked_borrow_shows_the_pool_and_the_rate_it_will_charge(
    worked: tuple[Driver, SubaccountId, SubaccountId],
) -> None:
    driver, _, _ = worked
    entry_fee = 1237  # 10 minutes at the rate after the borrow (tests/unit/core/test_worked_example.py)
    borrowed = 2_000_000_000 + entry_fee
    supplied = 100_000_000_000 + entry_fee  # the whole entry fee stays in the pool (lenders' share + fee income)
    utilization = ceil_to_wad(Fraction(borrowed, supplied))

    usdc = by_symbol(view_borrow_lend_markets(driver.state))["USDC"]

    assert usdc["borrowedQuantity"] == "2000.001237"
    assert usdc["lentQuantity"] == "100000.001237"
    assert usdc["utilization"] == text_of(utilization)
    assert usdc["borrowInterestRate"] == text_of(usdc_rate(utilization))
    assert {key: usdc[key] for key in ("state", "assetMarkPrice", "fee", "maxUtilization", "optimalUtilization")} == {
        "state": "Open",
        "assetMarkPrice": "1",
        "fee": "0.1",
        "maxUtilization": "0.9",
        "optimalUtilization": "0.8",
    }
    assert usdc["openBorrowLendLimit"] == "1000000000"
    assert usdc["throttleUtilizationThreshold"] == "0.85"
    assert usdc["throttleUtilizationBound"] == "0.9"
    assert usdc["throttleUpdateFraction"] == "0"
    assert usdc["stepSize"] == "0.000001"
    assert usdc["timestamp"] == "1970-01-01T00:50:00Z"
    lend_rate = Fraction(str(usdc["lendInterestRate"]))
    lent_claims = Fraction(driver.state.pools["USDC"].lent_atoms)
    assert lend_rate <= usdc_rate(utilization) * Fraction(borrowed) / lent_claims * Fraction(9, 10)
    assert lend_rate > usdc_rate(utilization) * Fraction(borrowed) / lent_claims * Fraction(9, 10) - Fraction(2, WAD)


def test_market_now_is_exactly_the_history_row_the_next_hour_records(
    worked: tuple[Driver, SubaccountId, SubaccountId],
) -> None:
    driver, _, _ = worked
    before = by_symbol(view_borrow_lend_markets(driver.state))["USDC"]

    driver.tick(HOUR_MS)
    (row,) = rows(view_borrow_lend_markets_history(driver.state, "1d", "USDC"))

    assert row == {
        "borrowInterestRate": before["borrowInterestRate"],
        "borrowedQuantity": before["borrowedQuantity"],
        "lendInterestRate": before["lendInterestRate"],
        "lentQuantity": before["lentQuantity"],
        "timestamp": "1970-01-01T01:00:00Z",
        "utilization": before["utilization"],
    }


def test_history_rebuilds_each_hour_exactly_through_repays_redeems_and_withdrawals(driver: Driver) -> None:
    lender = driver.lender(USDC="10000")
    other_lender = driver.lender(USDC="5000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.at(10 * MINUTE_MS).borrow(borrower, "USDC", "7000")
    driver.at(HOUR_MS + 5 * MINUTE_MS).lend(borrower, "USDC", "3000")  # a repay
    driver.at(2 * HOUR_MS).accept(driver.withdraw(borrower, "USDC", "5000", auto_borrow=True))  # borrows 1000
    driver.at(3 * HOUR_MS + 1).borrow(other_lender, "USDC", "100")  # redeems the lend
    driver.tick(6 * HOUR_MS)
    curve = driver.state.specs["USDC"].rate_curve

    history = rows(view_borrow_lend_markets_history(driver.state, "1d", "USDC"))

    assert [row["timestamp"] for row in history] == [f"1970-01-01T0{hour}:00:00Z" for hour in range(6, 0, -1)]
    for row, accrual in zip(history, reversed(driver.state.accruals["USDC"]), strict=True):
        utilization = parse_decimal(str(row["utilization"]), 18)
        assert compute_borrow_rate(curve, utilization) == accrual.borrow_rate_wad, (
            "the rebuilt utilization is exactly the one the hour's rate was charged at"
        )
        assert row["borrowInterestRate"] == text_of(Fraction(accrual.borrow_rate_wad, WAD))
    live = by_symbol(view_borrow_lend_markets(driver.state))["USDC"]
    cash = Decimal(str(live["lentQuantity"])) - Decimal(str(live["borrowedQuantity"]))
    assert cash == 15000 - 7000 + 3000 - 1000 - 100, "the pool's cash is what the movements left in it"
    assert lender != other_lender


def test_history_keeps_only_the_interval_and_all_markets_newest_first(driver: Driver) -> None:
    driver.tick(30 * HOUR_MS)

    day = rows(view_borrow_lend_markets_history(driver.state, "1d"))
    week = rows(view_borrow_lend_markets_history(driver.state, "1w", "BTC"))

    assert len(day) == 24 * 5
    assert day[0]["timestamp"] == "1970-01-02T06:00:00Z"
    assert day[-1]["timestamp"] == "1970-01-01T07:00:00Z"
    assert len(week) == 30
    with pytest.raises(ApiError, match="interval must be one of 1d, 1w, 1month, 1year"):
        view_borrow_lend_markets_history(driver.state, "1h")
    with pytest.raises(ApiError) as unknown:
        view_borrow_lend_markets_history(driver.state, "1d", "DOGE")
    assert unknown.value.code == "INVALID_MARKET"


def test_mark_prices_list_spot_markets_with_index_equal_to_mark_then_perps(driver: Driver) -> None:
    prices = by_symbol(view_mark_prices(driver.state))

    assert list(prices) == [
        "BTC_USDC",
        "ETH_USDC",
        "SOL_USDC",
        "USDT_USDC",
        "BTC_USDC_PERP",
        "ETH_USDC_PERP",
        "SOL_USDC_PERP",
    ]
    assert prices["BTC_USDC"] == {"indexPrice": "60000", "markPrice": "60000", "symbol": "BTC_USDC"}
    assert view_mark_prices(driver.state, "SOL_USDC") == [
        {"indexPrice": "150", "markPrice": "150", "symbol": "SOL_USDC"}
    ]
    assert len(rows(view_mark_prices(driver.state, market_type="PERP"))) == 3
    assert len(rows(view_mark_prices(driver.state, market_type="SPOT"))) == 4
    assert view_mark_prices(driver.state, market_type="RFQ") == []
    with pytest.raises(ApiError):
        view_mark_prices(driver.state, market_type="FUTURES")
    with pytest.raises(ApiError):
        view_mark_prices(driver.state, "DOGE_USDC_PERP")


# Account -------------------------------------------------------------------------------------


def test_account_shows_the_subaccount_settings(driver: Driver) -> None:
    sub = driver.account()
    driver.settings(sub, leverage_limit="5", auto_lend=True)

    account = view_account(driver.state, sub)

    assert account["autoLend"] is True
    assert account["autoRepayBorrows"] is False
    assert account["autoBorrowSettlements"] is True
    assert account["leverageLimit"] == "5"
    assert account["liquidating"] is False
    assert account["limitOrders"] == 0
    with pytest.raises(ApiError) as missing:
        view_account(driver.state, SubaccountId(99))
    assert missing.value.code == "RESOURCE_NOT_FOUND"


def test_limits_are_the_engines_maxima(worked: tuple[Driver, SubaccountId, SubaccountId]) -> None:
    driver, _, borrower = worked

    borrow = view_max_borrow(driver.state, borrower, "USDC")
    withdrawal = view_max_withdrawal(driver.state, borrower, "USDC", auto_borrow=True)

    assert borrow == {
        "maxBorrowQuantity": driver.text("USDC", driver.max_borrowable(borrower, "USDC")),
        "symbol": "USDC",
    }
    assert withdrawal == {
        "autoBorrow": True,
        "autoLendRedeem": False,
        "maxWithdrawalQuantity": driver.text("USDC", driver.max_withdrawal(borrower, "USDC", auto_borrow=True)),
        "symbol": "USDC",
    }
    assert view_max_withdrawal(driver.state, borrower, "USDC")["maxWithdrawalQuantity"] == "2000"
    with pytest.raises(ApiError) as unknown:
        view_max_borrow(driver.state, borrower, "DOGE")
    assert unknown.value.code == "INVALID_ASSET"


def test_borrow_position_shows_debt_entry_fee_and_margin_fractions(
    worked: tuple[Driver, SubaccountId, SubaccountId],
) -> None:
    driver, _, borrower = worked

    (position,) = rows(view_borrow_lend_positions(driver.state, borrower))

    assert position == {
        "cumulativeInterest": "0.001237",
        "id": position["id"],
        "imf": "0.1",
        "imfFunction": {"type": "sqrt", "base": "0.1", "factor": "0.00002"},
        "netQuantity": "-2000.001237",
        "markPrice": "1",
        "mmf": "0.05",
        "mmfFunction": {"type": "sqrt", "base": "0.05", "factor": "0.000012"},
        "netExposureQuantity": "-2000.001237",
        "netExposureNotional": "2000.001237",
        "symbol": "USDC",
        # The borrowed USDC is still held (weight 1) against the debt plus its 5% maintenance, with
        # 1 BTC beside it: only USDC at about 537 USD would make the account liquidatable.
        "estLiquidationPrice": "537.36046839",
        # The borrowed USDC is held, so it is collateral too: the same estimate, as a crossmargin extension.
        "collateralLiquidationPrice": "537.36046839",
    }
    assert position["id"] == str(driver.state.positions[(borrower, "USDC")].position_id)


def test_lend_position_earns_interest_and_uses_backpacks_sol_functions(driver: Driver) -> None:
    lender = driver.lender(SOL="10")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "10000")
    driver.borrow(borrower, "SOL", "5")
    driver.tick(2 * HOUR_MS)

    (position,) = rows(view_borrow_lend_positions(driver.state, lender))

    lent = driver.holding(lender, "SOL").lend_atoms
    assert lent > 1_000_000_000
    assert position["netQuantity"] == driver.text("SOL", lent)
    assert position["netExposureQuantity"] == position["netQuantity"]
    assert position["cumulativeInterest"] == driver.text("SOL", lent - 1_000_000_000)
    assert position["netExposureNotional"] == text_of(Fraction(lent * 150, 10**8))
    assert (position["imf"], position["mmf"]) == ("0.1", "0.05"), "Backpack's SOL lend at small notional"


def test_large_sol_borrow_pays_the_square_root_margin_fraction(driver: Driver) -> None:
    driver.lender(SOL="2000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "20")
    driver.at(HOUR_MS).borrow(borrower, "SOL", "1000")

    (position,) = rows(view_borrow_lend_positions(driver.state, borrower))

    debt = driver.holding(borrower, "SOL").debt_atoms
    notional = Fraction(debt * 150, 10**8)
    exact_imf_squared = Fraction(36, 100_000) ** 2 * notional
    imf = Fraction(str(position["imf"]))
    assert imf**2 >= exact_imf_squared, "IMF = 0.00036 * sqrt(notional), rounded up"
    assert (imf - Fraction(2, WAD)) ** 2 < exact_imf_squared, "within two 1e-18 steps of the exact value"
    assert imf > Fraction(1, 10), "past the base: the square-root term governs"


def test_capital_shows_spot_balances_and_hides_lends(worked: tuple[Driver, SubaccountId, SubaccountId]) -> None:
    driver, lender, borrower = worked

    assert view_capital(driver.state, borrower) == {
        "BTC": {"available": "1", "locked": "0", "staked": "0"},
        "USDC": {"available": "2000", "locked": "0", "staked": "0"},
    }
    assert view_capital(driver.state, lender) == {"USDC": {"available": "0", "locked": "0", "staked": "0"}}


def test_collateral_summary_is_exact_for_identity_weights(driver: Driver) -> None:
    driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "USDT", "10000")
    driver.at(50 * MINUTE_MS).borrow(borrower, "USDC", "2000")

    summary = view_capital_collateral(driver.state, borrower)

    assert {key: value for key, value in summary.items() if key != "collateral"} == {
        "assetsValue": "11500",
        "borrowLiability": "2000.001237",
        "imf": "0.1",
        "unsettledEquity": "0",
        "liabilitiesValue": "2000.001237",
        "mmf": "0.05",
        "netEquity": "9499.998763",
        "netEquityAvailable": "9299.9986393",
        "netEquityLocked": "200.0001237",
        "netExposureFutures": "0",
        "pnlUnrealized": "0",
        "marginFraction": text_of(Fraction(math.floor(Fraction(9_499_998_763, 2_000_001_237) * WAD), WAD)),
        "initialMarginRatio": text_of(Fraction(math.ceil(Fraction(2_000_001_237, 94_999_987_630) * WAD), WAD)),
        "maintenanceMarginRatio": text_of(Fraction(math.ceil(Fraction(1_000_000_618_5, 94_999_987_630_0) * WAD), WAD)),
    }
    assert rows(summary["collateral"]) == [
        {
            "symbol": "USDC",
            "assetMarkPrice": "1",
            "totalQuantity": "2000",
            "balanceNotional": "2000",
            "collateralWeight": "1",
            "collateralValue": "2000",
            "openOrderQuantity": "0",
            "lendQuantity": "0",
            "availableQuantity": "2000",
            # USDC rising to P: 9500 + 2000 P <= 2000.001237 P * 1.05, so P >= 94.99876610853...; the
            # last safe price on the estimate's 1e-8 grid.
            "collateralLiquidationPrice": "94.9987661",
        },
        {
            "symbol": "USDT",
            "assetMarkPrice": "1",
            "totalQuantity": "10000",
            "balanceNotional": "10000",
            "collateralWeight": "0.95",
            "collateralValue": "9500",
            "openOrderQuantity": "0",
            "lendQuantity": "0",
            "availableQuantity": "10000",
            # USDT falling to P: 9500 P + 2000 <= 2000.001237 * 1.05, so P <= 0.01052645252...; the
            # first safe price above it on the 1e-8 grid.
            "collateralLiquidationPrice": "0.01052646",
        },
    ]


def test_collateral_summary_of_a_lender_counts_lends_and_has_no_margin_fraction(driver: Driver) -> None:
    lender = driver.lender(USDC="1000")

    summary = view_capital_collateral(driver.state, lender)

    assert "marginFraction" not in summary
    assert (summary["imf"], summary["mmf"], summary["netEquity"]) == ("0", "0", "1000")
    (usdc,) = rows(summary["collateral"])
    assert (usdc["totalQuantity"], usdc["lendQuantity"], usdc["availableQuantity"]) == ("1000", "1000", "0")


def test_inverse_sqrt_weight_is_shown_as_value_over_notional(worked: tuple[Driver, SubaccountId, SubaccountId]) -> None:
    driver, _, borrower = worked

    btc = by_symbol(view_capital_collateral(driver.state, borrower)["collateral"])["BTC"]

    exact = Fraction(9, 10) / (1 + Fraction(2, 100_000) * Fraction(math.isqrt(60_000 * 10**40), 10**20))
    weight = Fraction(str(btc["collateralWeight"]))
    assert abs(weight - exact) < Fraction(1, 10**15)
    assert Fraction(str(btc["collateralValue"])) <= Fraction(60_000) * weight + Fraction(60_000, WAD)
    assert btc["balanceNotional"] == "60000"


# History -------------------------------------------------------------------------------------


def test_interest_history_shows_the_worked_entry_fee_then_the_hourly_charge(
    worked: tuple[Driver, SubaccountId, SubaccountId],
) -> None:
    driver, _, borrower = worked
    debt = 2_000_001_237
    rate = usdc_rate(Fraction(debt, 100_000_001_237))
    hourly = math.ceil(debt * rate / (365 * 24))
    position_id = str(driver.state.positions[(borrower, "USDC")].position_id)

    driver.tick(HOUR_MS)

    assert view_interest_history(driver.state, borrower) == [
        {
            "paymentType": "Borrow",
            "interestRate": text_of(rate),
            "interval": HOUR_MS,
            "marketSymbol": "USDC",
            "positionId": position_id,
            "quantity": text_of(Fraction(hourly, 10**6), 6),
            "symbol": "USDC",
            "timestamp": "1970-01-01T01:00:00",
        },
        {
            "paymentType": "EntryFee",
            "interestRate": text_of(rate),  # the rate after the borrow: the first hour's rate
            "interval": 10 * MINUTE_MS,
            "marketSymbol": "USDC",
            "positionId": position_id,
            "quantity": "0.001237",
            "symbol": "USDC",
            "timestamp": "1970-01-01T00:50:00",
        },
    ]


def test_interest_history_filters(driver: Driver) -> None:
    driver.lender(USDC="10000", SOL="100")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.at(30 * MINUTE_MS).borrow(borrower, "USDC", "1000")
    driver.borrow(borrower, "SOL", "10")
    driver.tick(2 * HOUR_MS)
    sol_position = str(driver.state.positions[(borrower, "SOL")].position_id)

    everything = rows(view_interest_history(driver.state, borrower))
    sol = rows(view_interest_history(driver.state, borrower, asset="SOL"))

    assert len(everything) == 6
    assert {row["symbol"] for row in sol} == {"SOL"}
    assert {row["marketSymbol"] for row in sol} == {"SOL_USDC"}
    assert view_interest_history(driver.state, borrower, symbol="SOL_USDC") == sol
    assert view_interest_history(driver.state, borrower, position_id=sol_position) == sol
    assert view_interest_history(driver.state, borrower, source="UnrealizedPnl") == []
    assert view_interest_history(driver.state, borrower, source="BorrowLend") == everything
    assert view_interest_history(driver.state, borrower, sort_direction="Asc") == everything[::-1]
    with pytest.raises(ApiError, match="source must be one of UnrealizedPnl, BorrowLend"):
        view_interest_history(driver.state, borrower, source="Funding")


def test_movements_show_each_source_and_filter(driver: Driver) -> None:
    driver.lender(USDC="10000")
    saver = driver.account()
    driver.settings(saver, auto_lend=True)
    driver.deposit(saver, "USDC", "500")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.at(HOUR_MS).borrow(borrower, "USDC", "1000")
    driver.at(2 * HOUR_MS + 250).accept(driver.withdraw(borrower, "USDC", "1500", auto_borrow=True))

    saved = rows(view_borrow_lend_history(driver.state, saver))
    moves = rows(view_borrow_lend_history(driver.state, borrower))

    assert saved == [
        {
            "eventType": "Lend",
            "positionId": saved[0]["positionId"],
            "positionQuantity": "500",
            "quantity": "500",
            "source": "AutoLend",
            "symbol": "USDC",
            "timestamp": "1970-01-01T00:00:00",
        }
    ]
    assert [(row["eventType"], row["source"], row["quantity"], row["timestamp"]) for row in moves] == [
        ("Borrow", "Withdrawal", "500", "1970-01-01T02:00:00.250"),
        ("Borrow", "Manual", "1000", "1970-01-01T01:00:00"),
    ]
    position_id = str(moves[0]["positionId"])
    assert Decimal(str(moves[0]["positionQuantity"])) > Decimal(1500), "the debt after: both borrows and interest"
    assert view_borrow_lend_history(driver.state, borrower, sources="Withdrawal") == moves[:1]
    assert view_borrow_lend_history(driver.state, borrower, sources="Manual, Withdrawal") == moves
    assert view_borrow_lend_history(driver.state, borrower, sources="Rfq") == []
    assert view_borrow_lend_history(driver.state, borrower, event_type="Lend") == []
    assert view_borrow_lend_history(driver.state, borrower, position_id=position_id) == moves
    assert view_borrow_lend_history(driver.state, borrower, symbol="SOL") == []
    assert view_borrow_lend_history(driver.state, borrower, sort_direction="Asc") == moves[::-1]
    with pytest.raises(ApiError) as wrong:
        view_borrow_lend_history(driver.state, borrower, sources="Manual,Magic")
    assert wrong.value.code == "INVALID_SOURCE"
    with pytest.raises(ApiError, match="type must be one of"):
        view_borrow_lend_history(driver.state, borrower, event_type="Repay")
    with pytest.raises(ApiError, match="sortDirection must be one of Asc, Desc"):
        view_borrow_lend_history(driver.state, borrower, sort_direction="asc")


def test_position_history_shows_open_and_closed_positions(driver: Driver) -> None:
    lender = driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "USDC", "100")
    driver.deposit(borrower, "BTC", "1")
    driver.at(30 * MINUTE_MS).borrow(borrower, "USDC", "1000")
    driver.tick(2 * HOUR_MS)
    debt = driver.holding(borrower, "USDC").debt_atoms
    driver.at(2 * HOUR_MS + MINUTE_MS).lend(borrower, "USDC", driver.text("USDC", debt))  # repay all
    driver.at(3 * HOUR_MS).borrow(borrower, "USDC", "10")

    positions = rows(view_borrow_lend_position_history(driver.state, borrower))
    paid = rows(view_interest_history(driver.state, borrower))

    assert [(row["side"], row["quantity"], row["createdAt"]) for row in positions] == [
        ("Borrow", driver.text("USDC", driver.holding(borrower, "USDC").debt_atoms), "1970-01-01T03:00:00"),
        ("Borrow", "0", "1970-01-01T00:30:00"),
    ]
    closed_id = positions[1]["positionId"]
    closed_interest = sum(Decimal(str(row["quantity"])) for row in paid if row["positionId"] == closed_id)
    assert Decimal(str(positions[1]["cumulativeInterest"])) == closed_interest == Decimal(debt - 1_000_000_000) / 10**6
    rates = [
        (Fraction(str(row["interestRate"])), int(str(row["interval"])))
        for row in paid
        if row["positionId"] == closed_id
    ]
    average = sum(rate * interval for rate, interval in rates) / sum(interval for _, interval in rates)
    assert Fraction(str(positions[1]["avgInterestRate"])) == Fraction(math.floor(average * WAD), WAD)
    (entry_fee,) = [row for row in paid if row["positionId"] == positions[0]["positionId"]]
    assert entry_fee["paymentType"] == "EntryFee"
    assert entry_fee["interval"] == HOUR_MS, "borrowed on the hour: a whole hour ahead"
    new_debt = driver.holding(borrower, "USDC").debt_atoms
    assert positions[0]["cumulativeInterest"] == driver.text("USDC", new_debt - 10_000_000), "debt - principal"
    fee_atoms = driver.atoms("USDC", str(entry_fee["quantity"]))
    assert new_debt - 10_000_000 in (fee_atoms, fee_atoms + 1), "the entry fee, and the pool's rounding of the debt"
    assert positions[1]["source"] == "Manual"
    assert view_borrow_lend_position_history(driver.state, borrower, position_state="Open") == positions[:1]
    assert view_borrow_lend_position_history(driver.state, borrower, position_state="Closed") == positions[1:]
    assert view_borrow_lend_position_history(driver.state, borrower, side="Lend") == []
    assert (
        view_borrow_lend_position_history(driver.state, borrower, symbol="USDC", sort_direction="Asc")
        == (positions[::-1])
    )
    (lend,) = rows(view_borrow_lend_position_history(driver.state, lender))
    assert (lend["side"], lend["source"]) == ("Lend", "Manual")
    assert Decimal(str(lend["cumulativeInterest"])) > 0


def test_deposits_and_withdrawals_newest_first_with_their_ids(driver: Driver) -> None:
    sub = driver.account()
    other = driver.account()
    driver.at(1000).deposit(sub, "USDC", "100")
    driver.at(2000).deposit(other, "SOL", "1")
    driver.at(3000).deposit(sub, "BTC", "0.5")
    driver.at(4000).accept(driver.withdraw(sub, "BTC", "0.1"))
    driver.at(5000).accept(driver.withdraw(sub, "USDC", "40"))

    deposits = rows(view_deposits(driver.state, sub))
    withdrawals = rows(view_withdrawals(driver.state, sub))
    hashes = [row.pop("transactionHash") for row in [*deposits, *withdrawals]]

    assert all(re.fullmatch("0x[0-9a-f]{64}", str(value)) for value in hashes), "every transfer has a chain-style hash"
    assert len(set(hashes)) == len(hashes), "each transfer its own hash"
    assert hashes[0] == rows(view_deposits(driver.state, sub))[0]["transactionHash"], "the same hash on every read"
    assert deposits == [
        {
            "id": 2,
            "source": "administrator",
            "status": "confirmed",
            "symbol": "BTC",
            "quantity": "0.5",
            "createdAt": "1970-01-01T00:00:03",
        },
        {
            "id": 0,
            "source": "administrator",
            "status": "confirmed",
            "symbol": "USDC",
            "quantity": "100",
            "createdAt": "1970-01-01T00:00:01",
        },
    ]
    assert withdrawals[1] == {
        "id": 0,
        "blockchain": "Bitcoin",
        "quantity": "0.1",
        "fee": "0",
        "symbol": "BTC",
        "status": "confirmed",
        "subaccountId": sub,
        "toAddress": "",
        "createdAt": "1970-01-01T00:00:04",
        "isInternal": False,
    }
    assert [row["id"] for row in withdrawals] == [1, 0]
    assert rows(view_deposits(driver.state, sub, from_ms=1000, to_ms=2999))[0]["id"] == 0
    assert [row["id"] for row in rows(view_withdrawals(driver.state, sub, withdrawal_id=1))] == [1]
    assert [row["id"] for row in rows(view_withdrawals(driver.state, sub, from_ms=4001))] == [1]
    assert view_withdrawals(driver.state, sub, client_id="mine") == []
    assert view_withdrawals(driver.state, other) == []


# Paging and purity ---------------------------------------------------------------------------


def test_page_cuts_rows_and_reports_backpacks_headers() -> None:
    everything: list[JsonValue] = list(range(7))

    first = page(everything)
    third = page(everything, limit=3, offset=6)

    assert (first.rows, first.total, first.limit, first.offset) == (everything, 7, 100, 0)
    assert third.rows == [6]
    assert third.headers() == {
        "ACCESS-CONTROL-EXPOSE-HEADERS": "X-PAGE-COUNT, X-CURRENT-PAGE, X-PAGE-SIZE, X-TOTAL",
        "X-PAGE-COUNT": "3",
        "X-CURRENT-PAGE": "3",
        "X-PAGE-SIZE": "3",
        "X-TOTAL": "7",
    }
    assert page([], limit=1000).headers()["X-PAGE-COUNT"] == "0"
    for limit, offset in ((0, 0), (1001, 0), (10, -1)):
        with pytest.raises(ApiError):
            page(everything, limit, offset)


def test_views_change_nothing(worked: tuple[Driver, SubaccountId, SubaccountId]) -> None:
    driver, lender, borrower = worked
    driver.tick(2 * HOUR_MS)
    before = copy.deepcopy(driver.state)

    for sub in (lender, borrower):
        view_account(driver.state, sub)
        view_max_borrow(driver.state, sub, "USDC")
        view_max_withdrawal(driver.state, sub, "USDC", auto_borrow=True, auto_lend_redeem=True)
        view_borrow_lend_positions(driver.state, sub)
        view_capital(driver.state, sub)
        view_capital_collateral(driver.state, sub)
        view_interest_history(driver.state, sub)
        view_borrow_lend_history(driver.state, sub)
        view_borrow_lend_position_history(driver.state, sub)
    view_borrow_lend_markets(driver.state)
    view_borrow_lend_markets_history(driver.state, "1year")

    assert driver.state == before


def test_leverage_limit_raises_the_floor_of_a_positions_imf(worked: tuple[Driver, SubaccountId, SubaccountId]) -> None:
    driver, _, borrower = worked
    driver.settings(borrower, leverage_limit="4")

    (position,) = rows(view_borrow_lend_positions(driver.state, borrower))

    assert position["imf"] == str(Ratio.parse("0.25"))
    assert view_capital_collateral(driver.state, borrower)["imf"] == "0.25"
