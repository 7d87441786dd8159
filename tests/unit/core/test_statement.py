"""Statements reconcile to the atom: every movement shows, rounding where it happens (INV-STATEMENT-1).

Each test replays a finding of issue 12 measured on main with independent Decimal arithmetic, and
checks that the history rows now add up exactly to what the subaccount holds.
"""

from __future__ import annotations

from dataclasses import replace

from engine_driver import HOUR_MS, Driver

from crossmargin.core.audit import audit
from crossmargin.core.commands import BorrowLendSide, Liquidate
from crossmargin.core.events import SettlementSource, settled_rows
from crossmargin.core.history import InterestKind, compute_interest_history
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.statement import StatementKind, holding_total, statement_rows


def _adds_up(driver: Driver, sub: SubaccountId, symbol: str) -> int:
    """Assert the subaccount's rows in `symbol` add up to what it holds; return that total."""
    rows = [row for row in statement_rows(driver.state, sub) if row.symbol == symbol]
    total = holding_total(driver.state, sub, symbol)
    assert sum(row.change_atoms for row in rows) == total, f"INV-STATEMENT-1: {sub} {symbol}"
    return total


def _statement_holds(driver: Driver) -> None:
    (check,) = [check for check in audit(driver.state) if check.invariant == "INV-STATEMENT-1"]
    assert check.ok, check.detail


