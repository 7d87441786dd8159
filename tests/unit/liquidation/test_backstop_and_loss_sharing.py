"""Crashes: the insurance fund backstops a thin book; an exhausted fund leads to ADL and a lend-index cut."""

from __future__ import annotations

from dataclasses import replace

from engine_driver import Driver

from crossmargin.app.codec import decode_command, decode_state, encode_command, encode_state
from crossmargin.core.backstop import net_lend_and_debt
from crossmargin.core.commands import Liquidate
from crossmargin.core.events import Backstopped, BorrowLendSource, LiquidationFinished
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.numbers import RAY
from crossmargin.core.orders import SystemOrderType
from crossmargin.core.rejections import RejectReason
from crossmargin.core.transaction import Transaction

from .test_liquidation_perps import long_btc_perp


def _btc_backed_borrower(driver: Driver) -> tuple[SubaccountId, SubaccountId]:
    lender = driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    return lender, trader


def _flat(driver: Driver, sub: SubaccountId) -> bool:
    return not driver.state.held.get(sub) and not [key for key in driver.state.perp_positions if key[0] == sub]


def test_a_thin_book_hands_the_account_to_the_fund_at_its_bankruptcy_price(driver: Driver) -> None:
    _, trader = _btc_backed_borrower(driver)
    driver.deposit(INSURANCE_FUND_ID, "USDC", "10000")
    driver.prices(BTC="56000")
    equity = driver.margin(trader).net_equity_wad
    assert equity > 0
    events = driver.accept(Liquidate(trader))
    (taken,) = [event for event in events if isinstance(event, Backstopped)]
    assert taken.net_equity_wad == equity
    assert [(row.symbol, row.spot_atoms, row.debt_atoms) for row in taken.holdings] == [
        ("BTC", 100_000_000, 0),
        ("USDC", 0, 48_000_197_261),
    ]
    assert isinstance(events[-1], LiquidationFinished)
    assert events[-1].backstopped
    assert _flat(driver, trader)
    assert driver.holding(INSURANCE_FUND_ID, "BTC").spot_atoms == 100_000_000
    assert driver.holding(INSURANCE_FUND_ID, "USDC").debt_atoms == 48_000_197_261
    sources = {move.source for move in driver.state.movements if move.at_ms == driver.now_ms}
    assert {BorrowLendSource.LIQUIDATION_BACKSTOP, BorrowLendSource.BACKSTOP_PROVIDER} <= sources
    assert not driver.state.lend_index_cuts
    # A second takeover adds to the fund's debt.
    driver.prices(BTC="60000")
    _, second = _btc_backed_borrower(driver)
    driver.prices(BTC="56000")
    driver.accept(Liquidate(second))
    assert driver.holding(INSURANCE_FUND_ID, "BTC").spot_atoms == 200_000_000


def test_a_larger_crash_exhausts_the_fund_and_lenders_bear_the_rest(driver: Driver) -> None:
    lender, trader = _btc_backed_borrower(driver)
    driver.deposit(INSURANCE_FUND_ID, "USDC", "1000")
    claim_before = driver.holding(lender, "USDC").lend_atoms
    driver.prices(BTC="40000")
    driver.accept(Liquidate(trader))
    (cut,) = driver.state.lend_index_cuts
    # The fund holds 1000 USDC and 1 BTC (40,000) against 48,000.197261 owed: 7,000.197261 short.
    assert driver.text("USDC", cut.debt_forgiven_atoms) == "7000.197261"
    assert cut.loss_atoms == cut.debt_forgiven_atoms
    assert cut.lend_index_after_ray < cut.lend_index_before_ray
    assert driver.state.pools["USDC"].lend_index_ray == cut.lend_index_after_ray < RAY
    assert claim_before - driver.holding(lender, "USDC").lend_atoms == cut.loss_atoms
    assert driver.holding(INSURANCE_FUND_ID, "USDC").debt_atoms == 41_000_000_000
    assert fund_value_wad(Transaction(driver.state, driver.now_ms)) == 0
    assert _flat(driver, trader)


