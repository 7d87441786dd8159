"""Stateful test: random command sequences through `engine.execute`, checked after every step.

Goal: find any sequence of borrow-lend commands, price moves, settings changes and clock jumps
after which the engine breaks an invariant of docs/INVARIANTS.md or disagrees with a naive model
of what every subaccount should hold.

Method: a hypothesis `RuleBasedStateMachine` drives one engine state. The set-up lists the demo
assets (USDC, USDT, BTC, ETH, SOL) and opens three accounts: account 1 with subaccounts 1, 2, 3,
account 2 with subaccounts 4, 5, and account 3 whose subaccount 6 supplies every pool. Settings
are drawn per subaccount (auto-lend, auto-repay, leverage limit), and subaccounts 1-5 deposit
some collateral. Each rule then issues one command: deposit, lend, redeem (partial, all, all
but one atom), borrow (a fraction of, exactly, or one step past max borrowable), repay (partial
or repay-all with quantity == current debt, to the last atom), withdraw (with autoBorrow /
autoLendRedeem, up to and one atom past max withdrawal), transfer between subaccounts (including
refused ones: to another account, to itself), price moves, settings changes and clock jumps from
a millisecond to three days (so hours are crossed and hourly interest is charged in order).
After every step the invariants below hold:

- every check of `audit(state)` passes (INV-LEDGER-*, INV-POOL-*, INV-POSITION-1, INV-STATE-1);
- a rejected command changed nothing: the state equals a deep copy taken before it;
- INV-MARGIN-1: an accepted borrow, withdrawal, transfer or leverage change leaves the acting
  subaccount with available margin >= 0 and not liquidatable;
- INV-ISOLATION-1: a command on one subaccount changes no other subaccount's spot balances,
  positions or settings (a transfer may change its target);
- the engine agrees with `tests/reference_model.py`, a naive model in exact fractions: spot
  balances to the atom; debts never below the model and at most about one atom per borrow or
  repay above it; lends never above it (beyond millionths of an atom) and at most about one atom
  per movement or interest credit below it. The module docstring of the model derives each term
  of that tolerance from one documented rounding of the engine.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from fractions import Fraction
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
from tests.reference_model import ReferenceModel, borrow_apr_bounds
from tests.strategies import DEMO_PRICES_WAD, DEMO_SPECS, DEMO_SYMBOLS, clock_jumps_ms, leverage_limits

from crossmargin.core.audit import audit
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
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, compute_max_withdrawal, execute
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, EntryFeeCharged, Event, InterestCharged
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.ledger import LedgerKind, spot
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ACCOUNT_OF: dict[SubaccountId, AccountId] = {
    SubaccountId(1): AccountId(1),
    SubaccountId(2): AccountId(1),
    SubaccountId(3): AccountId(1),
    SubaccountId(4): AccountId(2),
    SubaccountId(5): AccountId(2),
    SubaccountId(6): AccountId(3),
}
SUBACCOUNTS = tuple(ACCOUNT_OF)
TRADERS = SUBACCOUNTS[:5]
SUPPLIER = SubaccountId(6)

subaccounts = st.sampled_from(SUBACCOUNTS)
symbols = st.sampled_from(DEMO_SYMBOLS)
usd_values = st.one_of(st.integers(0, 100), st.integers(100, 100_000), st.integers(100_000, 2_000_000))
dust_atoms = st.integers(0, 999)
percents = st.integers(1, 100)
picks = st.integers(0, 10**6)


def clone_state(state: EngineState) -> EngineState:
    """Return a deep copy of an engine state.

    Every leaf of the state is immutable (frozen dataclasses, ints, strings, tuples), so copying
    the containers (dicts, lists, sets) down to the leaves is a deep copy, and much cheaper than
    `copy.deepcopy` on the thousands of hourly accrual records a long run collects.
    """
    fields = {field.name: _copy_containers(getattr(state, field.name)) for field in dataclasses.fields(state)}
    return EngineState(**fields)


def _copy_containers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_containers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_containers(item) for item in value]
    if isinstance(value, set):
        return set(value)
    return value


def _atoms_worth(symbol: str, usd: int, dust: int) -> int:
    """Return atoms of `symbol` worth about `usd` at the demo starting price, plus some dust atoms."""
    return max(1, usd * DEMO_SPECS[symbol].unit_atoms * WAD // DEMO_PRICES_WAD[symbol] + dust)


@dataclass
class Step:
    """One executed command: what it was, what the engine answered, the states around it."""

    command: Command
    result: Accepted | Rejected
    before: EngineState
    after: EngineState


@dataclass(frozen=True)
class SubaccountView:
    """Everything of one subaccount that other subaccounts' commands must leave alone."""

    spot: dict[str, int]
    positions: dict[str, object]
    settings: object