def test_a_lender_sees_its_share_of_another_users_entry_fee() -> None:
    # On main: an ETH lend grew by 0.0004239 when someone else borrowed, with no row for it.
    driver = Driver().at(HOUR_MS // 2)
    driver.prices(USDC="1", ETH="3000", BTC="60000")
    lender = driver.lender(ETH="1000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "100")
    driver.borrow(borrower, "ETH", "800")
    (share,) = compute_interest_history(driver.state, lender)
    assert share.kind is InterestKind.ENTRY_FEE
    assert share.quantity_atoms > 0
    lent = driver.holding(lender, "ETH").lend_atoms
    assert share.change_atoms == lent - driver.atoms("ETH", "1000")
    driver.tick(HOUR_MS // 2 + 3 * HOUR_MS)
    rows = compute_interest_history(driver.state, lender)
    assert [row.kind for row in rows].count(InterestKind.LEND) == 3
    gained = driver.holding(lender, "ETH").lend_atoms - driver.atoms("ETH", "1000")
    assert sum(row.change_atoms for row in rows) == gained, "3 hours of rows add up to the real gain"
    _statement_holds(driver)


def test_lending_shows_the_atom_that_goes_to_rounding() -> None:
    # On main: lending 1,000 USDC gave a position of 999.999999 and cumulative interest of -0.000001.
    driver = Driver().at(0)
    driver.prices(USDC="1", BTC="60000")
    driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.borrow(borrower, "USDC", "30000")
    driver.tick(5 * HOUR_MS)  # the lend index is no longer 1: new lends round
    lender = driver.account()
    driver.deposit(lender, "USDC", "1000")
    driver.lend(lender, "USDC", "1000")
    (lend,) = [row for row in statement_rows(driver.state, lender) if row.kind is StatementKind.BORROW_LEND]
    assert lend.balance_change_atoms == -driver.atoms("USDC", "1000")
    assert lend.position_change_atoms == driver.holding(lender, "USDC").lend_atoms
    assert lend.change_atoms < 0, "the atom the pool's rounding kept shows in the row where it went"
    assert _adds_up(driver, lender, "USDC") == driver.holding(lender, "USDC").lend_atoms


def test_ten_partial_repays_show_every_atom_of_rounding() -> None:
    # On main: ten partial repays left 4 atoms of debt that no row explained.
    driver = Driver().at(HOUR_MS // 3)
    driver.prices(USDC="1", BTC="60000")
    driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.deposit(borrower, "USDC", "100")
    driver.borrow(borrower, "USDC", "10000")
    driver.tick(HOUR_MS * 7 + 123)
    for _ in range(10):
        driver.accept(driver.borrow_lend(borrower, "USDC", BorrowLendSide.LEND, "999.999999"))
    total = _adds_up(driver, borrower, "USDC")
    assert total == driver.holding(borrower, "USDC").spot_atoms - driver.holding(borrower, "USDC").debt_atoms
    _statement_holds(driver)


def test_lend_redeem_lend_across_hours_adds_up() -> None:
    # On main: after lend, partial redeem, lend with hours between, the rows summed 109 atoms short.
    driver = Driver().at(0)
    driver.prices(USDC="1", BTC="60000")
    driver.lender(USDC="50000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "2")
    driver.borrow(borrower, "USDC", "40000")
    lender = driver.account()
    driver.deposit(lender, "USDC", "10000")
    driver.lend(lender, "USDC", "7000")
    driver.tick(3 * HOUR_MS + 17)
    driver.accept(driver.borrow_lend(lender, "USDC", BorrowLendSide.BORROW, "2500.123457"))
    driver.tick(8 * HOUR_MS + 5)
    driver.lend(lender, "USDC", "4000")
    driver.tick(20 * HOUR_MS)
    _adds_up(driver, lender, "USDC")
    _statement_holds(driver)


def test_a_liquidation_fee_shows_in_the_fill_and_the_statement() -> None:
    # On main: the fills of a liquidation showed only the 0.1% taker fee; the 1% showed nowhere.
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
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
    step = driver.state.liquidation_steps[0]
    fills = [fill for fill in driver.state.fills if fill.taker_order_id == step.order_id]
    assert sum(fill.liquidation_fee_atoms for fill in fills) == step.fee_atoms > 0
    paid = sum(fill.fee_atoms(maker=False) for fill in fills)
    assert paid == sum(fill.taker_fee_atoms for fill in fills) + step.fee_atoms, "the fill's fee has both"
    fund_rows = [row for row in statement_rows(driver.state, INSURANCE_FUND_ID) if row.symbol == "USDC"]
    assert {row.kind for row in fund_rows} == {StatementKind.LIQUIDATION_FEE}
    assert sum(row.change_atoms for row in fund_rows) == sum(s.fee_atoms for s in driver.state.liquidation_steps)
    _adds_up(driver, trader, "USDC")
    _adds_up(driver, trader, "BTC")
    _statement_holds(driver)


def test_a_perp_liquidation_fee_settles_as_a_system_trading_fee() -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    driver.maker("BTC_USDC_PERP", "60000", "5", "10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "6100")
    driver.place(trader, "BTC_USDC_PERP", "buy", "1")
    driver.prices(BTC="54220")
    driver.requote("BTC_USDC_PERP", "54220")
    driver.accept(Liquidate(trader))
    fee = sum(step.fee_atoms for step in driver.state.liquidation_steps if step.subaccount_id == trader)
    assert fee > 0
    driver.tick(driver.now_ms + 10_000)
    system = [
        row
        for row in settled_rows(driver.state.settlements)
        if row.subaccount_id == trader and row.source is SettlementSource.TRADING_FEES_SYSTEM
    ]
    assert -sum(row.quantity_atoms for row in system) == fee
    _adds_up(driver, trader, "USDC")
    _adds_up(driver, INSURANCE_FUND_ID, "USDC")
    _statement_holds(driver)


def test_a_backstop_takeover_shows_one_row_per_asset_on_both_sides() -> None:
    # On main: after a takeover the user's 1 BTC disappeared with no row saying where it went.
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.deposit(INSURANCE_FUND_ID, "USDC", "10000")
    driver.prices(BTC="56000")
    driver.accept(Liquidate(trader))
    assert driver.state.backstops
    taken = [row for row in statement_rows(driver.state, trader) if row.kind is StatementKind.LIQUIDATION_BACKSTOP]
    assert [(row.symbol, row.change_atoms) for row in taken] == [("BTC", -driver.atoms("BTC", "1"))]
    moved = [row for row in statement_rows(driver.state, trader) if "LiquidationBackstop" in row.cause]
    assert [row.symbol for row in moved] == ["USDC"], "the debt left as a backstop movement"
    for symbol in ("BTC", "USDC"):
        assert _adds_up(driver, trader, symbol) == 0
        _adds_up(driver, INSURANCE_FUND_ID, symbol)
    _statement_holds(driver)
    everyone = [replace(row, order=(0, 0)) for row in statement_rows(driver.state)]  # interest rows number apart
    for sub in (trader, INSURANCE_FUND_ID, driver.account()):  # a bystander's passes over the takeover
        mine = [replace(row, order=(0, 0)) for row in statement_rows(driver.state, sub)]
        assert mine == [row for row in everyone if row.subaccount_id == sub]


def test_an_auto_lend_perp_trader_sees_every_settlement_atom() -> None:
    # On main: an auto-lend perp trader lost 51 atoms over 100 settlements that no row explained.
    driver = Driver().at(0)
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "10")
    driver.borrow(borrower, "USDC", "300000")  # the lend index moves every hour
    driver.maker("BTC_USDC_PERP", "60000", "5", "10")
    trader = driver.account()
    driver.deposit(trader, "USDC", "10000")
    driver.settings(trader, auto_lend=True)
    driver.place(trader, "BTC_USDC_PERP", "buy", "0.1")
    for step in range(100):
        price = 60_000 + (step % 7 - 3) * 37
        driver.at(driver.now_ms + 10_000).prices(BTC=str(price))
        driver.requote("BTC_USDC_PERP", str(price))
    driver.tick(driver.now_ms + 10_000)
    assert len([row for row in settled_rows(driver.state.settlements) if row.subaccount_id == trader]) > 100
    _adds_up(driver, trader, "USDC")
    _statement_holds(driver)


def test_rows_of_one_millisecond_are_listed_in_the_order_they_happened() -> None:
    # A withdrawal with auto-borrow: the borrow that funds it comes first, then the withdrawal.
    driver = Driver()
    driver.prices(USDC="1", BTC="60000")
    driver.lender(USDC="100000")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "1")
    driver.deposit(borrower, "USDC", "100")
    driver.accept(driver.withdraw(borrower, "USDC", "1000", auto_borrow=True))
    driver.deposit(borrower, "USDC", "50")
    driver.accept(driver.borrow_lend(borrower, "USDC", BorrowLendSide.LEND, "50"))
    kinds = [(row.kind, row.cause) for row in statement_rows(driver.state, borrower) if row.symbol == "USDC"]
    assert kinds == [
        (StatementKind.DEPOSIT, "Deposit"),
        (StatementKind.BORROW_LEND, "Borrow (Withdrawal)"),
        (StatementKind.INTEREST, "EntryFee"),
        (StatementKind.WITHDRAWAL, "Withdrawal"),
        (StatementKind.DEPOSIT, "Deposit"),
        (StatementKind.BORROW_LEND, "BorrowRepay (Manual)"),
    ]


def test_a_lend_too_small_to_gain_an_atom_of_an_entry_fee_gets_no_row() -> None:
    driver = Driver().at(HOUR_MS // 2)
    driver.prices(USDC="1", ETH="3000", BTC="60000")
    driver.lender(ETH="1000")
    tiny = driver.account()
    driver.deposit(tiny, "ETH", "0.00000001")
    driver.lend(tiny, "ETH", "0.00000001")
    borrower = driver.account()
    driver.deposit(borrower, "BTC", "100")
    driver.borrow(borrower, "ETH", "1")
    assert driver.holding(tiny, "ETH").lend_atoms == driver.atoms("ETH", "0.00000001"), "its share rounds to nothing"
    assert compute_interest_history(driver.state, tiny) == []
    _statement_holds(driver)
