"""An engine driver for unit tests: speaks in decimal strings, as a person would."""

from __future__ import annotations

import copy

from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    CancelAllOrders,
    CancelOrder,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    PlaceOrder,
    SetMarkPrices,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, compute_max_withdrawal, execute
from crossmargin.core.events import AccountCreated, Event, OrderChanged, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import Holding, MarginSummary
from crossmargin.core.numbers import Ratio, format_scaled, parse_decimal
from crossmargin.core.orders import (
    NO_FLAGS,
    Order,
    OrderFlags,
    OrderId,
    OrderSide,
    OrderType,
    SelfTradePrevention,
    TimeInForce,
)
from crossmargin.core.perps import PerpPosition
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

MINUTE_MS = 60_000
HOUR_MS = 3_600_000


class Driver:
    """Drives `engine.execute` with decimal strings and asserts acceptance or a clean refusal."""

    def __init__(self) -> None:
        self.state = EngineState()
        self.now_ms = 0
        self.makers: dict[str, tuple[SubaccountId, str, str]] = {}
        self.events: list[Event] = []
        """Every accepted command's events, in order (what a service would feed its listeners)."""
        document = load_document()
        assets = parse_asset_specs(document)
        self.accept(ConfigureAssets(assets))
        self.accept(ConfigureMarkets(parse_market_specs(document, assets)))

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
        self.events.extend(result.events)
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

    # Trading -------------------------------------------------------------------------------

    def base_atoms(self, market: str, quantity: str) -> int:
        return parse_decimal(quantity, self.state.markets[market].base_decimals)

    def order(
        self,
        sub: SubaccountId,
        market: str,
        side: str,
        quantity: str | None,
        price: str | None = None,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        flags: OrderFlags = NO_FLAGS,
        quote_quantity: str | None = None,
        client_id: int | None = None,
        stp: SelfTradePrevention = SelfTradePrevention.REJECT_TAKER,
    ) -> PlaceOrder:
        spec = self.state.markets[market]
        return PlaceOrder(
            sub,
            market,
            OrderSide.BID if side in {"buy", "Bid"} else OrderSide.ASK,
            OrderType.LIMIT if price is not None else OrderType.MARKET,
            self.base_atoms(market, quantity) if quantity is not None else None,
            parse_decimal(price, 18) if price is not None else None,
            parse_decimal(quote_quantity, spec.quote_decimals) if quote_quantity is not None else None,
            tif,
            client_id,
            flags,
            stp,
        )

    def place(
        self,
        sub: SubaccountId,
        market: str,
        side: str,
        quantity: str | None,
        price: str | None = None,
        **options: object,
    ) -> Order:
        events = self.accept(self.order(sub, market, side, quantity, price, **options))  # type: ignore[arg-type]
        placed = [
            event.order for event in events if isinstance(event, OrderChanged) and event.order.subaccount_id == sub
        ]
        return placed[-1]

    def cancel(self, sub: SubaccountId, market: str, order_id: OrderId) -> tuple[Event, ...]:
        return self.accept(CancelOrder(sub, market, order_id))

    def perp(self, sub: SubaccountId, market: str) -> PerpPosition | None:
        return self.state.perp_positions.get((sub, market))

    def maker(self, market: str, mid: str, spread: str, size: str) -> SubaccountId:
        """Open a well-funded market maker quoting one bid and one ask around `mid`."""
        sub = self.account()
        for symbol in ("USDC", "BTC", "ETH", "SOL", "USDT"):
            self.deposit(sub, symbol, "10000000" if symbol in {"USDC", "USDT"} else "10000")
        middle, half = parse_decimal(mid, 18), parse_decimal(spread, 18)
        self.place(sub, market, "buy", size, format_scaled(middle - half, 18))
        self.place(sub, market, "sell", size, format_scaled(middle + half, 18))
        self.makers[market] = (sub, spread, size)
        return sub

    def requote(self, market: str, mid: str) -> None:
        """Move the market's maker to a new `mid`, as the demo market maker does after a price move."""
        sub, spread, size = self.makers[market]
        self.accept(CancelAllOrders(sub, market))
        middle, half = parse_decimal(mid, 18), parse_decimal(spread, 18)
        self.place(sub, market, "buy", size, format_scaled(middle - half, 18))
        self.place(sub, market, "sell", size, format_scaled(middle + half, 18))

    def usdc(self, sub: SubaccountId) -> str:
        return self.text("USDC", self.holding(sub, "USDC").spot_atoms)
