"""Stateful test of trading: random orders, cancels, prices and time through `engine.execute`.

Goal: find any sequence of spot and perp orders, cancels, deposits, borrows, price moves and
clock jumps after which the engine breaks an invariant of docs/INVARIANTS.md, lets a refused
command leave a trace, lets a voluntary order leave its subaccount under margin, creates or loses
money in perp settlement, books a fee it did not charge, or sells collateral where it should have
auto-borrowed USDC.

Method: a hypothesis `RuleBasedStateMachine` drives one engine state with the demo assets and
markets (`src/crossmargin/data/assets.toml`). Subaccount 1 supplies every pool (USDC deep enough
that auto-borrows always find liquidity), subaccount 2 is a market maker with large balances of
everything, and subaccounts 3-7 are traders: 3 holds USDC, 4 only USDT, 5 only BTC, 6 USDC, ETH
and SOL, 7 USDT, BTC and SOL; each draws `autoLend`, `autoRepayBorrows` and
`autoBorrowSettlements` at set-up (and may flip them later). Rules: the maker quotes ladders around
the index; traders send limit orders (GTC, IOC, FOK, post-only, reduce-only, every self-trade
prevention) at prices near the index and market orders (by quantity, or by quote quantity on spot
markets) with sizes from dust to far beyond their margin; cancels by id and client id, cancel-all,
deposits, borrows and repays, index moves (small and large) and clock jumps from 1 ms to hours, so
10-second settlements, hourly interest and hourly funding all fall due, inside a command or a tick.

After every step:

- every check of `audit(state)` passes (DESIGN §4's invariants and the trading ones: INV-PERP-1/2,
  INV-ORDER-1/2/3, INV-BOOK-1);
- a refused command changed nothing;
- INV-MARGIN-1: an accepted voluntary order (or borrow) leaves its subaccount with available
  margin >= 0 and MMR < 100%, unless it was a perp order that only reduced the position (no flip,
  nothing left resting) and did not lower available margin (the engine's documented exception);
- INV-PERP-1: the perp positions of each market sum to zero;
- INV-PERP-3 (exact): `PERP_CLEARING` = -(settled PnL + settled funding); per market the settled PnL
  equals the sum of the positions' bases (trades move bases in equal and opposite amounts, a
  settlement moves each basis to its value at mark rounded down), so it lies between
  -(positions ever opened in the market) and 0 atoms: settlement never pays out PnL it did not
  take in; each hour's funding in a market sums to <= 0 (payers round up, receivers down);
- INV-FEE-1 (exact): per asset, `TRADING_FEES` = the fees of spot fills in that asset (charged at
  the fill) + the perp fees settled so far; per perp market, the fees of its fills = the fees
  settled + the fees still pending in positions;
- no collateral conversion for a subaccount with `autoBorrowSettlements` on while the USDC pool had
  liquidity (its utilization below a half before the step), and never an auto-borrow for one with
  it off.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from tests.strategies import DEMO_PRICES_WAD

from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    BorrowLendSide,
    CancelAllOrders,
    CancelOrder,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    PlaceOrder,
    SetMarkPrices,
    Tick,
    UpdateSettings,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, execute
from crossmargin.core.events import (
    BorrowLendEventType,
    BorrowLendMoved,
    FundingPaid,
    PerpPositionChanged,
    PositionsSettled,
    Settled,
    SettlementSource,
    ShortfallCovered,
    Traded,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import PERP_CLEARING, TRADING_FEES
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import MarginSummary
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import (
    OrderFlags,
    OrderSide,
    OrderType,
    SelfTradePrevention,
    TimeInForce,
    TriggerBy,
)
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000 + 50 * 60_000  # 2026-01-01T00:50:00Z: the first hour falls due soon
SUPPLIER, MAKER = SubaccountId(1), SubaccountId(2)
TRADERS = tuple(SubaccountId(n) for n in range(3, 8))
EVERYONE = (MAKER, *TRADERS)
COLLATERAL: dict[SubaccountId, tuple[tuple[str, int], ...]] = {
    SubaccountId(3): (("USDC", 20_000),),
    SubaccountId(4): (("USDT", 20_000),),
    SubaccountId(5): (("BTC", 30_000),),
    SubaccountId(6): (("USDC", 5_000), ("ETH", 10_000), ("SOL", 5_000)),
    SubaccountId(7): (("USDT", 3_000), ("BTC", 6_000), ("SOL", 3_000)),
}
SUPPLY_USD = {"USDC": 200_000_000, "USDT": 20_000_000, "BTC": 6_000_000, "ETH": 3_000_000, "SOL": 1_500_000}
MAKER_USD = {"USDC": 100_000_000, "USDT": 100_000_000, "BTC": 60_000_000, "ETH": 30_000_000, "SOL": 15_000_000}

DOCUMENT = load_document()
ASSETS = parse_asset_specs(DOCUMENT)
MARKETS: dict[str, MarketSpec] = {spec.symbol: spec for spec in parse_market_specs(DOCUMENT, ASSETS)}
MARKET_SYMBOLS = tuple(sorted(MARKETS))
PERP_MARKETS = tuple(symbol for symbol in MARKET_SYMBOLS if MARKETS[symbol].is_perp)

traders = st.sampled_from(TRADERS)
markets = st.sampled_from(MARKET_SYMBOLS)
sides = st.sampled_from([OrderSide.BID, OrderSide.ASK])
offsets_bps = st.one_of(st.integers(-30, 30), st.integers(-300, 300), st.sampled_from([0, 1, -1]))
usd_sizes = st.one_of(st.integers(1, 100), st.integers(100, 5_000), st.integers(5_000, 300_000))
picks = st.integers(0, 10**6)
rarely = st.sampled_from([False, False, False, True])
# Time before an order: often none, often across a 10-second settlement boundary, sometimes an hour.
waits_ms = st.one_of(
    st.just(0), st.integers(1, 20_000), st.integers(20_000, 2 * 3_600_000)
)  # an option that mostly refuses or changes little
clock_jumps = st.one_of(
    st.integers(1, 999),
    st.integers(1_000, 30_000),
    st.sampled_from([10_000, 3_600_000]),
    st.integers(30_000, 3 * 3_600_000),
)


def clone_state(state: EngineState) -> EngineState:
    """Return a deep copy of an engine state (containers copied, immutable leaves shared, indexes rebuilt)."""
    fields = {
        field.name: _copy_containers(getattr(state, field.name))
        for field in dataclasses.fields(state)
        if not field.metadata.get("derived")
    }
    cloned = EngineState(**fields)
    cloned.rebuild_indexes()
    return cloned


def _copy_containers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_containers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_containers(item) for item in value]
    if isinstance(value, set):
        return set(value)
    return value


def _round_to(value: int, step: int) -> int:
    return value - value % step


@dataclass
class Step:
    """One executed command: what it was, what the engine answered, the states around it."""

    command: Command
    result: Accepted | Rejected
    before: EngineState
    after: EngineState
    now_ms: int


@dataclass
class Books:
    """What the events say about fees, settlements and funding, summed since the start."""

    spot_fees: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    perp_fill_fees: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    settled_fees: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    settled_pnl: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    settled_funding: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    funding_per_hour: dict[tuple[str, int], int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    positions_ever: dict[str, set[int]] = dataclasses.field(default_factory=lambda: defaultdict(set))

    def record(self, events: tuple[object, ...]) -> None:
        """Add up one accepted command's events."""
        for emitted in events:
            match emitted:
                case Traded(fill=fill) if MARKETS[fill.market].is_perp:
                    self.perp_fill_fees[fill.market] += fill.maker_fee_atoms + fill.taker_fee_atoms
                case Traded(fill=fill):
                    self.spot_fees[fill.maker_fee_symbol] += fill.maker_fee_atoms
                    self.spot_fees[fill.taker_fee_symbol] += fill.taker_fee_atoms
                case PositionsSettled():
                    for row in emitted.rows():
                        self._settled(row)
                case FundingPaid():
                    self.funding_per_hour[(emitted.market, emitted.interval_end_ms)] += emitted.quantity_atoms
                case PerpPositionChanged(position=position):
                    self.positions_ever[position.market].add(position.position_id)
                case _:
                    pass

    def _settled(self, row: Settled) -> None:
        amounts = {
            SettlementSource.TRADING_FEES: self.settled_fees,
            SettlementSource.REALIZE_PNL: self.settled_pnl,
            SettlementSource.FUNDING_PAYMENT: self.settled_funding,
        }[row.source]
        amounts[row.market] += (
            -row.quantity_atoms if row.source is SettlementSource.TRADING_FEES else row.quantity_atoms
        )


