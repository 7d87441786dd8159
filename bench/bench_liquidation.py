"""Liquidation of N accounts in one crash: CPU time, and how it grows with N.

For N = 1,000, 3,000 and 10,000, the state is built through the engine (`execute`, no journal):
a lender supplies the USDC pool, the insurance fund gets a top-up, and N subaccounts each deposit
some BTC (seeded, 0.1 to 2 BTC) and withdraw USDC with auto-borrow at 60,000: a debt of 96% to
102% of what its BTC will count for as collateral after the crash (within what
`compute_max_withdrawal` allows; about 80% to 85% of that maximum). Then BTC crashes 20% to 48,000 (`SetMarkPrices`),
and a market maker (the demo maker's way: post-only bids from one subaccount) lays a ladder of
bids every 0.05% below the new price, deep enough for every BTC of every account. At that price
every account is at MMR >= 100%: those still with equity are sold down on the book to MMR <= 50%,
the rest (about a third) have none left and go to the insurance fund (backstop).

The timed part is what the risk monitor does, directly on the engine state: bring `RiskColumns`
up to date with the crash's events and update the `RiskScreen` headroom (*screen*), confirm the
candidates with the exact integer math (*confirm*), and run `Liquidate` for every confirmed or
still-liquidating subaccount (*liquidate*), round after round, until none is liquidatable or
liquidating. The columns were built before the crash, as the monitor keeps them. The run checks
that no subaccount is left liquidatable or liquidating and that the state passes `audit`.

Growth: (ms at 10,000 / ms at 1,000) / 10, where 1.0 means linear. Times are process CPU time
(`time.process_time`), not wall time, because the machine is shared and noisy (wall time is shown
too). The whole run takes about 30 s of CPU, a minute of wall time on the shared 2-core box.
Whatever garbage the build left is collected before the clock starts (`gc.collect()`, as the other
benchmarks do), so no collection of the build's objects lands in the timed part; at 10,000 accounts
this measured no difference (7,170 ms without, 7,192 ms with, one run each).

Measured at e237d6a (issue 13, "measure and cut"; best of 3 interleaved fresh processes at 1,000
with load average ~5 on 2 cores, one run each at 10,000 with load ~10; before = e8812ef with the
same harness):
  accounts  core       before      after     ratio
     1,000  pure     1,829/s    1,827/s    x1.00
     1,000  mypyc    2,468/s    2,566/s    x1.04
    10,000  pure     1,380/s    1,382/s    x1.00
    10,000  mypyc    2,020/s    2,261/s    x1.12 (one run each: within the noise)
  Function calls (cProfile, 500 accounts; deterministic): 2,807 -> 2,689 per account (-4.2%);
  `Transaction` objects 9.2 -> 5.9 per account; margin computations 7.2 per account, unchanged.
  One round, one Liquidate per account (8 steps are enough: 1 to 2 sell steps each).
Where the time goes (timers around the core functions, pure core, 1,000 accounts, ~780 us of CPU
per account): screen 64 us, confirm 30 us, `Liquidate` 690 us = 1.55 steps x (the step's IOC
order through `run_order` and matching ~75 us + two what-if fee runs, with and without the fee,
~90 us each: charge and repay ~38 us, margin ~32 us) + 2 margin computations before the steps +
0.35 backstops x ~130 us + commits (4.1 x ~11 us), the fee put on the fill (~14 us), start and
finish (~13 us each). Margin: 5.8 computations per `Liquidate`, 1 more in confirm, ~24% of the
time; each is of a different state (before the step, after it without its fee, after it with its
fee; before and after the start, which cancels orders; after a takeover), and each recomputes
only the lines whose inputs changed (`EngineState.margin_lines`) — in a step both of the account's
lines change (BTC sold, USDC repaid). 10,000 accounts/s is 100 us per account for everything:
less than one step's order and its two what-ifs cost today, pure or compiled.
"""

from __future__ import annotations

import functools
import gc
import os
import random
import sys
import time
from dataclasses import dataclass, field

