"""Max borrowable and max withdrawal are exact: the amount is accepted, one step more is refused.

Each example builds a random engine state through `engine.execute` (a lender supplying every pool,
a borrower with random collateral, leverage limit and an existing borrow, random prices, a random
time within the hour), then asks the engine's own what-if functions and checks their answers
against `execute` itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from hypothesis import event, given
from hypothesis import strategies as st
from tests.strategies import DEMO_PRICES_WAD, DEMO_SPECS, DEMO_SYMBOLS, leverage_limits

from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.engine import Accepted, Rejected, compute_max_borrowable, compute_max_withdrawal, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import is_margin_sufficient
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LENDER = SubaccountId(1)
BORROWER = SubaccountId(2)


def _accept(state: EngineState, command: Command, now_ms: int) -> None:
    result = execute(state, command, now_ms)
    assert isinstance(result, Accepted), f"setup command {command} must be accepted: {result}"


def _units(symbol: str, quantity: int) -> int:
    return quantity * DEMO_SPECS[symbol].unit_atoms


@dataclass(frozen=True)
class Scenario:
    """A random borrower next to well-supplied pools, at a random time."""

    state: EngineState
    now_ms: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Build a state: pools supplied, a borrower with collateral, maybe a borrow and a price move."""
    state = EngineState()
    now = START_MS + draw(st.integers(0, 3_600_000 - 1))
    # The demo assets step by one atom; coarser steps check that the max is a multiple of the step.
    steps = draw(st.fixed_dictionaries({symbol: st.sampled_from([1, 1, 100, 10_000]) for symbol in DEMO_SYMBOLS}))
    specs = tuple(replace(spec, step_atoms=steps[symbol]) for symbol, spec in DEMO_SPECS.items())
    _accept(state, ConfigureAssets(specs), now)
    _accept(state, CreateAccount(), now)
    _accept(state, CreateAccount(), now)
    _accept(state, SetMarkPrices(tuple(DEMO_PRICES_WAD.items())), now)
    lend_usd = draw(st.sampled_from([10_000, 1_000_000, 50_000_000]))
    for symbol in DEMO_SYMBOLS:
        quantity = max(1, lend_usd * WAD // DEMO_PRICES_WAD[symbol])
        _accept(state, Deposit(LENDER, symbol, _units(symbol, quantity)), now)
        _accept(state, ExecuteBorrowLend(LENDER, symbol, BorrowLendSide.LEND, _units(symbol, quantity)), now)
    collateral = draw(st.dictionaries(st.sampled_from(DEMO_SYMBOLS), st.integers(1, 10**14), min_size=1, max_size=3))
    for symbol, atoms in sorted(collateral.items()):
        _accept(state, Deposit(BORROWER, symbol, atoms), now)
    _accept(state, UpdateSettings(BORROWER, leverage_limit=draw(leverage_limits())), now)
    existing = draw(st.sampled_from(DEMO_SYMBOLS))
    if draw(st.booleans()):
        most = compute_max_borrowable(Transaction(state, now), BORROWER, existing)
        step = steps[existing]
        part = most * draw(st.integers(1, 100)) // 100 // step * step
        if part > 0:
            _accept(state, ExecuteBorrowLend(BORROWER, existing, BorrowLendSide.BORROW, part), now)
    moved = draw(st.sampled_from(DEMO_SYMBOLS))
    factor_percent = draw(st.integers(50, 200))
    _accept(state, SetMarkPrices(((moved, DEMO_PRICES_WAD[moved] * factor_percent // 100),)), now)
    later = now + draw(st.sampled_from([0, 1, 60_000, 3_600_000, 86_400_000]))
    _accept(state, Tick(), later)
    return Scenario(state, later)


@given(scenario=scenarios(), symbol=st.sampled_from(DEMO_SYMBOLS))
def test_borrowing_max_borrowable_succeeds_and_one_step_more_is_refused(scenario: Scenario, symbol: str) -> None:
    state, now = scenario.state, scenario.now_ms
    step = state.specs[symbol].step_atoms
    most = compute_max_borrowable(Transaction(state, now), BORROWER, symbol)
    assert most % step == 0, f"max borrowable {most} is a multiple of the step {step}"
    event("max borrowable is zero" if most == 0 else f"max borrowable is positive (step {step})")
    beyond = copy.deepcopy(state)
    refused = execute(beyond, ExecuteBorrowLend(BORROWER, symbol, BorrowLendSide.BORROW, most + step), now)
    assert isinstance(refused, Rejected), f"borrowing {most + step} atoms of {symbol}, past the max {most}, is refused"
    assert beyond == state, "a refused borrow leaves no trace"
    if most == 0:
        return
    accepted = execute(state, ExecuteBorrowLend(BORROWER, symbol, BorrowLendSide.BORROW, most), now)
    assert isinstance(accepted, Accepted), f"borrowing the max {most} atoms of {symbol} is accepted: {accepted}"
    assert is_margin_sufficient(Transaction(state, now), BORROWER), "INV-MARGIN-1 after borrowing the max"


@given(
    scenario=scenarios(),
    symbol=st.sampled_from(DEMO_SYMBOLS),
    auto_borrow=st.booleans(),
    auto_lend_redeem=st.booleans(),
)
def test_withdrawing_max_withdrawal_succeeds_and_one_atom_more_is_refused(
    scenario: Scenario, symbol: str, auto_borrow: bool, auto_lend_redeem: bool
) -> None:
    state, now = scenario.state, scenario.now_ms
    most = compute_max_withdrawal(
        Transaction(state, now), BORROWER, symbol, auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem
    )
    event("max withdrawal is zero" if most == 0 else "max withdrawal is positive")
    beyond = copy.deepcopy(state)
    refused = execute(beyond, Withdraw(BORROWER, symbol, most + 1, auto_borrow, auto_lend_redeem), now)
    assert isinstance(refused, Rejected), f"withdrawing {most + 1} atoms of {symbol}, past the max {most}, is refused"
    assert beyond == state, "a refused withdrawal leaves no trace"
    if most == 0:
        return
    accepted = execute(state, Withdraw(BORROWER, symbol, most, auto_borrow, auto_lend_redeem), now)
    assert isinstance(accepted, Accepted), f"withdrawing the max {most} atoms of {symbol} is accepted: {accepted}"
    assert is_margin_sufficient(Transaction(state, now), BORROWER), "INV-MARGIN-1 after withdrawing the max"


def test_ten_times_available_equity_is_borrowable_in_usdc_as_the_faq_says() -> None:
    # 1000 USDC of collateral, default 10x leverage: b * (IMF 0.1 + 1 - weight 1) <= 1000 -> b ~ 10000.
    state = EngineState()
    now = START_MS
    _accept(state, ConfigureAssets(tuple(DEMO_SPECS.values())), now)
    _accept(state, CreateAccount(), now)
    _accept(state, CreateAccount(), now)
    _accept(state, SetMarkPrices(tuple(DEMO_PRICES_WAD.items())), now)
    _accept(state, Deposit(LENDER, "USDC", _units("USDC", 1_000_000)), now)
    _accept(state, ExecuteBorrowLend(LENDER, "USDC", BorrowLendSide.LEND, _units("USDC", 1_000_000)), now)
    _accept(state, Deposit(BORROWER, "USDC", _units("USDC", 1_000)), now)
    most = compute_max_borrowable(Transaction(state, now), BORROWER, "USDC")
    # The entry fee (one hour at the pool's rate) and sqrt IMF term shave a little off 10000.
    assert _units("USDC", 9_000) < most < _units("USDC", 10_000)
