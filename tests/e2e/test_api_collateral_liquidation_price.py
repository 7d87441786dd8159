"""The brief's example over HTTP: the BTC price that liquidates a USDC borrow, on BTC's collateral row.

1 BTC at 60,000, 40,000 USDC borrowed and withdrawn. `GET /api/v1/capital/collateral` carries
`collateralLiquidationPrice` (a crossmargin extension) on the BTC row: about 46,869, derived
exactly from the margin rules (`tests/support/margin_math.py`). The USDC borrow row keeps
Backpack's `estLiquidationPrice`, a USDC price (about 1.2794), and BTC has no borrow-lend row at
all. Moving BTC half a percent either side of the estimate, `GET /api/v1/account` says the account
is liquidatable below it and not above (no risk monitor runs here, so nothing is liquidated).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from margin_math import (
    BTC_HAIRCUT,
    collateral_value,
    estimate_above,
    estimate_below,
    price_covering,
    text,
    usdc_maintained,
)
from signing_client import Exchange, Keys


def _get(exchange: Exchange, keys: Keys, path: str, instruction: str) -> Any:
    response = exchange.signed(keys, "GET", path, instruction)
    assert response.status_code == 200, response.text
    return response.json()


def _brief_example(exchange: Exchange) -> Keys:
    lender = exchange.new_account()
    exchange.deposit(lender, "USDC", "1000000")
    lend = {"symbol": "USDC", "side": "Lend", "quantity": "1000000"}
    assert exchange.signed(lender, "POST", "/api/v1/borrowLend", "borrowLendExecute", lend).status_code == 200
    trader = exchange.new_account()
    exchange.deposit(trader, "BTC", "1")
    borrow = {"symbol": "USDC", "side": "Borrow", "quantity": "40000"}
    assert exchange.signed(trader, "POST", "/api/v1/borrowLend", "borrowLendExecute", borrow).status_code == 200
    withdrawal = {"symbol": "USDC", "quantity": "40000", "address": "0xabc", "blockchain": "Ethereum"}
    response = exchange.signed(trader, "POST", "/wapi/v1/capital/withdrawals", "withdraw", withdrawal)
    assert response.status_code == 200, response.text
    return trader


def _liquidatable_with_btc_at(exchange: Exchange, keys: Keys, price: Decimal) -> bool:
    response = exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": text(price)}})
    assert response.status_code == 200, response.text
    flag: bool = _get(exchange, keys, "/api/v1/account", "accountQuery")["liquidating"]
    return flag


def test_the_btc_row_shows_the_btc_price_that_liquidates_the_usdc_borrow(exchange: Exchange) -> None:
    trader = _brief_example(exchange)

    collateral = _get(exchange, trader, "/api/v1/capital/collateral", "collateralQuery")
    positions = _get(exchange, trader, "/api/v1/borrowLend/positions", "borrowLendPositionQuery")

    [btc] = collateral["collateral"]
    [usdc] = positions
    debt = Decimal(usdc["netQuantity"]).copy_abs()
    exact_btc = price_covering(Decimal(1), BTC_HAIRCUT, usdc_maintained(debt))
    exact_usdc = collateral_value(Decimal(60000), BTC_HAIRCUT) / usdc_maintained(debt)
    assert (btc["symbol"], usdc["symbol"]) == ("BTC", "USDC")
    assert btc["collateralLiquidationPrice"] == estimate_below(exact_btc, Decimal(60000))
    assert round(exact_btc) == 46_869
    assert usdc["estLiquidationPrice"] == estimate_above(exact_usdc, Decimal(1))
    assert usdc["estLiquidationPrice"].startswith("1.2794")
    assert "collateralLiquidationPrice" not in usdc, "BTC is the collateral, not the borrowed USDC"


def test_half_a_percent_below_the_btc_estimate_is_liquidatable_and_above_it_is_not(exchange: Exchange) -> None:
    trader = _brief_example(exchange)
    [btc] = _get(exchange, trader, "/api/v1/capital/collateral", "collateralQuery")["collateral"]
    estimate = Decimal(btc["collateralLiquidationPrice"])

    assert not _liquidatable_with_btc_at(exchange, trader, estimate * Decimal("1.005"))
    assert not _liquidatable_with_btc_at(exchange, trader, estimate)
    assert _liquidatable_with_btc_at(exchange, trader, estimate * Decimal("0.995"))
