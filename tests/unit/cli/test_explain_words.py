"""`crossmargin explain borrows` puts each borrow's cause in words a person can act on."""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.api.views.explain import view_borrow_explanations
from crossmargin.cli.explain import explain_in_words
from crossmargin.core.orders import OrderFlags

SECOND_MS = 1_000


def _market(driver: Driver) -> None:
    driver.prices(BTC="65000", USDC="1", USDT="1", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    driver.maker("BTC_USDC_PERP", "65000", "5", "2")
    driver.maker("USDT_USDC", "1", "0.0001", "100000")
    driver.maker("BTC_USDC", "65000", "10", "2")


def test_the_brief_s_settlement_borrow_reads_as_the_brief_says() -> None:
    driver = Driver().at(HOUR_MS + 50 * 60 * SECOND_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "USDT", "10000")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(driver.now_ms + 2 * SECOND_MS).prices(BTC="64000")
    driver.requote("BTC_USDC_PERP", "64000")
    driver.tick(driver.now_ms + 20 * SECOND_MS)
    (row,) = view_borrow_explanations(driver.state, trader, "USDC", 10)
    fee = row["entryFee"]
    assert explain_in_words(row) == (
        "At 1970-01-01 01:50:10 UTC the 10-second settlement of BTC_USDC_PERP realized -100.5 USDC of PnL and "
        "-3.25025 USDC of trading fees; your USDC balance was 103.75025 short; auto-borrow of settlements is on, "
        f"so 103.75025 USDC was borrowed (entry fee {fee} USDC). Turn off autoBorrowSettlements "
        "(`crossmargin account set --auto-borrow-settlements off`) to have other collateral converted instead."
    )


def test_a_redeemed_lend_is_named_before_the_borrow() -> None:
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
    (row,) = view_borrow_explanations(driver.state, trader, "USDC", 10)
    words = explain_in_words(row)
    assert "your USDC balance was 103.75025 short; your USDC lend covered 1 USDC of it first;" in words
    assert "so 102.75025 USDC was borrowed" in words


def test_an_order_with_auto_borrow_is_named_by_id_market_side_and_price() -> None:
    driver = Driver().at(HOUR_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    order = driver.place(trader, "BTC_USDC", "buy", "0.01", "65000", flags=OrderFlags(auto_borrow=True))
    (row,) = view_borrow_explanations(driver.state, trader, None, 10)
    words = explain_in_words(row)
    assert words.startswith(
        f"At 1970-01-01 01:00:00 UTC your order {order.order_id} on BTC_USDC (buy 0.01 at 65000) "
        "was placed with autoBorrow and the balance lacked USDC, so 650 USDC was borrowed"
    )
    assert "without --auto-borrow" in words


def test_a_manual_borrow_says_you_asked_for_it() -> None:
    driver = Driver().at(HOUR_MS + 30 * 60 * SECOND_MS)
    _market(driver)
    trader = driver.account()
    driver.deposit(trader, "USDT", "1000")
    driver.borrow(trader, "USDC", "100")
    (row,) = view_borrow_explanations(driver.state, trader, "USDC", 10)
    words = explain_in_words(row)
    assert words.startswith("At 1970-01-01 01:30:00 UTC you borrowed 100 USDC yourself")
    assert f"(entry fee {row['entryFee']} USDC)" in words


def test_other_sources_and_missing_records_still_read_as_a_sentence() -> None:
    base = {"timestamp": "2026-11-24T00:00:20", "symbol": "USDC", "quantity": "5", "entryFee": "0"}
    assert explain_in_words({**base, "source": "Withdrawal"}) == (
        "At 2026-11-24 00:00:20 UTC a withdrawal with autoBorrow lacked USDC, so 5 USDC was borrowed."
    )
    assert explain_in_words({**base, "source": "Liquidation"}).endswith("a liquidation borrowed 5 USDC.")
    assert "(source AutoLend)" in explain_in_words({**base, "source": "AutoLend"})
    assert explain_in_words({**base, "source": "Reconciliation", "settlements": [], "shortfall": None}) == (
        "At 2026-11-24 00:00:20 UTC the 10-second settlement of your perp positions; 5 USDC was borrowed to cover it."
    )
    converted = {
        **base,
        "source": "Reconciliation",
        "settlements": [{"symbol": "ETH_USDC_PERP", "source": "FundingPayment", "quantity": "-7"}],
        "shortfall": {
            "short": "7",
            "redeemedLend": "0",
            "converted": [{"symbol": "USDT", "quantity": "2", "proceeds": "1.9992"}],
            "uncovered": "0",
            "autoBorrowSettlements": False,
        },
    }
    assert "realized -7 USDC of funding" in explain_in_words(converted)
    assert "collateral was converted on the book (2 USDT for 1.9992 USDC)" in explain_in_words(converted)