def test_a_perp_crash_deleverages_the_profitable_short(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.settings(trader, auto_borrow_settlements=False)
    (seller,) = [owner for owner, _ in driver.state.perp_positions if owner != trader]
    driver.prices(BTC="50000")
    driver.tick(20_000)
    assert driver.holding(trader, "USDC").spot_atoms < 0
    driver.accept(Liquidate(trader))
    assert _flat(driver, trader)
    (adl,) = driver.state.auto_deleverages
    assert adl.counterparty_subaccount_id == seller
    assert driver.text("BTC", adl.quantity_atoms) == "1"
    assert adl.loss_atoms > 0
    for owner in (INSURANCE_FUND_ID, seller):
        position = driver.perp(owner, "BTC_USDC_PERP")
        assert position is not None
        assert position.quantity_atoms == 0
    fill = driver.state.fills[-1]
    assert fill.system_order_type is SystemOrderType.LIQUIDATE_POSITION_ON_ADL
    assert fill.maker_subaccount_id == seller
    fund_borrow = [m for m in driver.state.movements if m.subaccount_id == INSURANCE_FUND_ID]
    assert [m.source for m in fund_borrow] == [BorrowLendSource.BACKSTOP_PROVIDER]
    assert fund_value_wad(Transaction(driver.state, driver.now_ms)) >= 0
    driver.tick(40_000)
    assert driver.perp(INSURANCE_FUND_ID, "BTC_USDC_PERP") is None
    assert driver.perp(seller, "BTC_USDC_PERP") is None
    assert driver.holding(INSURANCE_FUND_ID, "USDC").spot_atoms == adl.loss_atoms


def test_a_perp_with_no_bid_in_the_band_goes_to_the_fund_whole(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.prices(BTC="54250")
    equity = driver.margin(trader).net_equity_wad
    assert equity > 0
    driver.accept(Liquidate(trader))
    (taken,) = driver.state.backstops
    (perp,) = taken.perps
    assert (perp.market, driver.text("BTC", perp.quantity_atoms)) == ("BTC_USDC_PERP", "1")
    fund = driver.perp(INSURANCE_FUND_ID, "BTC_USDC_PERP")
    assert fund is not None
    assert driver.text("BTC", fund.quantity_atoms) == "1"
    assert not driver.state.auto_deleverages
    assert driver.state.open_interest_atoms["BTC_USDC_PERP"] == fund.quantity_atoms
    driver.tick(20_000)


def test_adl_stops_once_the_deficit_is_covered(driver: Driver) -> None:
    driver.lender(USDC="1000000")
    shorts = []
    for _ in range(2):
        seller = driver.account()
        driver.deposit(seller, "USDC", "100000")
        driver.place(seller, "BTC_USDC_PERP", "sell", "0.5", "60000")
        shorts.append(seller)
    trader = driver.account()
    driver.deposit(trader, "USDC", "6100")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    driver.prices(BTC="50000")
    driver.accept(Liquidate(trader))
    (adl,) = driver.state.auto_deleverages
    assert adl.counterparty_subaccount_id == shorts[0]  # equal PnL ratios: the lower id first
    assert driver.text("BTC", adl.quantity_atoms) == "0.5"
    fund = driver.perp(INSURANCE_FUND_ID, "BTC_USDC_PERP")
    assert fund is not None
    assert driver.text("BTC", fund.quantity_atoms) == "0.5"
    assert fund_value_wad(Transaction(driver.state, driver.now_ms)) >= 0


def test_netting_a_lend_against_a_debt_burns_claims_against_debt(driver: Driver) -> None:
    lender = driver.lender(USDC="10000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "3000")
    lend_scaled = driver.state.positions[(lender, "USDC")].lend_scaled
    debt_scaled = driver.state.positions[(borrower, "USDC")].debt_scaled
    for lend_part, debt_part in ((lend_scaled, debt_scaled), (lend_scaled // 10, debt_scaled)):
        tx = Transaction(driver.state, driver.now_ms)
        pool = tx.pool("USDC")
        lend_left, debt_left = net_lend_and_debt(tx, "USDC", lend_part, debt_part)
        after = tx.pool("USDC")
        assert (lend_left == 0) != (debt_left == 0)
        assert after.lend_scaled_total == pool.lend_scaled_total - (lend_part - lend_left)
        assert after.debt_scaled_total == pool.debt_scaled_total - (debt_part - debt_left)
        assert after.borrowed_atoms <= after.lent_atoms
    assert net_lend_and_debt(Transaction(driver.state, 0), "USDC", lend_scaled, 0) == (lend_scaled, 0)


def test_liquidation_state_and_command_survive_the_journal_codec(driver: Driver) -> None:
    _, trader = _btc_backed_borrower(driver)
    driver.prices(BTC="40000")
    assert decode_command(encode_command(Liquidate(trader))) == Liquidate(trader)
    driver.accept(Liquidate(trader))
    driver.state.subaccounts[trader] = replace(driver.state.subaccounts[trader], liquidating=True)
    restored = decode_state(encode_state(driver.state))
    assert restored == driver.state
    assert restored.lend_index_cuts == driver.state.lend_index_cuts
    assert restored.backstops == driver.state.backstops
    driver.state.subaccounts[trader] = replace(driver.state.subaccounts[trader], liquidating=False)


def test_a_fund_that_falls_below_zero_after_a_takeover_shares_its_loss(driver: Driver) -> None:
    # The fund takes over a whole 1 BTC long with positive equity; BTC then keeps falling, so the
    # fund's value goes below zero long after the backstop. `Liquidate` on the fund shares it.
    trader = long_btc_perp(driver)
    driver.prices(BTC="54250")
    driver.accept(Liquidate(trader))
    refusal = driver.refuse(Liquidate(INSURANCE_FUND_ID), RejectReason.NOT_LIQUIDATABLE)
    assert "no loss to share" in refusal.message
    (seller,) = [owner for owner, _ in driver.state.perp_positions if owner not in (trader, INSURANCE_FUND_ID)]
    driver.prices(BTC="40000")
    driver.tick(driver.now_ms + 20_000)
    assert fund_value_wad(Transaction(driver.state, driver.now_ms)) < 0
    driver.accept(Liquidate(INSURANCE_FUND_ID))
    (adl,) = driver.state.auto_deleverages
    assert adl.counterparty_subaccount_id == seller
    assert fund_value_wad(Transaction(driver.state, driver.now_ms)) >= 0
