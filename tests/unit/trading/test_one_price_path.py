"""One price path: a price move re-marks every perp in the same command, so nothing is valued stale.

Found on main: a trader with 10,000 USDC buys 1 BTC perp at 60,030; the operator moves BTC from
60,000 to 52,000; the perp mark stayed at 59,970 (the book's stale bid) until the next 10-second
settlement, and in that window a withdrawal of 3,882.92 USDC was accepted: at the real price the
account's equity was then -1,942.93, and the insurance fund took the loss at the settlement.
"""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver

from crossmargin.core.events import PerpMarksSet
from crossmargin.core.ids import SubaccountId
from crossmargin.core.marks import MARK_PREMIUM_BAND, compute_perp_mark
from crossmargin.core.numbers import WAD
from crossmargin.core.rejections import RejectReason

PERP = "BTC_USDC_PERP"


def _long_one_btc(driver: Driver) -> SubaccountId:
    driver.prices(BTC="60000", USDC="1", USDT="1", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    driver.maker(PERP, "60000", "30", "5")
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    driver.place(trader, PERP, "buy", "1")
    return trader


def test_a_withdrawal_right_after_a_price_fall_is_valued_at_the_new_mark() -> None:
    driver = Driver().at(HOUR_MS)
    trader = _long_one_btc(driver)
    driver.at(HOUR_MS + 1_000).prices(BTC="52000")
    # The maker has not requoted: its bid of 59,970 may hold the mark only within the band.
    assert driver.state.perp_marks_wad[PERP] == 52_260 * WAD
    driver.refuse(driver.withdraw(trader, "USDC", "3882.92"), RejectReason.MARGIN_INSUFFICIENT)
    assert driver.margin(trader).net_equity_wad < 2_300 * WAD


def test_the_requote_that_follows_re_marks_the_perp_in_its_own_command() -> None:
    driver = Driver().at(HOUR_MS)
    _long_one_btc(driver)
    driver.at(HOUR_MS + 1_000).prices(BTC="52000")
    driver.requote(PERP, "52000")
    assert driver.state.perp_marks_wad[PERP] == 52_000 * WAD


def test_a_book_change_alone_re_marks_and_schedules_the_settlement_of_the_new_pnl() -> None:
    driver = Driver().at(HOUR_MS)
    _long_one_btc(driver)
    driver.tick(HOUR_MS + 10_000)
    assert driver.state.settlement_due_ms is None
    sub, _, _ = driver.makers[PERP]
    events = driver.accept(driver.order(sub, PERP, "buy", "1", "60010"))
    assert driver.state.perp_marks_wad[PERP] == 60_010 * WAD
    assert driver.state.settlement_due_ms == HOUR_MS + 20_000
    assert [event.marks_wad for event in events if isinstance(event, PerpMarksSet)] == [((PERP, 60_010 * WAD),)]


def test_the_mark_is_the_median_of_index_and_best_prices_held_within_the_band() -> None:
    index = 100 * WAD
    band = MARK_PREMIUM_BAND.wad
    assert compute_perp_mark(index, None, 101 * WAD) == index
    assert compute_perp_mark(index, 99 * WAD, None) == index
    assert compute_perp_mark(index, 99 * WAD, 101 * WAD) == index
    assert compute_perp_mark(index, 100 * WAD + WAD // 10, 101 * WAD) == 100 * WAD + WAD // 10
    assert compute_perp_mark(index, 120 * WAD, 121 * WAD) == index + index * band // WAD
    assert compute_perp_mark(index, 79 * WAD, 80 * WAD) == index - index * band // WAD
