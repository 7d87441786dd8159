"""Why do I have a USDC borrow? Each borrow joined with the settlement, order or request that caused it."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.explain import view_borrow_explanations
from crossmargin.app.explain import explain_borrows
from crossmargin.core.events import BorrowLendSource, SettlementSource
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import OrderFlags

SECOND_MS = 1_000


def _market(driver: Driver) -> None:
    driver.prices(BTC="65000", USDC="1", USDT="1", ETH="3000", SOL="150")
    driver.lender(USDC="1000000", BTC="100")
    driver.maker("BTC_USDC_PERP", "65000", "5", "2")
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    driver.maker("BTC_USDC", "65000", "10", "2")


def _losing_long(driver: Driver) -> SubaccountId:
    """The brief's USDT-only trader: 0.1 BTC perp bought, BTC falls 1,000, settled 20 s later."""
    trader = driver.account()
    driver.deposit(trader, "USDT", "10000")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(driver.now_ms + 2 * SECOND_MS).prices(BTC="64000")
    driver.requote("BTC_USDC_PERP", "64000")
    driver.tick(driver.now_ms + 20 * SECOND_MS)
    return trader


def test_a_settlement_borrow_is_explained_by_its_settled_rows_and_shortfall() -> None:
    driver = Driver().at(HOUR_MS + 50 * 60 * SECOND_MS)
    _market(driver)
    trader = _losing_long(driver)
    (row,) = explain_borrows(driver.state, trader)
    assert row.movement.source is BorrowLendSource.RECONCILIATION
    assert row.shortfall is not None
    assert row.shortfall.borrowed_atoms == row.movement.quantity_atoms == driver.atoms("USDC", "103.75025")
    assert row.shortfall.auto_borrow_settlements
    parts = {settled.source: driver.text("USDC", settled.quantity_atoms) for settled in row.settlements}
    assert parts == {SettlementSource.REALIZE_PNL: "-100.5", SettlementSource.TRADING_FEES: "-3.25025"}
    assert 0 < row.entry_fee_atoms < driver.atoms("USDC", "0.01"), "ten minutes of interest on 103.75 USDC"
    assert row.orders == ()

    (view,) = view_borrow_explanations(driver.state, trader, "USDC", 10)
    assert view["quantity"] == "103.75025"
    assert view["source"] == "Reconciliation"
    assert view["settlements"] == [
        {"symbol": "BTC_USDC_PERP", "source": "RealizePnl", "quantity": "-100.5"},
        {"symbol": "BTC_USDC_PERP", "source": "TradingFees", "quantity": "-3.25025"},
    ]
    assert view["shortfall"] == {
        "symbol": "USDC",
        "short": "103.75025",
        "redeemedLend": "0",
        "borrowed": "103.75025",
        "converted": [],
        "uncovered": "0",
        "autoBorrowSettlements": True,
    }
    assert view["entryFee"] == driver.text("USDC", row.entry_fee_atoms)


def test_a_usdc_lend_is_redeemed_first_and_only_the_rest_is_borrowed() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "USDT", "10000")
    driver.deposit(trader, "USDC", "1")
    driver.lend(trader, "USDC", "1")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(driver.now_ms + 2 * SECOND_MS).prices(BTC="64000")
    driver.requote("BTC_USDC_PERP", "64000")
    driver.tick(driver.now_ms + 20 * SECOND_MS)
    (row,) = explain_borrows(driver.state, trader, "USDC")
    assert row.shortfall is not None
    assert driver.text("USDC", row.shortfall.redeemed_atoms) == "1"
    assert driver.text("USDC", row.movement.quantity_atoms) == "102.75025"


def test_a_spot_margin_borrow_names_the_order_placed_with_auto_borrow() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    order = driver.place(trader, "BTC_USDC", "buy", "0.01", "65000", flags=OrderFlags(auto_borrow=True))
    (row,) = explain_borrows(driver.state, trader)
    assert row.movement.source is BorrowLendSource.SPOT_MARGIN
    assert [found.order_id for found in row.orders] == [order.order_id]
    assert row.settlements == ()
    assert row.shortfall is None
    (view,) = view_borrow_explanations(driver.state, trader, None, 10)
    assert view["orders"] == [
        {
            "orderId": str(order.order_id),
            "symbol": "BTC_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "quantity": "0.01",
            "price": "65000",
            "autoBorrow": True,
        }
    ]


def test_manual_borrows_are_listed_newest_first_and_filtered_by_asset() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "USDT", "10000")
    driver.borrow(trader, "USDC", "100")
    driver.at(HOUR_MS + 60 * SECOND_MS).borrow(trader, "BTC", "0.01")
    rows = explain_borrows(driver.state, trader)
    assert [(row.movement.symbol, row.movement.source) for row in rows] == [
        ("BTC", BorrowLendSource.MANUAL),
        ("USDC", BorrowLendSource.MANUAL),
    ]
    assert [row.movement.symbol for row in explain_borrows(driver.state, trader, "USDC")] == ["USDC"]
    assert explain_borrows(driver.state, trader, "SOL") == []
    assert view_borrow_explanations(driver.state, trader, "USDC", 1)[0]["source"] == "Manual"
    assert len(view_borrow_explanations(driver.state, trader, None, 1)) == 1
