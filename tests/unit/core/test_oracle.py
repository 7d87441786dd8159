"""Oracle guards: a stale price opens no new risk, and a jump beyond the band needs force."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.commands import BorrowLendSide, ConfigureOracle, Deposit, Liquidate, SetMarkPrices, UpdateSettings
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.oracle import StalePrice, describe_stale_prices, stale_prices
from crossmargin.core.orders import OrderFlags
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

START_MS = 1_000_000
MINUTE_MS = 60_000


def _market() -> Driver:
    driver = Driver().at(START_MS)
    driver.accept(ConfigureOracle(price_max_age_ms=MINUTE_MS, price_jump_band=Ratio.parse("0.5")))
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000", BTC="10")
    driver.maker("BTC_USDC_PERP", "60000", "5", "2")
    driver.maker("BTC_USDC", "60000", "5", "2")
    return driver


def _btc_holder(driver: Driver) -> SubaccountId:
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.deposit(trader, "USDC", "1000")
    driver.borrow(trader, "USDC", "100")
    return trader


def test_a_price_jump_beyond_the_band_is_refused_unless_forced() -> None:
    driver = _market()
    rejection = driver.refuse(SetMarkPrices((("BTC", 20_000 * WAD),)), RejectReason.PRICE_JUMP_BEYOND_BAND)
    assert "BTC would move from 60000 to 20000" in rejection.message
    assert "50% band" in rejection.message
    assert "force" in rejection.message
    driver.refuse(SetMarkPrices((("BTC", 90_001 * WAD),)), RejectReason.PRICE_JUMP_BEYOND_BAND)
    driver.prices(BTC="35000")  # -41.67%: within the band
    driver.accept(SetMarkPrices((("BTC", 10_000 * WAD),), force=True))
    assert driver.state.mark_prices_wad["BTC"] == 10_000 * WAD


def test_the_first_price_of_an_asset_is_never_a_jump() -> None:
    driver = Driver()
    driver.accept(ConfigureOracle(price_jump_band=Ratio.parse("0.01")))
    driver.prices(BTC="60000")


def test_a_stale_price_refuses_borrows_withdrawals_and_transfers_against_it() -> None:
    driver = _market()
    trader = _btc_holder(driver)
    sibling = driver.subaccount(trader)
    driver.at(START_MS + MINUTE_MS + 1)
    driver.prices(USDC="1")  # USDC is fresh again; BTC is not
    (stale,) = [found for found in stale_prices(Transaction(driver.state, driver.now_ms)) if found.symbol == "BTC"]
    assert stale.age_ms == MINUTE_MS + 1
    rejection = driver.refuse(driver.borrow_lend(trader, "USDC", BorrowLendSide.BORROW, "1"), RejectReason.PRICE_STALE)
    assert "BTC (60 s old)" in rejection.message
    assert "older than the 60 s allowed" in rejection.message
    driver.refuse(driver.withdraw(trader, "USDC", "1"), RejectReason.PRICE_STALE)
    assert driver.max_borrowable(trader, "USDC") == 0, "the max a borrow preview shows agrees"
    assert driver.max_withdrawal(trader, "USDC") == 0
    driver.refuse(driver.transfer(trader, sibling, "USDC", "1"), RejectReason.PRICE_STALE)
    # What lowers risk stays open: deposits, repays, settings.
    driver.accept(Deposit(trader, "USDC", driver.atoms("USDC", "10")))
    driver.accept(driver.borrow_lend(trader, "USDC", BorrowLendSide.LEND, "50"))
    driver.accept(UpdateSettings(trader, leverage_limit=Ratio.parse("5")))
    driver.prices(BTC="60000")
    driver.borrow(trader, "USDC", "1")


def test_a_subaccount_that_does_not_rely_on_the_stale_price_is_not_held_back() -> None:
    driver = _market()
    saver = driver.account()
    driver.deposit(saver, "USDC", "1000")
    driver.at(START_MS + MINUTE_MS + 1)
    driver.prices(USDC="1")
    driver.accept(driver.withdraw(saver, "USDC", "10"))


def test_orders_on_a_stale_market_only_reduce_exposure() -> None:
    driver = _market()
    trader = driver.account()
    driver.deposit(trader, "USDC", "100000")
    driver.deposit(trader, "BTC", "1")
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    driver.at(START_MS + MINUTE_MS + 1)
    driver.prices(USDC="1")
    rejection = driver.refuse(driver.order(trader, "BTC_USDC_PERP", "buy", "0.1"), RejectReason.PRICE_STALE)
    assert "BTC_USDC_PERP takes only orders that reduce exposure" in rejection.message
    driver.refuse(driver.order(trader, "BTC_USDC", "buy", "0.1", "59000"), RejectReason.PRICE_STALE)
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "sell", "0.05", flags=OrderFlags(reduce_only=True)))
    driver.accept(driver.order(trader, "BTC_USDC_PERP", "sell", "0.05"))  # closes the rest: reduces
    driver.accept(driver.order(trader, "BTC_USDC", "sell", "0.1", "61000"))  # sells the stale asset


def test_liquidation_goes_on_while_a_price_is_stale() -> None:
    driver = _market()
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    most = driver.max_withdrawal(borrower, "USDC", auto_borrow=True)
    driver.accept(driver.withdraw(borrower, "USDC", driver.text("USDC", most), auto_borrow=True))
    price = 60_000
    while not driver.margin(borrower).is_liquidatable:
        price -= 500
        driver.prices(BTC=str(price))
    driver.requote("BTC_USDC", str(price))
    driver.at(START_MS + MINUTE_MS + 1)
    assert any(found.symbol == "BTC" for found in stale_prices(Transaction(driver.state, driver.now_ms)))
    driver.accept(Liquidate(borrower))
    assert driver.state.liquidation_steps


def test_prices_without_a_recorded_time_count_from_when_the_guard_was_configured() -> None:
    driver = Driver().at(START_MS)
    driver.prices(USDC="1", BTC="60000")
    driver.state.price_updated_ms.clear()  # a state from before prices had recorded times
    driver.at(START_MS + 10 * MINUTE_MS).accept(ConfigureOracle(price_max_age_ms=MINUTE_MS))
    assert stale_prices(Transaction(driver.state, driver.now_ms)) == []
    driver.at(START_MS + 11 * MINUTE_MS + 1)
    assert [found.symbol for found in stale_prices(Transaction(driver.state, driver.now_ms))] == ["BTC", "USDC"]


def test_the_guards_are_off_until_configured_and_refuse_nonsense_settings() -> None:
    driver = Driver().at(START_MS)
    driver.prices(USDC="1", BTC="60000")
    driver.at(START_MS + 365 * 24 * 60 * MINUTE_MS)
    assert stale_prices(Transaction(driver.state, driver.now_ms)) == []
    driver.accept(SetMarkPrices((("BTC", 1 * WAD),)))
    driver.refuse(ConfigureOracle(price_max_age_ms=0), RejectReason.PRICE_MUST_BE_POSITIVE)
    driver.refuse(ConfigureOracle(price_jump_band=Ratio(0)), RejectReason.PRICE_MUST_BE_POSITIVE)


def test_the_stale_prices_are_described_with_their_age_and_the_limit() -> None:
    found = [StalePrice("BTC", 75_500), StalePrice("ETH", 61_000)]
    text = describe_stale_prices(found, MINUTE_MS)
    assert text.startswith("Stale index prices: BTC (75 s old), ETH (61 s old); more than 60 s allowed.")
    assert "reducing and repaying stay open" in text
