"""In-memory engine throughput and hourly accrual cost.

1. Commands/s through `engine.execute` on a mixed workload (deposit, lend, borrow, repay across
   many subaccounts), against a bare Python loop doing the same dict updates in the same run.
   Aim (issue 2): the engine within 3x of the bare loop.
2. One hour of interest for 1,000 pools with 4,000 and with 100,000 positions: the time must not
   grow with the number of positions (O(1) per pool).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace

from bench.common import PURE_CORE_NOTE, best_of, in_pure_core, print_rows, profile_rows, progress, save
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
)
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState

SUBACCOUNTS = 1_000
ROUNDS = 5
PROFILE_COMMANDS = 4 * SUBACCOUNTS
USDC = 10**6
ETH = 10**8
HOUR_MS = 3_600_000


def _prepared_state() -> EngineState:
    state = EngineState()
    setup: list[Command] = [
        ConfigureAssets(load_asset_specs()),
        SetMarkPrices((("USDC", WAD), ("ETH", 3000 * WAD), ("BTC", 60_000 * WAD))),
    ]
    setup += [CreateAccount() for _ in range(SUBACCOUNTS + 1)]
    lender = SubaccountId(SUBACCOUNTS + 1)
    setup += [
        Deposit(lender, "USDC", 10**9 * USDC),
        ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, 10**9 * USDC),
    ]
    setup += [Deposit(SubaccountId(sub), "BTC", 10**8) for sub in range(1, SUBACCOUNTS + 1)]
    for command in setup:
        assert isinstance(execute(state, command, 0), Accepted)
    return state


def _workload() -> list[Command]:
    commands: list[Command] = []
    for _ in range(ROUNDS):
        for number in range(1, SUBACCOUNTS + 1):
            sub = SubaccountId(number)
            commands += [
                Deposit(sub, "ETH", ETH),
                ExecuteBorrowLend(sub, "ETH", BorrowLendSide.LEND, ETH),
                ExecuteBorrowLend(sub, "USDC", BorrowLendSide.BORROW, 100 * USDC),
                ExecuteBorrowLend(sub, "USDC", BorrowLendSide.LEND, 50 * USDC),
            ]
    return commands


def _bare_loop(commands: list[Command]) -> None:
    """The same balance updates as plain dict arithmetic: the floor any engine sits on."""
    spot: dict[tuple[int, str], int] = {}
    lend: dict[tuple[int, str], int] = {}
    debt: dict[tuple[int, str], int] = {}
    for command in commands:
        if isinstance(command, Deposit):
            key = (command.subaccount_id, command.symbol)
            spot[key] = spot.get(key, 0) + command.quantity_atoms
        elif isinstance(command, ExecuteBorrowLend):
            key = (command.subaccount_id, command.symbol)
            quantity = command.quantity_atoms
            if command.side is BorrowLendSide.BORROW:
                debt[key] = debt.get(key, 0) + quantity
                spot[key] = spot.get(key, 0) + quantity
            elif debt.get(key, 0):
                debt[key] -= quantity
                spot[key] -= quantity
            else:
                spot[key] -= quantity
                lend[key] = lend.get(key, 0) + quantity


def measure_throughput() -> dict[str, float]:
    """Return engine and bare-loop commands/s on the mixed workload."""
    commands = _workload()
    progress(f"engine: {len(commands):,} mixed commands over {SUBACCOUNTS:,} subaccounts")

    def run_engine() -> None:
        state = _prepared_state()
        gc.collect()
        gc.freeze()
        started_ms = HOUR_MS // 2
        for command in commands:
            result = execute(state, command, started_ms)
            assert isinstance(result, Accepted), result
        gc.unfreeze()

    engine_seconds = best_of(3, run_engine)
    bare_seconds = best_of(5, lambda: _bare_loop(commands))
    setup_seconds = best_of(3, _prepared_state)
    engine_seconds = max(engine_seconds - setup_seconds, 1e-9)
    return {
        "commands": len(commands),
        "engine_commands_per_second": len(commands) / engine_seconds,
        "bare_loop_commands_per_second": len(commands) / bare_seconds,
        "engine_slowdown_vs_bare_loop": engine_seconds / bare_seconds,
    }


def _pool_specs(count: int) -> tuple[AssetSpec, ...]:
    template = next(spec for spec in load_asset_specs() if spec.symbol == "USDC")
    return tuple(
        replace(template, symbol=f"A{number:04d}", open_borrow_lend_limit_atoms=10**30, borrow_limit_atoms=10**30)
        for number in range(count)
    )


def _state_with_positions(pools: int, positions: int) -> EngineState:
    state = EngineState()
    specs = _pool_specs(pools)
    commands: list[Command] = [ConfigureAssets(specs), SetMarkPrices(tuple((spec.symbol, WAD) for spec in specs))]
    commands += [CreateAccount() for _ in range(positions)]
    borrows: list[Command] = []
    for index in range(positions):
        sub = SubaccountId(index + 1)
        symbol = specs[index % pools].symbol
        commands += [Deposit(sub, symbol, 1000 * USDC)]
        side = BorrowLendSide.BORROW if (index // pools) % 4 == 3 else BorrowLendSide.LEND
        (commands if side is BorrowLendSide.LEND else borrows).append(ExecuteBorrowLend(sub, symbol, side, 100 * USDC))
    commands += borrows  # lenders first, so every pool has liquidity
    for command in commands:
        result = execute(state, command, 0)
        assert isinstance(result, Accepted), result
    return state


def measure_accrual(pools: int = 1_000, few: int = 4_000, many: int = 100_000) -> dict[str, float]:
    """Return the time of one hourly accrual with few and with many positions."""
    timings: dict[str, float] = {}
    for positions in (few, many):
        progress(f"accrual: building {pools:,} pools with {positions:,} positions")
        state = _state_with_positions(pools, positions)
        hours = iter(range(1, 1_000))

        def one_hour(state: EngineState = state, hours: Iterator[int] = hours) -> None:
            assert isinstance(execute(state, Tick(), next(hours) * HOUR_MS), Accepted)

        timings[f"accrual_seconds_{positions}_positions"] = best_of(5, one_hour)
    timings["accrual_growth_many_vs_few"] = (
        timings[f"accrual_seconds_{many}_positions"] / timings[f"accrual_seconds_{few}_positions"]
    )
    return timings


def profile_mixed() -> list[dict[str, object]]:
    """Return the top functions of PROFILE_COMMANDS mixed commands under cProfile."""
    commands = _workload()[:PROFILE_COMMANDS]
    state = _prepared_state()
    return profile_rows(lambda: [execute(state, command, HOUR_MS // 2) for command in commands])


def main() -> None:
    """Run the engine benchmarks and print their ratios."""
    print("engine benchmark (in memory, one thread)")
    throughput = measure_throughput()
    print(
        f"  engine {throughput['engine_commands_per_second']:,.0f} commands/s; bare loop "
        f"{throughput['bare_loop_commands_per_second']:,.0f}/s; engine is "
        f"{throughput['engine_slowdown_vs_bare_loop']:.1f}x slower than the bare loop (aim: <= 3x)"
    )
    hotspots = in_pure_core("bench.engine", "profile_mixed")
    print_rows(
        f"where the engine's time goes ({PROFILE_COMMANDS:,} mixed commands under cProfile, {PURE_CORE_NOTE})", hotspots
    )
    accrual = measure_accrual()
    print(
        f"  one hour of interest, 1,000 pools: {accrual['accrual_seconds_4000_positions'] * 1000:.1f} ms with 4,000 "
        f"positions, {accrual['accrual_seconds_100000_positions'] * 1000:.1f} ms with 100,000 "
        f"(ratio {accrual['accrual_growth_many_vs_few']:.2f}; O(1) per pool means ~1)"
    )
    print(f"  saved {save('engine', {**throughput, **accrual, 'hotspots': hotspots})}")


if __name__ == "__main__":
    main()