from bench.common import PURE_CORE_NOTE, in_pure_core, print_rows, profile_rows, progress, save
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SetMarkPrices,
    Withdraw,
)
from crossmargin.core.engine import Accepted, compute_max_withdrawal, execute
from crossmargin.core.events import AccountCreated, Event, LiquidationFinished, LiquidationStarted
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderFlags, OrderSide, OrderType
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs
from crossmargin.risk import kernels
from crossmargin.risk.columns import RiskColumns
from crossmargin.risk.plan import plan_liquidations
from crossmargin.risk.screen import RiskScreen, confirm

SIZES = tuple(int(size) for size in os.environ.get("BENCH_LIQUIDATION_SIZES", "1000,3000,10000").split(","))
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: no settlement, interest or funding falls due in the run
PRICE = 60_000
CRASH_PRICE = 48_000  # -20%
PROFILE_ACCOUNTS = 300
DEBT_PER_CRASH_COLLATERAL = (0.96, 1.02)
"""Each debt over its BTC's collateral value at the crash price: above 1/1.05 every account is at MMR >= 100%
after the crash; below 1 it still has equity to sell down on the book, above 1 it goes to the fund."""
BTC_RANGE = (10, 200)  # hundredths of a BTC
LADDER_LEVELS = 100  # bids every 0.05% below the crash price: 5%, the liquidation band
LADDER_SPACING_WAD = WAD // 2_000
FUND_USDC_PER_ACCOUNT = 1_000  # the insurance fund's top-up, so backstops rarely need loss sharing
SEED = 20_240_605
ROUNDS_MAX = 1_000
USDC, BTC = 10**6, 10**8


def _accept(state: EngineState, command: Command) -> tuple[Event, ...]:
    result = execute(state, command, START_MS)
    assert isinstance(result, Accepted), f"{command}: {result}"
    return result.events


def _account(state: EngineState) -> SubaccountId:
    events = _accept(state, CreateAccount())
    return next(event.subaccount_id for event in events if isinstance(event, AccountCreated))


