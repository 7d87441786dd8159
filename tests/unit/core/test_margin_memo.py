"""The margin lines' memo never changes a result: after any command, every subaccount's margin equals a fresh one.

`compute_subaccount_margin` reuses the line it computed last for an asset or a perp market when
that line's inputs are unchanged (`EngineState.margin_lines`, `perp_margin_lines`). Here random
commands (deposits, borrows, lends, withdrawals, transfers, spot and perp orders, price moves and
hours of interest) run through the engine; after each, every subaccount's summary read with the
memos the commands left is compared with one computed with empty memos.
"""

from __future__ import annotations

from engine_driver import HOUR_MS, Driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossmargin.core.commands import BorrowLendSide, Command, CreateAccount, Deposit, SetMarkPrices, Tick
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.margin import compute_subaccount_margin
from crossmargin.core.numbers import WAD
from crossmargin.core.transaction import Transaction

PERP = "BTC_USDC_PERP"
KINDS = ("deposit", "borrow", "lend", "withdraw", "transfer", "perp", "spot", "price", "time", "account")


def _command(driver: Driver, subs: list[SubaccountId], data: st.DataObject) -> Command:  # noqa: PLR0911
    kind = data.draw(st.sampled_from(KINDS))
    sub, other = data.draw(st.sampled_from(subs)), data.draw(st.sampled_from(subs))
    symbol = data.draw(st.sampled_from(["USDC", "BTC", "ETH"]))
    amount = data.draw(st.sampled_from(["0.01", "0.5", "3", "250"]))
    side = data.draw(st.sampled_from(["buy", "sell"]))
    if kind == "deposit":
        return Deposit(sub, symbol, driver.atoms(symbol, amount))
    if kind in {"borrow", "lend"}:
        return driver.borrow_lend(sub, symbol, BorrowLendSide(kind.capitalize()), amount)
    if kind == "withdraw":
        return driver.withdraw(sub, symbol, amount, auto_borrow=data.draw(st.booleans()))
    if kind == "transfer":
        return driver.transfer(sub, other, symbol, amount)
    if kind == "perp":
        return driver.order(sub, PERP, side, data.draw(st.sampled_from(["0.001", "0.05"])))
    if kind == "spot":
        return driver.order(sub, "BTC_USDC", side, "0.01", data.draw(st.sampled_from(["59000", "60010"])))
    if kind == "price":
        price = data.draw(st.sampled_from([40_000, 55_000, 60_000, 66_000]))
        return SetMarkPrices((("BTC", price * WAD), ("ETH", price * WAD // 20)))
    if kind == "account":
        return CreateAccount()
    driver.now_ms += data.draw(st.sampled_from([1_000, 10_000, HOUR_MS]))
    return Tick()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_a_memoized_margin_equals_a_fresh_one_after_any_command(data: st.DataObject) -> None:
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000", BTC="100", ETH="1000")
    driver.maker(PERP, "60000", "5", "2")
    driver.maker("BTC_USDC", "60000", "5", "2")
    subs = [driver.account() for _ in range(3)]
    for sub in subs:
        driver.deposit(sub, "BTC", "1")
    for _ in range(data.draw(st.integers(5, 25))):
        result = execute(driver.state, _command(driver, subs, data), driver.now_ms)
        if not isinstance(result, Accepted):
            continue
        subs.extend(event.subaccount_id for event in result.events if isinstance(event, AccountCreated))
        tx = Transaction(driver.state, driver.now_ms)
        memoized = {sub: compute_subaccount_margin(tx, account) for sub, account in driver.state.subaccounts.items()}
        driver.state.margin_lines.clear()
        driver.state.perp_margin_lines.clear()
        fresh = {sub: compute_subaccount_margin(tx, account) for sub, account in driver.state.subaccounts.items()}
        assert memoized == fresh


def test_a_position_that_moved_alone_is_not_read_from_the_memo(driver: Driver) -> None:
    """The memo keys an asset's line on the position's scaled amounts, not only on balances and prices."""
    driver.lender(USDC="1000000")
    sub = driver.account()
    driver.deposit(sub, "BTC", "1")
    driver.borrow(sub, "USDC", "1000")
    account = driver.state.subaccounts[sub]
    tx = Transaction(driver.state, driver.now_ms)
    before = compute_subaccount_margin(tx, account)
    position = tx.position(sub, "USDC")
    assert position is not None
    tx.set_position(
        position.moved(0, position.debt_scaled * 2, position.principal_atoms)
    )  # the debt doubles, nothing else
    after = compute_subaccount_margin(tx, account)
    assert after.borrow_liability_wad > before.borrow_liability_wad
    driver.state.margin_lines.clear()
    assert after == compute_subaccount_margin(tx, account)
