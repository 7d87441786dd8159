"""An engine driver for unit tests: speaks in decimal strings, as a person would."""

from __future__ import annotations

import copy

from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.events import AccountCreated, Event, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.limits import compute_max_borrowable, compute_max_withdrawal, compute_subaccount_margin
from crossmargin.core.margin import Holding, MarginSummary
from crossmargin.core.numbers import Ratio, format_scaled, parse_decimal
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


class Driver:
    """Drives `engine.execute` with decimal strings and asserts acceptance or a clean refusal."""

    def __init__(self) -> None:
        self.state = EngineState()
        self.now_ms = 0
        self.accept(ConfigureAssets(load_asset_specs()))

    def atoms(self, symbol: str, quantity: str) -> int:
        return parse_decimal(quantity, self.state.specs[symbol].decimals)

    def text(self, symbol: str, atoms: int) -> str:
        return format_scaled(atoms, self.state.specs[symbol].decimals)

    def at(self, now_ms: int) -> Driver:
        self.now_ms = now_ms
        return self

    def accept(self, command: Command) -> tuple[Event, ...]:
        result = execute(self.state, command, self.now_ms)
        assert isinstance(result, Accepted), f"expected acceptance, got {result}"
        return result.events

    def refuse(self, command: Command, reason: RejectReason) -> Rejection:
        before = copy.deepcopy(self.state)
        result = execute(self.state, command, self.now_ms)
        assert isinstance(result, Rejected), f"expected refusal {reason}, got {result}"
        assert result.rejection.reason is reason, result.rejection
        assert self.state == before, "a rejected command leaves no trace"
        return result.rejection

    def account(self) -> SubaccountId:
        (event,) = self.accept(CreateAccount())
        assert isinstance(event, AccountCreated)
        return event.subaccount_id

    def subaccount(self, of: SubaccountId) -> SubaccountId:
        account_id: AccountId = self.state.subaccounts[of].account_id
        (event,) = self.accept(CreateSubaccount(account_id))
        assert isinstance(event, SubaccountCreated)
        return event.subaccount_id

    def prices(self, **prices: str) -> None:
        self.accept(SetMarkPrices(tuple((symbol, parse_decimal(price, 18)) for symbol, price in prices.items())))

    def deposit(self, sub: SubaccountId, symbol: str, quantity: str) -> tuple[Event, ...]:
        return self.accept(Deposit(sub, symbol, self.atoms(symbol, quantity)))

    def borrow_lend(self, sub: SubaccountId, symbol: str, side: BorrowLendSide, quantity: str) -> ExecuteBorrowLend:
        return ExecuteBorrowLend(sub, symbol, side, self.atoms(symbol, quantity))

    def borrow(self, sub: SubaccountId, symbol: str, quantity: str) -> tuple[Event, ...]:
        return self.accept(self.borrow_lend(sub, symbol, BorrowLendSide.BORROW, quantity))

    def lend(self, sub: SubaccountId, symbol: str, quantity: str) -> tuple[Event, ...]:
        return self.accept(self.borrow_lend(sub, symbol, BorrowLendSide.LEND, quantity))

    def withdraw(
        self,
        sub: SubaccountId,
        symbol: str,
        quantity: str,
        *,
        auto_borrow: bool = False,
        auto_lend_redeem: bool = False,
    ) -> Withdraw:
        return Withdraw(
            sub, symbol, self.atoms(symbol, quantity), auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem
        )

    def transfer(self, source: SubaccountId, target: SubaccountId, symbol: str, quantity: str) -> Transfer:
        return Transfer(source, target, symbol, self.atoms(symbol, quantity))

    def settings(self, sub: SubaccountId, **changes: object) -> tuple[Event, ...]:
        leverage = changes.pop("leverage_limit", None)
        ratio = Ratio.parse(str(leverage)) if leverage is not None else None
        return self.accept(UpdateSettings(sub, leverage_limit=ratio, **changes))  # type: ignore[arg-type]

    def tick(self, now_ms: int) -> tuple[Event, ...]:
        return self.at(now_ms).accept(Tick())

    def holding(self, sub: SubaccountId, symbol: str) -> Holding:
        return Transaction(self.state, self.now_ms).holding(sub, symbol)

    def margin(self, sub: SubaccountId) -> MarginSummary:
        return compute_subaccount_margin(Transaction(self.state, self.now_ms), self.state.subaccounts[sub])

    def max_borrowable(self, sub: SubaccountId, symbol: str) -> int:
        return compute_max_borrowable(Transaction(self.state, self.now_ms), sub, symbol)

    def max_withdrawal(self, sub: SubaccountId, symbol: str, **options: bool) -> int:
        return compute_max_withdrawal(
            Transaction(self.state, self.now_ms),
            sub,
            symbol,
            auto_borrow=options.get("auto_borrow", False),
            auto_lend_redeem=options.get("auto_lend_redeem", False),
        )

    def lender(self, **quantities: str) -> SubaccountId:
        """Open an account that deposits and lends each given quantity."""
        sub = self.account()
        for symbol, quantity in quantities.items():
            self.deposit(sub, symbol, quantity)
            self.lend(sub, symbol, quantity)
        return sub