def build(count: int) -> tuple[EngineState, list[SubaccountId], int]:
    """Return the state with `count` BTC-backed USDC borrowers, their subaccounts and their BTC in atoms."""
    state = EngineState()
    document = load_document()
    assets = parse_asset_specs(document)
    _accept(state, ConfigureAssets(assets))
    _accept(state, ConfigureMarkets(parse_market_specs(document, assets)))
    _accept(state, SetMarkPrices((("USDC", WAD), ("USDT", WAD), ("BTC", PRICE * WAD))))
    lender = _account(state)
    supply = count * 100_000 * USDC
    _accept(state, Deposit(lender, "USDC", supply))
    _accept(state, ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, supply))
    _accept(state, Deposit(INSURANCE_FUND_ID, "USDC", count * FUND_USDC_PER_ACCOUNT * USDC))
    rng = random.Random(SEED)
    borrowers = [_account(state) for _ in range(count)]
    holdings = [rng.randint(*BTC_RANGE) * BTC // 100 for _ in borrowers]
    for sub, btc in zip(borrowers, holdings, strict=True):
        _accept(state, Deposit(sub, "BTC", btc))
    # What each BTC holding counts for as collateral at the crash price (the weight depends on the size).
    _accept(state, SetMarkPrices((("BTC", CRASH_PRICE * WAD),)))
    tx = Transaction(state, START_MS)
    crash_collateral = [compute_subaccount_margin(tx, state.subaccounts[sub]).collateral_value_wad for sub in borrowers]
    _accept(state, SetMarkPrices((("BTC", PRICE * WAD),)))
    for number, (sub, collateral_wad) in enumerate(zip(borrowers, crash_collateral, strict=True)):
        wanted = int(collateral_wad * rng.uniform(*DEBT_PER_CRASH_COLLATERAL)) // (WAD // USDC)
        if not isinstance(execute(state, Withdraw(sub, "USDC", wanted, auto_borrow=True), START_MS), Accepted):
            # Above what the margin allows at 60,000 (a large holding's weight falls): take the most it does.
            tx = Transaction(state, START_MS)
            most = compute_max_withdrawal(tx, sub, "USDC", auto_borrow=True, auto_lend_redeem=False)
            _accept(state, Withdraw(sub, "USDC", most, auto_borrow=True))
        if (number + 1) % 2_000 == 0:
            progress(f"  {number + 1:,} of {count:,} borrowers built")
    return state, borrowers, sum(holdings)


def crash(state: EngineState, total_btc: int) -> tuple[Event, ...]:
    """Drop BTC 20% and lay the market maker's bid ladder under the new price; return the events."""
    events = list(_accept(state, SetMarkPrices((("BTC", CRASH_PRICE * WAD),))))
    maker = _account(state)
    spec = state.markets["BTC_USDC"]
    level_atoms = -(-2 * total_btc // LADDER_LEVELS // spec.step_atoms) * spec.step_atoms
    _accept(state, Deposit(maker, "USDC", 2 * total_btc * CRASH_PRICE * USDC // BTC))
    for level in range(1, LADDER_LEVELS + 1):
        price = CRASH_PRICE * WAD - CRASH_PRICE * LADDER_SPACING_WAD * level
        price -= price % spec.tick_size_wad
        bid = PlaceOrder(
            maker, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, level_atoms, price, flags=OrderFlags(post_only=True)
        )
        events.extend(_accept(state, bid))
    return tuple(events)


@dataclass(slots=True)
class Timing:
    """CPU seconds per phase, and what was done."""

    screen: float = 0.0
    confirm: float = 0.0
    liquidate: float = 0.0
    rounds: int = 0
    commands: int = 0
    liquidated: set[SubaccountId] = field(default_factory=set)
    backstopped: int = 0

    @property
    def total(self) -> float:
        """Return the CPU seconds of all three phases."""
        return self.screen + self.confirm + self.liquidate


def liquidate_all(state: EngineState, columns: RiskColumns, events: tuple[Event, ...]) -> Timing:
    """Screen, confirm and liquidate round after round, as the risk monitor does, until nothing is left."""
    screen = RiskScreen(columns)
    timing = Timing()
    liquidating: set[SubaccountId] = set()
    while timing.rounds < ROUNDS_MAX:
        started = time.process_time()
        changes = columns.apply_events(state, events)
        rows = screen.update(changes)
        candidates = screen.subaccounts(rows)
        screened = time.process_time()
        targets = plan_liquidations(candidates, liquidating, functools.partial(confirm, state))
        confirmed = time.process_time()
        timing.screen += screened - started
        timing.confirm += confirmed - screened
        if not targets:
            return timing
        produced: list[Event] = []
        for sub in targets:
            result = execute(state, Liquidate(sub), START_MS)
            if isinstance(result, Accepted):
                produced.extend(result.events)
        timing.liquidate += time.process_time() - confirmed
        timing.rounds += 1
        timing.commands += len(targets)
        for event in produced:
            if isinstance(event, LiquidationStarted):
                liquidating.add(event.subaccount_id)
                timing.liquidated.add(event.subaccount_id)
            elif isinstance(event, LiquidationFinished):
                liquidating.discard(event.subaccount_id)
                timing.backstopped += event.backstopped
        events = tuple(produced)
    raise AssertionError(f"still liquidating after {ROUNDS_MAX} rounds")


def check(state: EngineState, borrowers: list[SubaccountId], timing: Timing) -> None:
    """Assert that every borrower was liquidated and none is left liquidatable or liquidating; audit."""
    tx = Transaction(state, START_MS)
    assert timing.liquidated == set(borrowers), "the crash makes every borrower liquidatable"
    for sub in borrowers:
        subaccount = state.subaccounts[sub]
        assert not subaccount.liquidating
        assert not compute_subaccount_margin(tx, subaccount).is_liquidatable
    failed = [item for item in audit(state) if not item.ok]
    assert not failed, failed


def measure_size(count: int) -> dict[str, float | int]:
    """Build, crash, liquidate and check one size; return its figures."""
    progress(f"{count:,} accounts: building through the engine")
    state, borrowers, total_btc = build(count)
    columns = RiskColumns.from_state(state)
    RiskScreen(columns).sweep()
    events = crash(state, total_btc)
    progress(f"{count:,} accounts: BTC -20%, liquidating")
    gc.collect()  # the build's garbage is not the liquidation's: collected before the clock starts
    wall_started = time.perf_counter()
    timing = liquidate_all(state, columns, events)
    wall = time.perf_counter() - wall_started
    check(state, borrowers, timing)
    figures: dict[str, float | int] = {
        "accounts": count,
        "total_ms": round(timing.total * 1e3, 1),
        "wall_ms": round(wall * 1e3, 1),
        "screen_ms": round(timing.screen * 1e3, 1),
        "confirm_ms": round(timing.confirm * 1e3, 1),
        "liquidate_ms": round(timing.liquidate * 1e3, 1),
        "accounts_per_s": round(count / timing.total),
        "rounds": timing.rounds,
        "liquidate_commands": timing.commands,
        "backstopped": timing.backstopped,
        "steps": len(state.liquidation_steps),
        "fees_usdc": sum(step.fee_atoms for step in state.liquidation_steps if step.fee_symbol == "USDC") // USDC,
        "lend_index_cuts": len(state.lend_index_cuts),
    }
    progress(f"{count:,} accounts: {figures['total_ms']} ms CPU in {timing.rounds} rounds")
    return figures


def warm_up() -> None:
    """Compile (or load) the screen's kernels before anything is timed."""
    state, _, total_btc = build(20)
    columns = RiskColumns.from_state(state)
    RiskScreen(columns).sweep()
    liquidate_all(state, columns, crash(state, total_btc))


def report(results: list[dict[str, float | int]]) -> None:
    """Print the table and the growth; save the JSON."""
    print(f"\nLiquidation of N accounts in one crash (BTC -20%), CPU time, numba screen: {kernels.HAVE_NUMBA}")
    header = ("accounts", "CPU ms", "wall ms", "accounts/s", "screen", "confirm", "liquidate", "rounds", "backstop")
    print("".join(f"{name:>12}" for name in header))
    for row in results:
        total = float(row["total_ms"])
        shares = [f"{100 * float(row[name]) / total:.1f}%" for name in ("screen_ms", "confirm_ms", "liquidate_ms")]
        cells = (row["accounts"], row["total_ms"], row["wall_ms"], row["accounts_per_s"], *shares, row["rounds"])
        print("".join(f"{cell:>12}" for cell in (*cells, row["backstopped"])))
    first, last = results[0], results[-1]
    growth = (float(last["total_ms"]) / float(first["total_ms"])) / (int(last["accounts"]) / int(first["accounts"]))
    print("accounts/s and the shares are of CPU time; screen = columns + headroom update, confirm and liquidate exact")
    print(f"growth {first['accounts']:,} -> {last['accounts']:,}: {growth:.2f}x linear (1.0 = linear)")
    path = save(
        "liquidation",
        {"sizes": results, "growth": round(growth, 3), "at": time.strftime("%Y-%m-%dT%H:%M:%S")},
    )
    print(f"saved {path}", file=sys.stderr)


def profile_crash() -> list[dict[str, object]]:
    """Return the top functions of a crash liquidation of PROFILE_ACCOUNTS accounts under cProfile (kernels warmed first)."""
    warm_up()
    state, _, total_btc = build(PROFILE_ACCOUNTS)
    columns = RiskColumns.from_state(state)
    RiskScreen(columns).sweep()
    events = crash(state, total_btc)
    gc.collect()
    return profile_rows(lambda: liquidate_all(state, columns, events), top=16)


def main() -> None:
    """Measure every size and print the table."""
    progress("warming up the screen's kernels")
    warm_up()
    report([measure_size(count) for count in SIZES])
    rows = in_pure_core("bench.bench_liquidation", "profile_crash")
    print_rows(
        f"where a crash liquidation's time goes ({PROFILE_ACCOUNTS:,} accounts under cProfile, {PURE_CORE_NOTE})", rows
    )
    margins = sum(int(str(row["calls"])) for row in rows if "(compute_subaccount_margin)" in str(row["function"]))
    print(f"  margin computations per account (screen, confirm and liquidate): {margins / PROFILE_ACCOUNTS:.1f}")


if __name__ == "__main__":
    main()