def _views(state: EngineState) -> dict[SubaccountId, SubaccountView]:
    views = {
        subaccount_id: SubaccountView({}, {}, subaccount) for subaccount_id, subaccount in state.subaccounts.items()
    }
    for (account, symbol), balance in state.ledger.items():
        if account.kind is LedgerKind.SPOT and balance:
            views[SubaccountId(account.owner)].spot[symbol] = balance
    for (subaccount_id, symbol), position in state.positions.items():
        views[subaccount_id].positions[symbol] = position
    return views


def _acting_subaccounts(command: Command) -> frozenset[SubaccountId]:
    match command:
        case Deposit() | Withdraw() | ExecuteBorrowLend() | UpdateSettings():
            return frozenset({command.subaccount_id})
        case Transfer():
            return frozenset({command.source_subaccount_id, command.target_subaccount_id})
        case _:
            return frozenset()


def _voluntary_actor(step: Step) -> SubaccountId | None:
    """Return the subaccount INV-MARGIN-1 binds after this step, if the step was a voluntary action."""
    if not isinstance(step.result, Accepted):
        return None
    match step.command:
        case Withdraw():
            return step.command.subaccount_id
        case Transfer():
            return step.command.source_subaccount_id
        case UpdateSettings() if step.command.leverage_limit not in (
            None,
            step.before.subaccounts[step.command.subaccount_id].leverage_limit,
        ):
            return step.command.subaccount_id
        case ExecuteBorrowLend():
            borrowed = any(
                isinstance(event, BorrowLendMoved) and event.event_type is BorrowLendEventType.BORROW
                for event in step.result.events
            )
            return step.command.subaccount_id if borrowed else None
        case _:
            return None


def _moves_pool_later(events: tuple[Event, ...], symbol: str) -> bool:
    """Return whether any of these events moves the pool of `symbol` (its utilization)."""
    return any(
        isinstance(event, InterestCharged | BorrowLendMoved | EntryFeeCharged) and event.symbol == symbol
        for event in events
    )


