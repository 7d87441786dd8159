"""Stateful test of liquidation: random prices, borrows, perp positions and liquidation sweeps.

Goal: find any sequence of borrows near the limit, perp positions near maximum leverage, market
maker ladders (thin or deep), price moves up to 60% crashes and clock jumps after which a
`Liquidate` breaks an invariant, makes the liquidated account less healthy, books a fee it did not
charge, or cuts the lend index while the insurance fund could still pay.

Method: a hypothesis `RuleBasedStateMachine` over one engine state with the demo assets and
markets (the trading machine's set-up: subaccount 1 supplies every pool, 2 makes markets, 3-6
trade; each trader draws `autoLend`, `autoRepayBorrows` and `autoBorrowSettlements`; the
insurance fund starts empty or with some USDC). The `liquidate` rule does what the risk monitor
does: it sweeps every subaccount with the exact margin math (`is_liquidatable`, or `liquidating`)
and executes `Liquidate` for each until none is left (a liquidation can make another account
liquidatable through ADL, so the sweep repeats until a whole pass finds nothing).

Health is net equity / maintenance margin, i.e. 1 / MMR, as the liquidation module's guard
(`is_no_worse`) defines it; an account with no maintenance left is infinitely healthy. "Before" a
`Liquidate` is the state after the work that fell due at its start (the command runs it first), so
the comparison is with what the liquidation itself did.

After every step:

- every check of `audit(state)` passes, and a refused command changed nothing (checked at once);
- for every accepted `Liquidate`: the account's health after >= before, at the perp marks the
  command ran at (its closing re-mark may move a mark its own fills moved), unless it was
  backstopped, and then it ends flat (no balance, lend, debt or perp position);
- the insurance fund's spot balance in each asset grew by exactly the step fees of that command
  in that asset, plus, for a takeover, the spot balances it took over and what it borrowed to
  cover a negative one (the recorded backstop amounts: the fund's `Borrow` and `LendRedeem`
  movements less the debts it took over, which arrive as `Borrow` movements too; ADL moves
  positions, not balances);
- a `LendIndexCut` happens only in a takeover that left the fund's value negative: the fund's
  value after the command, less the value of the debt the cuts forgave, is below zero; the pool's
  lenders lose exactly the cut's loss in total (the lend index fell by it), each lender's claim
  falls by its share rounded down, and the fund's debt falls by the forgiven amount.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import pytest
from hypothesis import currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from tests.stateful.test_trading_machine import ASSETS, MARKETS, START_MS, clone_state
from tests.strategies import DEMO_PRICES_WAD

from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    BorrowLendSide,
    CancelAllOrders,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SetMarkPrices,
    Tick,
    UpdateSettings,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, execute
from crossmargin.core.events import (
    Backstopped,
    BorrowLendEventType,
    BorrowLendMoved,
    LendIndexCut,
    LiquidationFinished,
    LiquidationStepped,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.ledger import spot
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import MarginSummary
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.orders import OrderFlags, OrderSide, OrderType, TimeInForce
from crossmargin.core.pools import lend_atoms
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

SUPPLIER, MAKER = SubaccountId(1), SubaccountId(2)
TRADERS = tuple(SubaccountId(n) for n in range(3, 7))
COLLATERAL: dict[SubaccountId, tuple[tuple[str, int], ...]] = {
    SubaccountId(3): (("USDC", 10_000),),
    SubaccountId(4): (("BTC", 10_000),),
    SubaccountId(5): (("ETH", 6_000), ("SOL", 4_000)),
    SubaccountId(6): (("USDC", 3_000), ("BTC", 4_000), ("USDT", 3_000)),
}
SUPPLY_USD = {"USDC": 2_000_000, "USDT": 500_000, "BTC": 600_000, "ETH": 300_000, "SOL": 150_000}
MAKER_USD = {"USDC": 50_000_000, "USDT": 10_000_000, "BTC": 30_000_000, "ETH": 15_000_000, "SOL": 8_000_000}
SWEEP_LIMIT = 64
"""Liquidate commands one sweep may run before the test calls it a livelock."""

SPOT_MARKETS = ("BTC_USDC", "ETH_USDC", "SOL_USDC", "USDT_USDC")
PERP_MARKETS = ("BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP")
traders = st.sampled_from(TRADERS)
volatile = st.sampled_from(["BTC", "ETH", "SOL"])


@dataclass
class Liquidation:
    """One accepted `Liquidate`: the state after its due work, the state after, its events."""

    subaccount_id: SubaccountId
    before: EngineState
    after: EngineState
    events: tuple[object, ...]
    now_ms: int


class LiquidationMachine(RuleBasedStateMachine):
    """Random borrows, perp positions, ladders and price moves; liquidation sweeps checked step by step."""

    def __init__(self) -> None:
        super().__init__()
        self.state = EngineState()
        self.now_ms = START_MS
        self.liquidations: list[Liquidation] = []

    # Executing ------------------------------------------------------------------------------

    def _run(self, command: Command) -> Accepted | Rejected:
        before = clone_state(self.state)
        result = execute(self.state, command, self.now_ms)
        if isinstance(result, Rejected):
            assert self.state == before, f"refused {command} left a trace"
        return result

    def _accept(self, command: Command) -> tuple[object, ...]:
        result = self._run(command)
        assert isinstance(result, Accepted), f"set-up command {command} is accepted: {result}"
        return result.events

    def _atoms(self, symbol: str, usd: int) -> int:
        spec = self.state.specs[symbol]
        unit: int = 10**spec.decimals
        return usd * unit * WAD // self.state.mark_prices_wad[symbol] // spec.step_atoms * spec.step_atoms

    def _index(self, symbol: str) -> int:
        spec = MARKETS[symbol]
        return self.state.mark_prices_wad[spec.base] * WAD // self.state.mark_prices_wad[spec.quote]

    def _margin(self, state: EngineState, subaccount_id: SubaccountId) -> MarginSummary:
        return compute_subaccount_margin(Transaction(state, self.now_ms), state.subaccounts[subaccount_id])

    # Set-up ---------------------------------------------------------------------------------

    @initialize(
        auto_lend=st.lists(st.booleans(), min_size=4, max_size=4),
        auto_repay=st.lists(st.booleans(), min_size=4, max_size=4),
        auto_borrow_settlements=st.lists(st.booleans(), min_size=4, max_size=4),
        fund_usd=st.sampled_from([0, 0, 500, 50_000]),
        leverage=st.sampled_from([10, 20, 50]),
        opening=st.lists(
            st.tuples(st.sampled_from(PERP_MARKETS), st.sampled_from([OrderSide.BID, OrderSide.ASK]), volatile),
            min_size=4,
            max_size=4,
        ),
    )
    def set_up(
        self,
        auto_lend: list[bool],
        auto_repay: list[bool],
        auto_borrow_settlements: list[bool],
        fund_usd: int,
        leverage: int,
        opening: list[tuple[str, OrderSide, str]],
    ) -> None:
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
        for trader, lends, repays, borrows in zip(TRADERS, auto_lend, auto_repay, auto_borrow_settlements, strict=True):
            for symbol, usd in COLLATERAL[trader]:
                self._accept(Deposit(trader, symbol, self._atoms(symbol, usd)))
            self._accept(
                UpdateSettings(
                    trader,
                    auto_lend=lends,
                    auto_repay_borrows=repays,
                    auto_borrow_settlements=borrows,
                    leverage_limit=Ratio(leverage * WAD),
                )
            )
        if fund_usd:
            self._accept(Deposit(INSURANCE_FUND_ID, "USDC", fund_usd * 10**6))
        for symbol in (*SPOT_MARKETS, *PERP_MARKETS):
            self.ladder(symbol, levels=5, usd_per_level=200_000, spread_bps=10, gap_bps=20)
        # Every trader starts exposed: a borrow near its limit, then a perp near its maximum leverage.
        for trader, (market, side, borrowed) in zip(TRADERS, opening, strict=True):
            self.borrow_near_max(trader, borrowed, 90)
            self.perp_near_max_leverage(trader, market, side, 90)

    # Rules: the market maker ----------------------------------------------------------------

    @rule(
        symbol=st.sampled_from((*SPOT_MARKETS, *PERP_MARKETS)),
        levels=st.integers(0, 8),
        usd_per_level=st.sampled_from([50, 2_000, 50_000, 500_000]),
        spread_bps=st.integers(1, 300),
        gap_bps=st.integers(1, 200),
    )
    def ladder(self, symbol: str, levels: int, usd_per_level: int, spread_bps: int, gap_bps: int) -> None:
        """Replace the maker's quotes in a market by a ladder: none, thin or deep, tight or wide."""
        self._run(CancelAllOrders(MAKER, symbol))
        spec = MARKETS[symbol]
        index = self._index(symbol)
        for level in range(levels):
            for side, sign in ((OrderSide.BID, -1), (OrderSide.ASK, 1)):
                offset = spread_bps + level * gap_bps
                price = index * (10_000 + sign * offset) // 10_000 // spec.tick_size_wad * spec.tick_size_wad
                quantity = usd_per_level * spec.base_unit_atoms * WAD // self.state.mark_prices_wad[spec.base]
                quantity = max(spec.min_quantity_atoms, quantity // spec.step_atoms * spec.step_atoms)
                if price > 0:
                    order = PlaceOrder(MAKER, symbol, side, OrderType.LIMIT, quantity, price, None, TimeInForce.GTC)
                    self._run(order)

    # Rules: traders -------------------------------------------------------------------------

    @rule(trader=traders, symbol=st.sampled_from(sorted(DEMO_PRICES_WAD)), percent=st.integers(70, 100))
    def borrow_near_max(self, trader: SubaccountId, symbol: str, percent: int) -> None:
        most = compute_max_borrowable(Transaction(self.state, self.now_ms), trader, symbol)
        step = self.state.specs[symbol].step_atoms
        quantity = max(step, most * percent // 100 // step * step)
        result = self._run(ExecuteBorrowLend(trader, symbol, BorrowLendSide.BORROW, quantity))
        _note(f"borrow near max: {'accepted' if isinstance(result, Accepted) else result.rejection.reason}")

    @rule(trader=traders, symbol=st.sampled_from(sorted(DEMO_PRICES_WAD)), percent=st.integers(10, 100))
    def lend(self, trader: SubaccountId, symbol: str, percent: int) -> None:
        idle = self.state.ledger.get((spot(trader), symbol), 0)
        if idle > 0:
            self._run(ExecuteBorrowLend(trader, symbol, BorrowLendSide.LEND, max(1, idle * percent // 100)))

    @rule(
        trader=traders,
        symbol=st.sampled_from(PERP_MARKETS),
        side=st.sampled_from([OrderSide.BID, OrderSide.ASK]),
        percent=st.integers(50, 110),
    )
    def perp_near_max_leverage(self, trader: SubaccountId, symbol: str, side: OrderSide, percent: int) -> None:
        """Open or add to a perp position worth `percent`% of what available margin allows at base IMF."""
        spec = MARKETS[symbol]
        available = self._margin(self.state, trader).available_wad
        if available <= 0:
            return
        imf = max(spec.imf.base.wad, WAD * WAD // self.state.subaccounts[trader].leverage_limit.wad)
        notional = available * WAD // imf * percent // 100
        quantity = notional * spec.base_unit_atoms // self.state.perp_marks_wad[symbol] // spec.step_atoms
        quantity = max(spec.min_quantity_atoms, quantity * spec.step_atoms)
        result = self._run(PlaceOrder(trader, symbol, side, OrderType.MARKET, quantity, None, None, TimeInForce.GTC))
        _note(f"perp near max: {'accepted' if isinstance(result, Accepted) else result.rejection.reason}")

    @rule(trader=traders, symbol=st.sampled_from(SPOT_MARKETS), usd=st.integers(100, 20_000))
    def buy_on_margin(self, trader: SubaccountId, symbol: str, usd: int) -> None:
        """Buy spot with borrowed quote (autoBorrow), adding a borrow and a volatile holding."""
        spec = MARKETS[symbol]
        quantity = max(spec.min_quantity_atoms, self._atoms(spec.base, usd) // spec.step_atoms * spec.step_atoms)
        command = PlaceOrder(trader, symbol, OrderSide.BID, OrderType.MARKET, quantity, None, None, TimeInForce.GTC)
        self._run(replace(command, flags=OrderFlags(auto_borrow=True, auto_borrow_repay=True)))

    # Rules: the world -----------------------------------------------------------------------

    @rule(
        symbol=volatile,
        percent_bp=st.one_of(
            st.integers(9_500, 10_500),  # a few percent
            st.integers(8_000, 12_000),
            st.integers(4_000, 8_000),  # a crash of 20-60%
            st.sampled_from([4_000, 5_000, 8_000, 13_000]),
        ),
        then_sweep=st.booleans(),
    )
    def move_price(self, symbol: str, percent_bp: int, then_sweep: bool) -> None:
        current = self.state.mark_prices_wad[symbol]
        start = DEMO_PRICES_WAD[symbol]
        moved = min(max(current * percent_bp // 10_000, start // 20), start * 5)
        self._run(SetMarkPrices(((symbol, moved),)))
        if then_sweep:  # the risk monitor reacts to the new price at once
            self.liquidate()

    @rule(
        trader=traders,
        auto_lend=st.none() | st.booleans(),
        auto_repay=st.none() | st.booleans(),
        auto_borrow_settlements=st.none() | st.booleans(),
    )
    def change_settings(
        self,
        trader: SubaccountId,
        auto_lend: bool | None,
        auto_repay: bool | None,
        auto_borrow_settlements: bool | None,
    ) -> None:
        self._run(
            UpdateSettings(
                trader,
                auto_lend=auto_lend,
                auto_repay_borrows=auto_repay,
                auto_borrow_settlements=auto_borrow_settlements,
            )
        )

    @rule(
        elapsed_ms=st.one_of(st.integers(1, 30_000), st.sampled_from([10_000, 3_600_000]), st.integers(1, 10_800_000))
    )
    def advance_clock(self, elapsed_ms: int) -> None:
        self.now_ms += elapsed_ms
        assert isinstance(self._run(Tick()), Accepted), "time may always pass"

    @rule()
    def liquidate(self) -> None:
        """Sweep like the risk monitor: liquidate every candidate until no subaccount is left to liquidate."""
        ran = 0
        while True:
            candidates = self._candidates()
            if not candidates:
                break
            for subaccount_id in candidates:
                while self._is_candidate(subaccount_id):
                    ran += 1
                    assert ran <= SWEEP_LIMIT, f"the sweep does not end: subaccount {subaccount_id}"
                    self._liquidate_one(subaccount_id)
        _note(f"liquidations in a sweep: {min(ran, 5)}{'+' if ran > 5 else ''}")

    def _candidates(self) -> list[SubaccountId]:
        return [sid for sid in sorted(self.state.subaccounts) if sid != INSURANCE_FUND_ID and self._is_candidate(sid)]

    def _is_candidate(self, subaccount_id: SubaccountId) -> bool:
        subaccount = self.state.subaccounts[subaccount_id]
        return subaccount.liquidating or self._margin(self.state, subaccount_id).is_liquidatable

    def _liquidate_one(self, subaccount_id: SubaccountId) -> None:
        due = clone_state(self.state)
        assert isinstance(execute(due, Tick(), self.now_ms), Accepted)
        result = self._run(Liquidate(subaccount_id))
        assert isinstance(result, Accepted), f"a candidate can be liquidated: {result}"
        self.liquidations.append(Liquidation(subaccount_id, due, clone_state(self.state), result.events, self.now_ms))
        for emitted in result.events:
            if isinstance(emitted, (LiquidationFinished, Backstopped, LendIndexCut)):
                _note(f"liquidation: {type(emitted).__name__}")

    # Invariants -----------------------------------------------------------------------------

    @invariant()
    def audit_passes(self) -> None:
        failed = [check for check in audit(self.state) if not check.ok]
        assert not failed, f"every invariant of the audit holds: {failed}"

    @invariant()
    def liquidations_keep_their_promises(self) -> None:
        for done in self.liquidations:
            backstopped = any(isinstance(emitted, Backstopped) for emitted in done.events)
            if backstopped:
                self._check_flat(done)
            else:
                self._check_healthier(done)
            self._check_fund_balances(done)
            self._check_cuts(done)
        self.liquidations = []

    def _check_healthier(self, done: Liquidation) -> None:
        before = self._margin(done.before, done.subaccount_id)
        # Health is compared at the marks the liquidation ran at: the re-mark that ends the command
        # can move a perp mark because the liquidation's own fills took the bids (or asks) that held
        # it above (or below) the index; that move is the mark's, on what is still held, and with
        # both sides at the marks the command left the account is healthier too
        # (tests/unit/liquidation/test_liquidation_remark.py).
        revalued = copy.copy(done.after)
        revalued.perp_marks_wad = dict(done.before.perp_marks_wad)
        after = self._margin(revalued, done.subaccount_id)
        if before.maintenance_wad == 0:
            assert after.maintenance_wad == 0, f"a liquidation added exposure: {before} -> {after}"
            return
        # Maintenance is positive, so health e/m compares by cross-multiplying, negative equity included
        # (an account at or below zero equity is not always backstopped: cancelling its orders at the
        # start lets its auto settings repay a debt from its balance, which can bring equity back).
        healthier = after.net_equity_wad * before.maintenance_wad >= before.net_equity_wad * after.maintenance_wad
        assert healthier, (
            f"Liquidate({done.subaccount_id}) lowered health (net equity / maintenance) from "
            f"{before.net_equity_wad}/{before.maintenance_wad} to {after.net_equity_wad}/{after.maintenance_wad}"
        )

    def _check_flat(self, done: Liquidation) -> None:
        account = done.subaccount_id
        assert not done.after.held.get(account), f"a backstopped account holds {done.after.held.get(account)}"
        positions = [key for key in done.after.perp_positions if key[0] == account]
        assert not positions, f"a backstopped account keeps perp positions {positions}"
        assert not done.after.subaccounts[account].liquidating

    def _check_fund_balances(self, done: Liquidation) -> None:
        expected: dict[str, int] = {}
        for emitted in done.events:
            match emitted:
                case LiquidationStepped(fee_symbol=symbol, fee_atoms=fee):
                    expected[symbol] = expected.get(symbol, 0) + fee
                case Backstopped(holdings=holdings):
                    for row in holdings:  # a debt arrives as a fund `Borrow` movement but moves no balance
                        expected[row.symbol] = expected.get(row.symbol, 0) + row.spot_atoms - row.debt_atoms
                case BorrowLendMoved(event_type=BorrowLendEventType.BORROW | BorrowLendEventType.LEND_REDEEM) if (
                    emitted.subaccount_id == INSURANCE_FUND_ID
                ):
                    expected[emitted.symbol] = expected.get(emitted.symbol, 0) + emitted.quantity_atoms
                case _:
                    pass
        for symbol in sorted(DEMO_PRICES_WAD):
            key = (spot(INSURANCE_FUND_ID), symbol)
            grew = done.after.ledger.get(key, 0) - done.before.ledger.get(key, 0)
            assert grew == expected.get(symbol, 0), (
                f"the fund's {symbol} grew by {grew}, but the command's fees and takeover were {expected.get(symbol, 0)}"
            )

    def _check_cuts(self, done: Liquidation) -> None:
        cuts = [emitted for emitted in done.events if isinstance(emitted, LendIndexCut)]
        if not cuts:
            return
        assert any(isinstance(emitted, Backstopped) for emitted in done.events), "a cut only follows a takeover"
        after_tx = Transaction(done.after, done.now_ms)
        forgiven = sum(
            cut.debt_forgiven_atoms * after_tx.mark_price(cut.symbol) // 10 ** done.after.specs[cut.symbol].decimals
            for cut in cuts
        )
        assert fund_value_wad(after_tx) - forgiven < 0, f"lenders were cut while the fund could pay: {cuts}"
        for cut in cuts:
            self._check_lenders_lost(done, cut)

    def _check_lenders_lost(self, done: Liquidation, cut: LendIndexCut) -> None:
        symbol = cut.symbol
        assert cut.lend_index_after_ray < cut.lend_index_before_ray
        moved = {e.subaccount_id for e in done.events if isinstance(e, BorrowLendMoved) and e.symbol == symbol}
        lost_total = lenders = 0
        for (owner, held_symbol), position in sorted(done.after.positions.items()):
            if held_symbol != symbol or owner in moved or not position.lend_scaled:
                continue
            before = lend_atoms(position.lend_scaled, cut.lend_index_before_ray)
            after = lend_atoms(position.lend_scaled, cut.lend_index_after_ray)
            assert before >= after, f"a lender gained from a cut: {owner}"
            lost_total += before - after
            lenders += 1
        total = done.after.pools[symbol].lend_scaled_total  # the cut is the command's last movement in the pool
        pool_loss = lend_atoms(total, cut.lend_index_before_ray) - lend_atoms(total, cut.lend_index_after_ray)
        assert pool_loss == cut.loss_atoms, f"lenders lost {pool_loss} in all, the cut says {cut.loss_atoms}"
        assert abs(lost_total - cut.loss_atoms) <= lenders, (
            f"lenders' claims fell by {lost_total}, the cut's loss is {cut.loss_atoms} ({lenders} lenders' rounding)"
        )
        assert cut.debt_forgiven_atoms <= cut.loss_atoms


def _note(text: str) -> None:
    """Count a path reached (shown by --hypothesis-show-statistics), when running under hypothesis."""
    if currently_in_test_context():
        event(text)


TestLiquidationMachine = LiquidationMachine.TestCase
TestLiquidationMachine.settings = settings(max_examples=max(10, settings().max_examples // 2))


@pytest.mark.slow
def test_liquidation_keeps_its_promises_over_long_random_runs() -> None:
    """Run the machine with more and longer runs, for `make test-slow`."""
    profile = settings()
    long_runs = settings(
        max_examples=max(20, profile.max_examples // 2), stateful_step_count=3 * profile.stateful_step_count
    )
    run_state_machine_as_test(LiquidationMachine, settings=long_runs)


def test_a_settlement_conversion_skips_collateral_an_earlier_conversion_used_up() -> None:
    """Found by the long runs: the shortfall's first sale repaid a borrow and left less than a step of BTC.

    The BTC_USDC conversion then went out with quantity 0 and "filled" a resting bid for nothing, leaving it
    PartiallyFilled with nothing filled (INV-ORDER-3).
    """
    machine = LiquidationMachine()
    machine.set_up(
        auto_lend=[False] * 4,
        leverage=50,
        fund_usd=0,
        auto_repay=[False, False, True, False],
        opening=[
            ("BTC_USDC_PERP", OrderSide.BID, "BTC"),
            ("SOL_USDC_PERP", OrderSide.BID, "BTC"),
            ("BTC_USDC_PERP", OrderSide.BID, "BTC"),
            ("BTC_USDC_PERP", OrderSide.BID, "BTC"),
        ],
        auto_borrow_settlements=[False] * 4,
    )
    machine.borrow_near_max(percent=70, symbol="BTC", trader=5)
    machine.borrow_near_max(percent=70, symbol="USDT", trader=5)
    machine.change_settings(auto_borrow_settlements=None, auto_lend=None, auto_repay=None, trader=3)
    machine.advance_clock(elapsed_ms=1)
    machine.ladder(gap_bps=1, levels=0, spread_bps=1, symbol="USDT_USDC", usd_per_level=50)
    fills_before = len(machine.state.fills)
    machine.advance_clock(elapsed_ms=10_000)

    machine.audit_passes()
    new_fills = machine.state.fills[fills_before:]
    assert new_fills, "the settlement's shortfall was covered by selling collateral"
    assert all(fill.quantity_atoms > 0 for fill in new_fills), "no fill of nothing"
