"""A journal holding the largest values the engine accepts restarts, screens and liquidates.

Found on main: a deposit of 10^4000 atoms (or a price of 10^4000) was accepted; the risk monitor
then died with OverflowError, an account past maintenance stayed unliquidated, and `serve` could
no longer start on that journal. Now the engine bounds every quantity and price (`core/bounds.py`),
and this test fills a journal with the largest accepted values — a deposit of 2^127 - 1 atoms, an
asset total at that bound, a price of 10^12 USD — then restarts on it, on SQLite and PostgreSQL,
and checks that the risk monitor still finds and liquidates an account past maintenance.
"""

from __future__ import annotations

from tests.integration.conftest import Database

from crossmargin.app.clock import ManualClock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    PlaceOrder,
    SetMarkPrices,
    Withdraw,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_withdrawal
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, PRICE_WAD_MAX, WAD
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

START_MS = 1_767_225_600_000
USDC = 10**6
ETH = 10**8


def _accept(service: Service, command: Command) -> Accepted:
    result = service.execute(command)
    assert isinstance(result, Accepted), result
    return result


def _account(service: Service) -> SubaccountId:
    events = _accept(service, CreateAccount()).events
    return next(event.subaccount_id for event in events if isinstance(event, AccountCreated))


def _max_borrower(service: Service) -> SubaccountId:
    """10 ETH of collateral, and as much USDC as it backs borrowed and withdrawn."""
    borrower = _account(service)
    _accept(service, Deposit(borrower, "ETH", 10 * ETH))
    most = service.read(
        lambda state: compute_max_withdrawal(
            Transaction(state, state.now_ms), borrower, "USDC", auto_borrow=True, auto_lend_redeem=False
        )
    )
    _accept(service, Withdraw(borrower, "USDC", most, auto_borrow=True))
    return borrower


def _liquidatable(state: EngineState, subaccount_id: SubaccountId) -> bool:
    tx = Transaction(state, state.now_ms)
    return compute_subaccount_margin(tx, state.subaccounts[subaccount_id]).is_liquidatable


def test_a_journal_with_the_largest_accepted_values_restarts_and_liquidates(database: Database) -> None:
    with database.open_service(ManualClock(START_MS)) as service:
        _accept(service, SetMarkPrices((("USDC", WAD), ("BTC", PRICE_WAD_MAX), ("ETH", 3_000 * WAD))))
        lender = _account(service)
        _accept(service, Deposit(lender, "USDC", AMOUNT_ATOMS_MAX))  # the whole USDC total at its bound
        _accept(service, ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, 10**9 * USDC))
        whale = _account(service)
        refused = service.execute(Deposit(whale, "USDC", 1))
        assert isinstance(refused, Rejected)
        assert refused.rejection.reason is RejectReason.QUANTITY_ABOVE_MAXIMUM
        _accept(service, Deposit(whale, "BTC", AMOUNT_ATOMS_MAX))  # 1.7e30 BTC at 10^12 USD each
        _accept(service, Withdraw(whale, "USDC", 10**6 * USDC, auto_borrow=True))
        borrower = _max_borrower(service)
        bidder = _account(service)
        _accept(service, Withdraw(lender, "USDC", 10**12 * USDC))
        _accept(service, Deposit(bidder, "USDC", 10**12 * USDC))
        _accept(service, PlaceOrder(bidder, "ETH_USDC", OrderSide.BID, OrderType.LIMIT, 10 * ETH, 2_890 * WAD))

    with database.open_service(ManualClock(START_MS)) as service:
        monitor = RiskMonitor(service)
        monitor.start()
        try:
            assert monitor.settle()
            _accept(service, SetMarkPrices((("ETH", 2_860 * WAD),)))
            assert service.read(lambda state: _liquidatable(state, borrower)) or service.read(
                lambda state: bool(state.liquidation_steps)
            )
            assert monitor.settle()
        finally:
            monitor.stop()
        steps = service.read(lambda state: [step.subaccount_id for step in state.liquidation_steps])
        assert steps
        assert set(steps) == {borrower}
        assert not service.read(lambda state: _liquidatable(state, borrower))
        assert all(check.ok for check in service.audit())