class EngineMachine(RuleBasedStateMachine):
    """Random commands through engine.execute; invariants and the reference model after each."""

    def __init__(self) -> None:
        super().__init__()
        self.state = EngineState()
        self.model = ReferenceModel()
        self.now_ms = START_MS
        # The commands of the current rule (usually one); the invariants check each of them.
        self.steps: list[Step] = []
        self._accrued: EngineState | None = None

    # Executing ------------------------------------------------------------------------------

    def _run(self, command: Command, label: str = "set-up", *, continues: bool = False) -> Accepted | Rejected:
        """Execute one command and record it; `continues` keeps the rule's earlier steps."""
        before = clone_state(self.state)
        if continues:
            self.steps[-1].after = before
        else:
            self.steps = []
        result = execute(self.state, command, self.now_ms)
        self._accrued = None
        if isinstance(result, Accepted):
            self.model.apply(command, result.events, self.state, self.now_ms)
        self.steps.append(Step(command, result, before, self.state))
        outcome = "accepted" if isinstance(result, Accepted) else result.rejection.reason.value
        if currently_in_test_context():  # the plain tests below drive the machine by hand
            event(f"{label}: {outcome}")  # shown by --hypothesis-show-statistics
        return result

    def _set_up(self, command: Command) -> None:
        result = self._run(command)
        assert isinstance(result, Accepted), f"set-up command {command} is accepted: {result}"
        self.audit_passes()
        self.engine_agrees_with_reference_model()
        self.command_changes_only_its_subaccounts()

    def _accrued_state(self) -> EngineState:
        """Return the state as the next command will see it: with the interest due by now charged.

        What-if questions (max borrowable, the current debt) must be asked of this view: the
        engine charges the hours that have fallen due before it applies the next command.
        """
        if self.state.now_ms == self.now_ms:
            return self.state
        if self._accrued is None:
            self._accrued = clone_state(self.state)
            assert isinstance(execute(self._accrued, Tick(), self.now_ms), Accepted)
        return self._accrued

    def _tx(self) -> Transaction:
        return Transaction(self._accrued_state(), self.now_ms)

    def _lend_atoms(self, subaccount_id: SubaccountId, symbol: str) -> int:
        return self._tx().holding(subaccount_id, symbol).lend_atoms

    def _debt_atoms(self, subaccount_id: SubaccountId, symbol: str) -> int:
        return self._tx().holding(subaccount_id, symbol).debt_atoms

    def _spot_atoms(self, subaccount_id: SubaccountId, symbol: str) -> int:
        return self.state.ledger.get((spot(subaccount_id), symbol), 0)

    def _holders(self) -> list[tuple[SubaccountId, str]]:
        return sorted(
            (SubaccountId(account.owner), symbol)
            for (account, symbol), balance in self.state.ledger.items()
            if account.kind is LedgerKind.SPOT and balance > 0
        )

    def _positions(self, *, debt: bool) -> list[tuple[SubaccountId, str]]:
        return sorted(key for key, position in self.state.positions.items() if bool(position.debt_scaled) == debt)

    # Set-up ---------------------------------------------------------------------------------

    @initialize(
        offset_ms=st.integers(0, 3_600_000 - 1),
        supply_usd=st.sampled_from([20_000, 1_000_000, 20_000_000]),
        auto_lend=st.lists(st.booleans(), min_size=5, max_size=5),
        auto_repay=st.lists(st.booleans(), min_size=5, max_size=5),
        leverage=st.lists(st.none() | leverage_limits(), min_size=5, max_size=5),
        collateral=st.lists(st.tuples(symbols, usd_values, dust_atoms), min_size=5, max_size=5),
    )
    def set_up(
        self,
        offset_ms: int,
        supply_usd: int,
        auto_lend: list[bool],
        auto_repay: list[bool],
        leverage: list[Ratio | None],
        collateral: list[tuple[str, int, int]],
    ) -> None:
        self.now_ms = START_MS + offset_ms
        self._set_up(ConfigureAssets(tuple(DEMO_SPECS.values())))
        for account_id in sorted(set(ACCOUNT_OF.values())):
            members = [subaccount for subaccount, owner in ACCOUNT_OF.items() if owner == account_id]
            self._set_up(CreateAccount())
            for _ in members[1:]:
                self._set_up(CreateSubaccount(account_id))
        assert sorted(self.state.subaccounts) == sorted(SUBACCOUNTS)
        self._set_up(SetMarkPrices(tuple(DEMO_PRICES_WAD.items())))
        for symbol in DEMO_SYMBOLS:
            supplied = _atoms_worth(symbol, supply_usd, 0)
            self._set_up(Deposit(SUPPLIER, symbol, supplied))
            self._set_up(ExecuteBorrowLend(SUPPLIER, symbol, BorrowLendSide.LEND, supplied))
        for index, subaccount_id in enumerate(TRADERS):
            self._set_up(
                UpdateSettings(
                    subaccount_id,
                    leverage_limit=leverage[index],
                    auto_lend=auto_lend[index] and index in (0, 3),  # about one trader in five
                    auto_repay_borrows=auto_repay[index],
                )
            )
            symbol, usd, dust = collateral[index]
            self._set_up(Deposit(subaccount_id, symbol, _atoms_worth(symbol, usd, dust)))

    # Rules: money in and out ----------------------------------------------------------------

    @rule(subaccount_id=subaccounts, symbol=symbols, usd=usd_values, dust=dust_atoms)
    def deposit(self, subaccount_id: SubaccountId, symbol: str, usd: int, dust: int) -> None:
        self._run(Deposit(subaccount_id, symbol, _atoms_worth(symbol, usd, dust)), "deposit")

    @rule(
        subaccount_id=subaccounts,
        symbol=symbols,
        mode=st.sampled_from(["part", "all", "max", "beyond_max", "with_borrow"]),
        percent=percents,
        auto_borrow=st.booleans(),
        auto_lend_redeem=st.booleans(),
    )
    def withdraw(
        self,
        subaccount_id: SubaccountId,
        symbol: str,
        mode: str,
        percent: int,
        auto_borrow: bool,
        auto_lend_redeem: bool,
    ) -> None:
        held = self._spot_atoms(subaccount_id, symbol)
        most = compute_max_withdrawal(
            self._tx(), subaccount_id, symbol, auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem
        )
        quantity = {
            "part": held * percent // 100,
            "all": held,
            "max": most,
            "beyond_max": most + 1,
            "with_borrow": held + self._lend_atoms(subaccount_id, symbol) + percent * 10**4,
        }[mode]
        command = Withdraw(subaccount_id, symbol, max(1, quantity), auto_borrow, auto_lend_redeem)
        result = self._run(command, f"withdraw {mode}")
        if mode == "max" and most > 0:
            assert isinstance(result, Accepted), f"withdrawing the max withdrawal {most} is accepted: {result}"
        if mode == "beyond_max":
            assert isinstance(result, Rejected), f"withdrawing one atom past the max withdrawal {most} is refused"

    # `target` is reserved by @rule (bundles), so the receiving side is called `destination`.
    @rule(
        source=subaccounts,
        kind=st.sampled_from(["sibling", "sibling", "sibling", "other_account", "self"]),
        pick=picks,
        symbol=symbols,
        percent=percents,
        with_lend=st.booleans(),
    )
    def transfer(self, source: SubaccountId, kind: str, pick: int, symbol: str, percent: int, with_lend: bool) -> None:
        siblings = [other for other in SUBACCOUNTS if ACCOUNT_OF[other] == ACCOUNT_OF[source] and other != source]
        strangers = [other for other in SUBACCOUNTS if ACCOUNT_OF[other] != ACCOUNT_OF[source]]
        choices = {"sibling": siblings or [source], "other_account": strangers, "self": [source]}[kind]
        destination = choices[pick % len(choices)]
        available = self._spot_atoms(source, symbol) + (self._lend_atoms(source, symbol) if with_lend else 0)
        command = Transfer(source, destination, symbol, max(1, available * percent // 100))
        result = self._run(command, f"transfer to {kind}")
        if ACCOUNT_OF[source] != ACCOUNT_OF[destination] or source == destination:
            assert isinstance(result, Rejected), "transfers move only between two subaccounts of one account"

    # Rules: the borrow-lend book ------------------------------------------------------------

    @precondition(lambda self: bool(self._holders()))
    @rule(pick=picks, mode=st.sampled_from(["part", "all", "one", "beyond"]), percent=percents)
    def lend(self, pick: int, mode: str, percent: int) -> None:
        holders = self._holders()
        subaccount_id, symbol = holders[pick % len(holders)]
        held = self._spot_atoms(subaccount_id, symbol)
        quantity = {"part": held * percent // 100, "all": held, "one": 1, "beyond": held + 1}[mode]
        result = self._run(
            ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.LEND, max(1, quantity)), f"lend {mode}"
        )
        if mode == "beyond":
            assert isinstance(result, Rejected), "a lend (or repay) past the spot balance is refused"

    @precondition(lambda self: bool(self._positions(debt=False)))
    @rule(pick=picks, mode=st.sampled_from(["part", "all", "all_but_one", "one", "beyond"]), percent=percents)
    def redeem(self, pick: int, mode: str, percent: int) -> None:
        lenders = self._positions(debt=False)
        subaccount_id, symbol = lenders[pick % len(lenders)]
        lent = self._lend_atoms(subaccount_id, symbol)
        quantity = {
            "part": lent * percent // 100,
            "all": lent,
            "all_but_one": lent - 1,
            "one": 1,
            "beyond": lent + 1,
        }[mode]
        command = ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.BORROW, max(1, quantity))
        result = self._run(command, f"redeem {mode}")
        if mode == "beyond":
            assert isinstance(result, Rejected), "a Borrow past the lend is refused: redeem first, then borrow"

    @rule(
        subaccount_id=subaccounts,
        symbol=symbols,
        mode=st.sampled_from(["part", "max", "beyond_max", "one"]),
        percent=percents,
    )
    def borrow(self, subaccount_id: SubaccountId, symbol: str, mode: str, percent: int) -> None:
        most = compute_max_borrowable(self._tx(), subaccount_id, symbol)
        step = DEMO_SPECS[symbol].step_atoms
        quantity = {"part": most * percent // 100, "max": most, "beyond_max": most + step, "one": step}[mode]
        # A Borrow on an asset the subaccount lends is a redeem; with auto-lend on it is refused.
        may_borrow = not self.state.subaccounts[subaccount_id].auto_lend and not self._lend_atoms(subaccount_id, symbol)
        command = ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.BORROW, max(step, quantity))
        result = self._run(command, f"borrow {mode}")
        if mode == "max" and most > 0:
            assert isinstance(result, Accepted), f"borrowing max borrowable {most} of {symbol} is accepted: {result}"
        if mode == "beyond_max" and may_borrow:
            assert isinstance(result, Rejected), f"borrowing one step past max borrowable {most} is refused"

    @precondition(lambda self: bool(self._positions(debt=True)))
    @rule(pick=picks, mode=st.sampled_from(["part", "all", "one", "beyond", "spot"]), percent=percents)
    def repay(self, pick: int, mode: str, percent: int) -> None:
        borrowers = self._positions(debt=True)
        subaccount_id, symbol = borrowers[pick % len(borrowers)]
        debt = self._debt_atoms(subaccount_id, symbol)
        held = self._spot_atoms(subaccount_id, symbol)
        settings = self.state.subaccounts[subaccount_id]
        topped_up = mode == "all" and held < debt and not (settings.auto_repay_borrows or settings.auto_lend)
        if topped_up:
            # Repay-all needs the whole debt in spot: top it up first (without auto-repay, which
            # would repay on arrival), then repay the debt to the last atom.
            self._run(Deposit(subaccount_id, symbol, debt - held), "top up to repay all")
            held = debt
        quantity = {
            "part": debt * percent // 100,
            "all": debt,
            "one": 1,
            "beyond": debt + 1,
            "spot": min(held, debt),
        }[mode]
        command = ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.LEND, max(1, quantity))
        result = self._run(command, f"repay {mode}", continues=topped_up)
        if mode == "beyond":
            assert isinstance(result, Rejected), "a Lend past the debt is refused: repay first, then lend"
        if mode == "all" and isinstance(result, Accepted):
            assert (subaccount_id, symbol) not in self.state.positions, "repay-all leaves no dust of debt"

    @precondition(lambda self: bool(self._positions(debt=True)))
    @rule(pick=picks, offset=st.sampled_from([-1, 0, 0, 1, 1_000]))
    def deposit_around_debt(self, pick: int, offset: int) -> None:
        # Brings the spot balance to the debt, one atom short of it or just past it: repay-all
        # and auto-repay (with autoRepayBorrows or autoLend on) meet the exact boundary.
        borrowers = self._positions(debt=True)
        subaccount_id, symbol = borrowers[pick % len(borrowers)]
        missing = self._debt_atoms(subaccount_id, symbol) - self._spot_atoms(subaccount_id, symbol) + offset
        self._run(Deposit(subaccount_id, symbol, max(1, missing)), f"deposit around debt {offset:+}")

    # Rules: the world -----------------------------------------------------------------------

    @rule(symbol=symbols, percent=st.integers(50, 200))
    def move_price(self, symbol: str, percent: int) -> None:
        current = self.state.mark_prices_wad[symbol]
        start = DEMO_PRICES_WAD[symbol]
        moved = min(max(current * percent // 100, start // 20), start * 20)
        self._run(SetMarkPrices(((symbol, moved),)), "move price")

    @rule(
        subaccount_id=subaccounts,
        leverage=st.one_of(
            st.none(), leverage_limits(), leverage_limits(), st.sampled_from([Ratio(WAD // 2), Ratio(101 * WAD)])
        ),
        auto_lend=st.none() | st.booleans(),
        auto_repay=st.none() | st.booleans(),
    )
    def change_settings(
        self, subaccount_id: SubaccountId, leverage: Ratio | None, auto_lend: bool | None, auto_repay: bool | None
    ) -> None:
        result = self._run(UpdateSettings(subaccount_id, leverage, auto_lend, auto_repay), "change settings")
        if leverage is not None and not Ratio(WAD) <= leverage <= Ratio(100 * WAD):
            assert isinstance(result, Rejected), "leverage limits outside 1x-100x are refused"

    @rule(elapsed_ms=clock_jumps_ms(), tick=st.booleans())
    def advance_clock(self, elapsed_ms: int, tick: bool) -> None:
        # Without a tick, the hours that fall due are charged by the next command (or dropped
        # with it if it is refused, and charged again by the one after).
        self.now_ms += elapsed_ms
        self._accrued = None
        if not tick:
            self.steps = []
            return
        result = self._run(Tick(), "advance clock")
        assert isinstance(result, Accepted), "time may always pass"

    # Invariants -----------------------------------------------------------------------------

    @invariant()
    def audit_passes(self) -> None:
        failed = [check for check in audit(self.state) if not check.ok]
        assert not failed, f"every invariant of the audit holds: {failed}"

    @invariant()
    def engine_agrees_with_reference_model(self) -> None:
        self.model.check(self.state)

    @invariant()
    def interest_rates_follow_the_pool_utilization(self) -> None:
        # The model takes APRs from the engine's events; this checks them against the rate curve
        # at the utilization the pool had when the rate was fixed. An hourly charge uses the
        # utilization before it: the state before the step, for the step's first hourly charge of
        # a pool. An entry fee uses the utilization *after* its borrow (GLOSSARY: entry fee): the
        # state after the step, when the borrow is the last thing of the step to move that pool.
        for step in self.steps:
            if not isinstance(step.result, Accepted):
                continue
            events = step.result.events
            changed: set[str] = set()  # pools whose utilization moved earlier in this step
            for number, emitted in enumerate(events):
                if isinstance(emitted, InterestCharged) and emitted.symbol not in changed:
                    self._check_rate(emitted.symbol, emitted.borrow_rate_wad, step.before)
                if isinstance(emitted, EntryFeeCharged) and not _moves_pool_later(events[number + 1 :], emitted.symbol):
                    self._check_rate(emitted.symbol, emitted.rate_wad, step.after)
                if isinstance(emitted, InterestCharged | BorrowLendMoved | EntryFeeCharged):
                    changed.add(emitted.symbol)

    @staticmethod
    def _check_rate(symbol: str, rate: int, state: EngineState) -> None:
        lowest, highest = borrow_apr_bounds(state, symbol)
        assert lowest <= Fraction(rate, WAD) <= highest, (
            f"{symbol} APR {float(Fraction(rate, WAD))} is off the curve at the pool's "
            f"utilization: expected [{float(lowest)}, {float(highest)}]"
        )

    @invariant()
    def rejected_command_changed_nothing(self) -> None:
        for step in self.steps:
            if isinstance(step.result, Rejected):
                assert step.after == step.before, f"rejected {step.command} left a trace"

    @invariant()
    def voluntary_action_keeps_margin(self) -> None:
        for step in self.steps:
            actor = _voluntary_actor(step)
            if actor is None:
                continue
            summary = compute_subaccount_margin(Transaction(step.after, self.now_ms), step.after.subaccounts[actor])
            assert summary.available_wad >= 0, f"INV-MARGIN-1: {step.command} left available {summary.available_wad}"
            assert not summary.is_liquidatable, f"INV-MARGIN-1: {step.command} left subaccount {actor} liquidatable"

    @invariant()
    def command_changes_only_its_subaccounts(self) -> None:
        for step in self.steps:
            if not isinstance(step.result, Accepted):
                continue
            acting = _acting_subaccounts(step.command)
            before, after = _views(step.before), _views(step.after)
            for subaccount_id, view in before.items():
                if subaccount_id not in acting:
                    assert after[subaccount_id] == view, (
                        f"INV-ISOLATION-1: {step.command} changed subaccount {subaccount_id}"
                    )


# Stateful examples are cheap (a few ms per step), so every profile runs four times its example
# budget here; the step count comes from the profile (dev 50, ci 80, nightly 200).
TestEngineStateful = EngineMachine.TestCase
TestEngineStateful.settings = settings(max_examples=4 * settings().max_examples)


@pytest.mark.slow
def test_engine_keeps_every_invariant_over_long_random_runs() -> None:
    """Run the same machine with four times the steps, for `make test-slow` (nightly profile)."""
    profile = settings()
    long_runs = settings(
        max_examples=max(10, profile.max_examples // 4), stateful_step_count=4 * profile.stateful_step_count
    )
    run_state_machine_as_test(EngineMachine, settings=long_runs)


def test_clone_state_equals_a_deepcopy_and_shares_no_container() -> None:
    machine = EngineMachine()
    machine.set_up(
        offset_ms=1_234,
        supply_usd=1_000_000,
        auto_lend=[True, False, False, False, False],
        auto_repay=[False, True, False, False, False],
        leverage=[None, Ratio(3 * WAD), None, None, None],
        collateral=[("BTC", 100_000, 7), ("USDC", 5_000, 0), ("ETH", 1, 999), ("SOL", 0, 1), ("USDT", 10, 0)],
    )
    machine.advance_clock(3 * 3_600_000, tick=True)
    state = machine.state
    cloned = clone_state(state)
    assert cloned == copy.deepcopy(state)
    assert cloned.ledger is not state.ledger
    assert cloned.held is not state.held
    assert all(cloned.held[key] is not state.held[key] for key in state.held)
    assert all(cloned.accruals[key] is not state.accruals[key] for key in state.accruals)
    assert cloned.movements is not state.movements


def test_raising_the_leverage_limit_while_available_margin_is_negative_is_refused() -> None:
    # Regression, found by the stateful test: the engine used to margin-check only a lower
    # leverage limit. 1000 USDC of collateral, borrow max borrowable, cross the hour: the hourly
    # interest takes available margin just below zero (about -0.04 USD). INV-MARGIN-1 lists every
    # leverage change among the voluntary actions that must not leave available < 0.
    machine = EngineMachine()
    supplier, borrower = SubaccountId(1), SubaccountId(2)
    now = START_MS + 30 * 60_000
    for command in (
        ConfigureAssets(tuple(DEMO_SPECS.values())),
        CreateAccount(),
        CreateAccount(),
        SetMarkPrices((("USDC", WAD),)),
        Deposit(supplier, "USDC", 10**12),
        ExecuteBorrowLend(supplier, "USDC", BorrowLendSide.LEND, 10**12),
        Deposit(borrower, "USDC", 1_000 * 10**6),
    ):
        assert isinstance(execute(machine.state, command, now), Accepted)
    most = compute_max_borrowable(Transaction(machine.state, now), borrower, "USDC")
    assert isinstance(
        execute(machine.state, ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, most), now), Accepted
    )
    later = now + 30 * 60_000
    assert isinstance(execute(machine.state, Tick(), later), Accepted)
    subaccount = machine.state.subaccounts[borrower]
    assert compute_subaccount_margin(Transaction(machine.state, later), subaccount).available_wad < 0
    result = execute(machine.state, UpdateSettings(borrower, leverage_limit=Ratio(20 * WAD)), later)
    summary = compute_subaccount_margin(Transaction(machine.state, later), machine.state.subaccounts[borrower])
    assert isinstance(result, Rejected), f"INV-MARGIN-1: 10x -> 20x accepted with available {summary.available_wad}"
    assert result.rejection.reason is RejectReason.MARGIN_INSUFFICIENT