class TradingMachine(RuleBasedStateMachine):
    """Random trading commands through engine.execute; the invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.state = EngineState()
        self.now_ms = START_MS
        self.steps: list[Step] = []
        self.books = Books()
        self.next_client_id = 1

    # Executing ------------------------------------------------------------------------------

    def _run(self, command: Command, label: str = "set-up") -> Accepted | Rejected:
        before = clone_state(self.state)
        result = execute(self.state, command, self.now_ms)
        if isinstance(result, Accepted):
            self.books.record(result.events)
        self.steps.append(Step(command, result, before, self.state, self.now_ms))
        outcome = "accepted" if isinstance(result, Accepted) else result.rejection.reason.value
        if currently_in_test_context():
            event(f"{label}: {outcome}")
            for reached in _reached(result):
                event(f"reached: {reached}")
        return result

    def _accept(self, command: Command) -> None:
        result = self._run(command)
        assert isinstance(result, Accepted), f"set-up command {command} is accepted: {result}"

    def _index(self, symbol: str) -> int:
        """Return a market's index: its base's mark in units of its quote."""
        spec = MARKETS[symbol]
        return self.state.mark_prices_wad[spec.base] * WAD // self.state.mark_prices_wad[spec.quote]

    def _price(self, symbol: str, offset_bps: int) -> int:
        spec = MARKETS[symbol]
        price = self._index(symbol) * (10_000 + offset_bps) // 10_000
        return max(spec.tick_size_wad, _round_to(price, spec.tick_size_wad))

    def _quantity(self, symbol: str, usd: int) -> int:
        spec = MARKETS[symbol]
        atoms = usd * spec.base_unit_atoms * WAD // self.state.mark_prices_wad[spec.base]
        return max(spec.min_quantity_atoms, _round_to(atoms, spec.step_atoms))

    def _margin(self, state: EngineState, subaccount_id: SubaccountId) -> MarginSummary:
        return compute_subaccount_margin(Transaction(state, self.now_ms), state.subaccounts[subaccount_id])

    # Set-up ---------------------------------------------------------------------------------

    @initialize(
        auto_lend=st.lists(st.booleans(), min_size=5, max_size=5),
        auto_repay=st.lists(st.booleans(), min_size=5, max_size=5),
        auto_borrow_settlements=st.lists(st.booleans(), min_size=5, max_size=5),
    )
    def set_up(self, auto_lend: list[bool], auto_repay: list[bool], auto_borrow_settlements: list[bool]) -> None:
        self._accept(ConfigureAssets(ASSETS))
        self._accept(ConfigureMarkets(tuple(MARKETS.values())))
        self._accept(SetMarkPrices(tuple(sorted(DEMO_PRICES_WAD.items()))))
        for _ in (SUPPLIER, MAKER, *TRADERS):
            self._accept(CreateAccount())
        for symbol, usd in sorted(SUPPLY_USD.items()):
            atoms = self._atoms(symbol, usd)
            self._accept(Deposit(SUPPLIER, symbol, atoms))
            self._accept(ExecuteBorrowLend(SUPPLIER, symbol, BorrowLendSide.LEND, atoms))
        for symbol, usd in sorted(MAKER_USD.items()):
            self._accept(Deposit(MAKER, symbol, self._atoms(symbol, usd)))
        for index, trader in enumerate(TRADERS):
            for symbol, usd in COLLATERAL[trader]:
                self._accept(Deposit(trader, symbol, self._atoms(symbol, usd)))
            self._accept(
                UpdateSettings(
                    trader,
                    auto_lend=auto_lend[index],
                    auto_repay_borrows=auto_repay[index],
                    auto_borrow_settlements=auto_borrow_settlements[index],
                )
            )
        for symbol in MARKET_SYMBOLS:
            self.maker_quotes(symbol, spread_bps=5, usd=50_000, levels=2)
        self.steps = []

    def _atoms(self, symbol: str, usd: int) -> int:
        unit: int = 10 ** self.state.specs[symbol].decimals
        return usd * unit * WAD // self.state.mark_prices_wad[symbol]

    # Rules: orders --------------------------------------------------------------------------

    @rule(
        symbol=markets,
        spread_bps=st.integers(1, 60),
        usd=st.integers(1_000, 200_000),
        levels=st.integers(1, 3),
    )
    def maker_quotes(self, symbol: str, spread_bps: int, usd: int, levels: int) -> None:
        for level in range(levels):
            for side, sign in ((OrderSide.BID, -1), (OrderSide.ASK, 1)):
                command = PlaceOrder(
                    MAKER,
                    symbol,
                    side,
                    OrderType.LIMIT,
                    self._quantity(symbol, usd),
                    self._price(symbol, sign * spread_bps * (level + 1)),
                )
                self._run(command, "maker quote")

    @rule(
        trader=traders,
        symbol=markets,
        side=sides,
        offset_bps=offsets_bps,
        usd=usd_sizes,
        time_in_force=st.sampled_from(list(TimeInForce)),
        post_only=rarely,
        reduce_only=rarely,
        auto_borrow=st.booleans(),
        stp=st.sampled_from(list(SelfTradePrevention)),
        with_client_id=st.booleans(),
        wait_ms=waits_ms,
    )
    def limit_order(
        self,
        *,
        trader: SubaccountId,
        symbol: str,
        side: OrderSide,
        offset_bps: int,
        usd: int,
        time_in_force: TimeInForce,
        post_only: bool,
        reduce_only: bool,
        auto_borrow: bool,
        stp: SelfTradePrevention,
        with_client_id: bool,
        wait_ms: int,
    ) -> None:
        self.now_ms += wait_ms
        spec = MARKETS[symbol]
        flags = OrderFlags(
            post_only=post_only,
            reduce_only=reduce_only and spec.is_perp,
            auto_borrow=auto_borrow and not spec.is_perp,
            auto_borrow_repay=auto_borrow and not spec.is_perp,
        )
        client_id = self._client_id() if with_client_id else None
        price = self._price(symbol, offset_bps)
        command = PlaceOrder(
            trader,
            symbol,
            side,
            OrderType.LIMIT,
            self._quantity(symbol, usd),
            price,
            None,
            time_in_force,
            client_id,
            flags,
            stp,
        )
        result = self._run(command, f"limit {time_in_force}{' post-only' if post_only else ''}")
        if post_only and time_in_force is not TimeInForce.GTC:
            assert isinstance(result, Rejected), "a post-only order must be GTC"

    @rule(
        trader=traders,
        symbol=markets,
        side=sides,
        usd=usd_sizes,
        by_quote=st.booleans(),
        reduce_only=rarely,
        auto_borrow=st.booleans(),
        wait_ms=waits_ms,
    )
    def market_order(
        self,
        *,
        trader: SubaccountId,
        symbol: str,
        side: OrderSide,
        usd: int,
        by_quote: bool,
        reduce_only: bool,
        auto_borrow: bool,
        wait_ms: int,
    ) -> None:
        self.now_ms += wait_ms
        spec = MARKETS[symbol]
        quote = by_quote and not spec.is_perp
        flags = OrderFlags(
            reduce_only=reduce_only and spec.is_perp,
            auto_borrow=auto_borrow and not spec.is_perp,
            auto_borrow_repay=auto_borrow and not spec.is_perp,
        )
        command = PlaceOrder(
            trader,
            symbol,
            side,
            OrderType.MARKET,
            None if quote else self._quantity(symbol, usd),
            None,
            usd * spec.quote_unit_atoms if quote else None,
            TimeInForce.GTC,
            None,
            flags,
        )
        self._run(command, f"market{' by quote' if quote else ''}{' reduce-only' if flags.reduce_only else ''}")

    @rule(
        trader=traders,
        symbol=markets,
        side=sides,
        offset_bps=offsets_bps,
        usd=usd_sizes,
        by=st.sampled_from(list(TriggerBy)),
        bracket=st.booleans(),
        reduce_only=rarely,
        wait_ms=waits_ms,
    )
    def trigger_order(
        self,
        *,
        trader: SubaccountId,
        symbol: str,
        side: OrderSide,
        offset_bps: int,
        usd: int,
        by: TriggerBy,
        bracket: bool,
        reduce_only: bool,
        wait_ms: int,
    ) -> None:
        """A trigger order, or (perps) an order or a position with a stop loss and a take profit."""
        self.now_ms += wait_ms
        spec = MARKETS[symbol]
        quantity = self._quantity(symbol, usd)
        flags = OrderFlags(reduce_only=reduce_only and spec.is_perp)
        command = PlaceOrder(trader, symbol, side, OrderType.MARKET, quantity, flags=flags)
        if bracket and spec.is_perp:
            near, far = self._price(symbol, -abs(offset_bps) - 1), self._price(symbol, abs(offset_bps) + 1)
            closes_long = (side is OrderSide.ASK) == flags.reduce_only
            stop, take = (near, far) if closes_long else (far, near)
            command = dataclasses.replace(
                command, stop_loss_trigger_price_wad=stop, stop_loss_trigger_by=by, take_profit_trigger_price_wad=take
            )
        else:
            price = self._price(symbol, offset_bps)
            command = dataclasses.replace(
                command, trigger_price_wad=price, trigger_quantity_atoms=quantity, trigger_by=by
            )
        self._run(command, f"trigger{' bracket' if bracket and spec.is_perp else ''}")

    def _client_id(self) -> int:
        self.next_client_id += 1
        return self.next_client_id

    @precondition(lambda self: bool(self.state.orders))
    @rule(pick=picks, by_client_id=st.booleans())
    def cancel(self, pick: int, by_client_id: bool) -> None:
        orders = sorted(self.state.orders.values(), key=lambda order: order.order_id)
        order = orders[pick % len(orders)]
        if by_client_id and order.client_id is not None:
            command = CancelOrder(order.subaccount_id, order.market, client_id=order.client_id)
        else:
            command = CancelOrder(order.subaccount_id, order.market, order_id=order.order_id)
        result = self._run(command, "cancel")
        assert isinstance(result, Accepted) or order.order_id not in self.state.orders, (
            f"an open order can be cancelled: {result}"
        )

    @rule(trader=traders, symbol=markets, missing=st.integers(1, 10**9))
    def cancel_missing(self, trader: SubaccountId, symbol: str, missing: int) -> None:
        result = self._run(CancelOrder(trader, symbol, client_id=10**10 + missing), "cancel missing")
        assert isinstance(result, Rejected), "cancelling an order that does not exist is refused"

    @rule(subaccount_id=st.sampled_from(EVERYONE), symbol=markets)
    def cancel_all(self, subaccount_id: SubaccountId, symbol: str) -> None:
        self._run(CancelAllOrders(subaccount_id, symbol), "cancel all")
        assert not [
            order
            for order in self.state.orders.values()
            if (order.subaccount_id, order.market)
            == (
                subaccount_id,
                symbol,
            )
        ], "cancel-all leaves no open order of the subaccount in the market"

    # Rules: money ---------------------------------------------------------------------------

    @rule(trader=traders, symbol=st.sampled_from(sorted(DEMO_PRICES_WAD)), usd=usd_sizes)
    def deposit(self, trader: SubaccountId, symbol: str, usd: int) -> None:
        self._run(Deposit(trader, symbol, max(1, self._atoms(symbol, usd))), "deposit")

    @rule(trader=traders, symbol=st.sampled_from(sorted(DEMO_PRICES_WAD)), percent=st.integers(1, 100))
    def borrow(self, trader: SubaccountId, symbol: str, percent: int) -> None:
        most = compute_max_borrowable(Transaction(self.state, self.now_ms), trader, symbol)
        step = self.state.specs[symbol].step_atoms
        self._run(ExecuteBorrowLend(trader, symbol, BorrowLendSide.BORROW, max(step, most * percent // 100)), "borrow")

    @precondition(lambda self: any(position.debt_scaled for position in self.state.positions.values()))
    @rule(pick=picks, percent=st.integers(1, 100))
    def repay(self, pick: int, percent: int) -> None:
        debts = sorted(key for key, position in self.state.positions.items() if position.debt_scaled)
        trader, symbol = debts[pick % len(debts)]
        holding = Transaction(self.state, self.now_ms).holding(trader, symbol)
        quantity = max(1, min(holding.spot_atoms, holding.debt_atoms) * percent // 100)
        self._run(ExecuteBorrowLend(trader, symbol, BorrowLendSide.LEND, quantity), "repay")

    @rule(
        trader=traders,
        auto_lend=st.none() | st.booleans(),
        auto_borrow_settlements=st.none() | st.booleans(),
    )
    def change_settings(
        self, trader: SubaccountId, auto_lend: bool | None, auto_borrow_settlements: bool | None
    ) -> None:
        command = UpdateSettings(trader, auto_lend=auto_lend, auto_borrow_settlements=auto_borrow_settlements)
        self._run(command, "change settings")

    # Rules: the world -----------------------------------------------------------------------

    @rule(
        symbol=st.sampled_from(["BTC", "ETH", "SOL", "USDT"]),
        percent_bp=st.one_of(st.integers(9_900, 10_100), st.integers(9_000, 11_000), st.integers(5_000, 20_000)),
    )
    def move_price(self, symbol: str, percent_bp: int) -> None:
        if symbol == "USDT":
            percent_bp = 10_000 + (percent_bp - 10_000) // 100  # a stablecoin moves by basis points
        current = self.state.mark_prices_wad[symbol]
        start = DEMO_PRICES_WAD[symbol]
        moved = min(max(current * percent_bp // 10_000, start // 10), start * 10)
        self._run(SetMarkPrices(((symbol, moved),)), "move price")

    @rule(elapsed_ms=clock_jumps, tick=st.booleans())
    def advance_clock(self, elapsed_ms: int, tick: bool) -> None:
        # Without a tick, what falls due runs at the start of the next command (and again if that
        # command is refused, since a refusal drops everything it did).
        self.now_ms += elapsed_ms
        if tick:
            result = self._run(Tick(), "advance clock")
            assert isinstance(result, Accepted), "time may always pass"

    # Invariants -----------------------------------------------------------------------------

    @invariant()
    def audit_passes(self) -> None:
        failed = [check for check in audit(self.state) if not check.ok]
        assert not failed, f"every invariant of the audit holds: {failed}"

    @invariant()
    def rejected_command_changed_nothing(self) -> None:
        for step in self.steps:
            if isinstance(step.result, Rejected):
                assert step.after == step.before, f"rejected {step.command} left a trace"

    @invariant()
    def voluntary_order_keeps_margin(self) -> None:
        for step in self.steps:
            actor = _voluntary_actor(step)
            if actor is None:
                continue
            after = self._margin(step.after, actor)
            if after.available_wad >= 0 and not after.is_liquidatable:
                continue
            assert isinstance(step.command, PlaceOrder), f"INV-MARGIN-1: {step.command} left {actor} under margin"
            assert self._only_reduced(step, after), (
                f"INV-MARGIN-1: {step.command} left subaccount {actor} with available {after.available_wad}, "
                f"liquidatable {after.is_liquidatable}"
            )

    def _only_reduced(self, step: Step, after: MarginSummary) -> bool:
        """Return whether an order only reduced a perp position and did not lower available margin."""
        assert isinstance(step.command, PlaceOrder)
        command = step.command
        if not MARKETS[command.market].is_perp or _order_rests(step):
            return False
        due = clone_state(step.before)
        assert isinstance(execute(due, Tick(), step.now_ms), Accepted)
        key = (command.subaccount_id, command.market)
        size_before = due.perp_positions[key].quantity_atoms if key in due.perp_positions else 0
        size_after = step.after.perp_positions[key].quantity_atoms if key in step.after.perp_positions else 0
        reduced = abs(size_after) < abs(size_before) and (size_after == 0 or (size_after > 0) == (size_before > 0))
        return reduced and after.available_wad >= self._margin(due, command.subaccount_id).available_wad

    @invariant()
    def perp_positions_net_to_zero(self) -> None:
        sums: dict[str, int] = defaultdict(int)
        for (_, market), position in self.state.perp_positions.items():
            sums[market] += position.quantity_atoms
        assert all(total == 0 for total in sums.values()), f"INV-PERP-1: perp positions sum to {dict(sums)}"

    @invariant()
    def settlement_creates_no_money(self) -> None:
        books = self.books
        clearing = self.state.ledger.get((PERP_CLEARING, "USDC"), 0)
        settled = sum(books.settled_pnl.values()) + sum(books.settled_funding.values())
        assert clearing == -settled, f"INV-PERP-3: PERP_CLEARING {clearing} vs settled PnL and funding {settled}"
        bases: dict[str, int] = defaultdict(int)
        for (_, market), position in self.state.perp_positions.items():
            bases[market] += position.basis_atoms
        for market in PERP_MARKETS:
            pnl = books.settled_pnl[market]
            assert pnl == bases[market], f"INV-PERP-3: {market} settled PnL {pnl}, positions' bases {bases[market]}"
            assert -len(books.positions_ever[market]) <= pnl <= 0, f"INV-PERP-3: {market} settled PnL {pnl}"
        hours = {key: total for key, total in books.funding_per_hour.items() if total > 0}
        assert not hours, f"INV-PERP-3: funding paid out more than it took in: {hours}"

    @invariant()
    def fees_are_booked_as_charged(self) -> None:
        books = self.books
        pending: dict[str, int] = defaultdict(int)
        for (_, market), position in self.state.perp_positions.items():
            pending[market] += position.pending_fee_atoms
        for market in PERP_MARKETS:
            charged, settled = books.perp_fill_fees[market], books.settled_fees[market]
            assert charged == settled + pending[market], (
                f"INV-FEE-1: {market} fills charged {charged}, settled {settled}, pending {pending[market]}"
            )
        for symbol in sorted(DEMO_PRICES_WAD):
            booked = self.state.ledger.get((TRADING_FEES, symbol), 0)
            perp = sum(books.settled_fees[market] for market in PERP_MARKETS if MARKETS[market].quote == symbol)
            assert booked == books.spot_fees[symbol] + perp, (
                f"INV-FEE-1: {symbol} TRADING_FEES {booked}, spot fills {books.spot_fees[symbol]}, perp settled {perp}"
            )

    @invariant()
    def auto_borrow_serves_before_collateral_is_sold(self) -> None:
        for step in self.steps:
            if not isinstance(step.result, Accepted):
                continue
            pool = step.before.pools["USDC"]
            liquid = 2 * pool.borrowed_atoms < pool.lent_atoms
            for emitted in step.result.events:
                if not isinstance(emitted, ShortfallCovered):
                    continue
                if emitted.auto_borrow_settlements and liquid:
                    assert not emitted.conversions, f"collateral sold while USDC could be auto-borrowed: {emitted}"
                    assert emitted.uncovered_atoms == 0, f"an auto-borrow covers the whole shortfall: {emitted}"
                if not emitted.auto_borrow_settlements:
                    assert emitted.borrowed_atoms == 0, f"no auto-borrow with autoBorrowSettlements off: {emitted}"

    @invariant()
    def clear_steps(self) -> None:
        # Runs last (invariants run in definition order): the next rule starts a fresh list.
        self.steps = []


def _reached(result: Accepted | Rejected) -> set[str]:
    """Name the interesting paths a command went through (shown by --hypothesis-show-statistics)."""
    reached: set[str] = set()
    if isinstance(result, Rejected):
        return reached
    for emitted in result.events:
        match emitted:
            case PositionsSettled():
                reached.update(f"settled {row.source}" for row in emitted.rows())
            case FundingPaid():
                reached.add("funding paid")
            case ShortfallCovered(conversions=conversions, borrowed_atoms=borrowed, uncovered_atoms=uncovered):
                reached.add("shortfall converted" if conversions else "shortfall")
                reached.update({"shortfall borrowed"} if borrowed else set())
                reached.update({"shortfall uncovered"} if uncovered else set())
            case _:
                pass
    return reached


def _voluntary_actor(step: Step) -> SubaccountId | None:
    """Return the subaccount INV-MARGIN-1 binds after this step, if it was a voluntary order or borrow."""
    if not isinstance(step.result, Accepted):
        return None
    match step.command:
        case PlaceOrder():
            return step.command.subaccount_id
        case ExecuteBorrowLend():
            borrowed = any(
                isinstance(emitted, BorrowLendMoved)
                and emitted.event_type is BorrowLendEventType.BORROW
                and emitted.subaccount_id == step.command.subaccount_id
                for emitted in step.result.events
            )
            return step.command.subaccount_id if borrowed else None
        case _:
            return None


def _order_rests(step: Step) -> bool:
    """Return whether the step's order ended open in the book (it has an id no order had before)."""
    assert isinstance(step.command, PlaceOrder)
    return any(
        order_id >= step.before.next_order_id
        and (order.subaccount_id, order.market) == (step.command.subaccount_id, step.command.market)
        for order_id, order in step.after.orders.items()
    )


TestTradingMachine = TradingMachine.TestCase
TestTradingMachine.settings = settings(max_examples=max(10, settings().max_examples // 2))


@pytest.mark.slow
def test_trading_keeps_every_invariant_over_long_random_runs() -> None:
    """Run the machine with more and longer runs, for `make test-slow` (nightly profile)."""
    profile = settings()
    long_runs = settings(
        max_examples=max(20, profile.max_examples // 4), stateful_step_count=4 * profile.stateful_step_count
    )
    run_state_machine_as_test(TradingMachine, settings=long_runs)


def test_the_set_up_leaves_a_two_sided_book_in_every_market() -> None:
    machine = TradingMachine()
    machine.set_up(auto_lend=[False] * 5, auto_repay=[False] * 5, auto_borrow_settlements=[True] * 5)
    for symbol in MARKET_SYMBOLS:
        book = machine.state.books[symbol]
        assert book.bids.best_price() is not None, symbol
        assert book.asks.best_price() is not None, symbol
    machine.audit_passes()
