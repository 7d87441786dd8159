"""The 10-second settlement pass over many open perp positions, and how it grows.

For N open BTC_USDC_PERP positions (10,000, 30,000, 100,000: N/2 pairs of subaccounts, each pair
a long and a short that traded with each other at their own price near 60,000, each subaccount
funded with 10,000 USDC), the BTC mark moves by 1% (`SetMarkPrices` through the engine) and one
settlement pass runs at the next 10-second boundary: `settlement.settle` in a `Transaction`,
then `commit`, timed apart. Each N gets several passes (the price moving up and down in turn)
with Python's cyclic GC as it comes and frozen after the build; the best pass is reported.
Next to it, in the same run, a bare loop does the same integer math (value at mark rounded down,
PnL, the balance credit, fee and clearing totals) over plain tuples and a dict of balances; the
run asserts that the core moved exactly the PnL and fees the bare loop computed. Growth: (ms at
100k / ms at 10k) / 10, where 1.0 means linear. Aim (issue 13): 100,000 positions in at most
100 ms and at most 2x the bare loop of the same run, growing linearly.

The state is built directly (subaccounts, ledger, positions, open interest) because building
100,000 positions through the engine takes minutes; the builder is checked once per run against
the engine (the same 1,000 positions built through real orders must give the same subaccounts,
ledger, held index, positions and open interest), and each built state passes `audit`.

Times are process CPU time (`time.process_time`), not wall time, because the shared 2-core box
runs other work. Before and after the batched settlement event, in one run on the loaded box
(best of 5 passes; GC frozen after the build / as it comes; the bare loop ran beside each):
  positions   before (e8812ef, pure)       after, pure                after, mypyc-compiled core
  10,000        43 / 43 ms  (x13, x13)      21 / 21 ms (x6.3, x6.2)    21 / 22 ms (x6.4, x6.3)
  30,000       202 / 151 ms (x19, x14)      78 / 73 ms (x5.5, x6.9)    95 / 80 ms (x8.8, x7.4)
  100,000      755 / 864 ms (x21, x24)     308 / 295 ms (x8.9, x8.4)  471 / 357 ms (x13, x9.5)
  growth 10k -> 100k vs linear: before 1.75 / 2.0, after (pure) 1.46 / 1.42, bare 1.0-1.1.
  Pure: 2.0x faster at 10,000, 2.6x / 2.1x at 30,000, 2.5x / 2.9x at 100,000. The compiled core is
  no faster than the pure one on this pass (the bare loop stays interpreted).
The aim (100 ms and 2x the bare loop) is not reached: the bare loop is about 36 ms for 100,000
positions, and the pass must still make a new position per moved position, post a ledger balance
per subaccount (nested tuple keys looked up in the state's ledger), pick the subaccounts to cover
and commit 100,000 positions and balances into the state, each a few hundred ns in CPython.
Hotspots after (cProfile, the second pass over 100,000 positions, GC frozen; own / cumulative
share): `settle`'s own loop 33% / 82% (unpack, value at mark, the new position, the credit);
`dict.get` 17% (600,000 calls: credits, the ledger layers, the key memo, subaccounts);
`Transaction.post_spot_credits` 15% / 29% (one balance per subaccount); `_cover` 7% / 13% (the
balances left negative, the profits with auto-lend or auto-repay: 50,000 subaccount reads);
commit 17% cumulative (ledger and positions into the state, the held index re-checked per
balance); the new positions (`tuple.__new__`) 4%. Before, two `Settled` rows per position (kept
for good, each holding an enum the cyclic GC must visit), a new `LedgerAccount` key per balance
and 200,000 history rows per pass dominated (object creation 16%, `_record_history` 9%, commit
23%). One `PositionsSettled` per market now replaces the rows (expanded on read) and the spot
ledger keys are made once per subaccount (`EngineState.spot_keys`; the first pass pays for them).
"""

from __future__ import annotations

import cProfile
import gc
import os
import pstats
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import PURE_CORE_NOTE, in_pure_core, progress, save
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.accounts import Subaccount
from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    PlaceOrder,
    SetMarkPrices,
)
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.events import Deposited, SettlementSource, settled_rows
from crossmargin.core.ids import AccountId, PositionId, SubaccountId
from crossmargin.core.ledger import WORLD, spot
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.perps import PerpPosition
from crossmargin.core.settlement import settle
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

SIZES = (10_000, 30_000, 100_000)
CHECK_POSITIONS = 1_000
PASSES = 5
MARKET = "BTC_USDC_PERP"
START_MS = 1_700_000_000_000  # a 10-second boundary
INTERVAL_MS = 10_000
PRICE = 60_000
USDC_FUNDING = 10_000 * 10**6
SEED = 20_240_602
GC_MODES = ("default", "frozen")


@dataclass(frozen=True, slots=True)
class Pair:
    """A long (the resting bid) and a short (the taker) that traded `quantity_atoms` at `price_wad`."""

    quantity_atoms: int
    price_wad: int


def pairs(count: int, seed: int = SEED) -> list[Pair]:
    """Return `count` seeded pairs: 0.001-0.03 BTC each, at up to 1% from 60,000 on the 0.1 tick."""
    rng = random.Random(seed)
    return [
        Pair(rng.randint(1, 30) * 100_000, (PRICE * 10 + rng.randint(-6_000, 6_000)) * WAD // 10) for _ in range(count)
    ]


def base_state() -> EngineState:
    """Return a state with the demo assets and markets, BTC marked at 60,000, and no accounts."""
    state = EngineState()
    document = load_document()
    assets = parse_asset_specs(document)
    for command in (
        ConfigureAssets(assets),
        ConfigureMarkets(parse_market_specs(document, assets)),
        SetMarkPrices((("USDC", WAD), ("BTC", PRICE * WAD))),
    ):
        assert isinstance(execute(state, command, START_MS), Accepted)
    return state


def build_direct(state: EngineState, trades: list[Pair]) -> None:
    """Add two funded subaccounts and their perp positions per pair, writing EngineState fields directly."""
    spec = state.markets[MARKET]
    world = state.ledger.get((WORLD, "USDC"), 0)
    open_interest = state.open_interest_atoms.get(MARKET, 0)
    for trade in trades:
        quote = spec.quote_atoms(trade.quantity_atoms, trade.price_wad)
        long_id, short_id = SubaccountId(state.next_subaccount_id), SubaccountId(state.next_subaccount_id + 1)
        for subaccount_id in (long_id, short_id):
            account_id = AccountId(state.next_account_id)
            state.accounts[account_id] = [subaccount_id]
            state.subaccounts[subaccount_id] = Subaccount(subaccount_id, account_id)
            state.ledger[(spot(subaccount_id), "USDC")] = USDC_FUNDING
            state.held[subaccount_id] = {"USDC"}
            state.deposits.append(Deposited(subaccount_id, "USDC", USDC_FUNDING, START_MS))
            state.history_count += 1
            state.history_sequence.setdefault("deposits", []).append(state.history_count)
            world -= USDC_FUNDING
            state.next_account_id += 1
            state.next_subaccount_id += 1
        # The taker (the short) gets its position id first, as in `matching.execute_fill`.
        short = PerpPosition(
            PositionId(state.next_position_id),
            short_id,
            MARKET,
            -trade.quantity_atoms,
            -quote,
            -quote,
            spec.taker_fee.apply_up(quote),
        )
        long = PerpPosition(
            PositionId(state.next_position_id + 1),
            long_id,
            MARKET,
            trade.quantity_atoms,
            quote,
            quote,
            spec.maker_fee.apply_up(quote),
        )
        state.next_position_id += 2
        state.perp_positions[(short_id, MARKET)] = short
        state.perp_positions[(long_id, MARKET)] = long
        open_interest += trade.quantity_atoms
    state.ledger[(WORLD, "USDC")] = world
    state.open_interest_atoms[MARKET] = open_interest
    state.rebuild_indexes()  # the derived indexes (each subaccount's deposits among them), as a snapshot's load does


def build_through_engine(state: EngineState, trades: list[Pair]) -> None:
    """Add the same subaccounts and positions with real commands: deposits, a resting bid, a crossing ask."""
    commands: list[Command] = []
    first = state.next_subaccount_id
    for index, trade in enumerate(trades):
        long_id, short_id = SubaccountId(first + 2 * index), SubaccountId(first + 2 * index + 1)
        commands += [
            CreateAccount(),
            CreateAccount(),
            Deposit(long_id, "USDC", USDC_FUNDING),
            Deposit(short_id, "USDC", USDC_FUNDING),
            PlaceOrder(long_id, MARKET, OrderSide.BID, OrderType.LIMIT, trade.quantity_atoms, trade.price_wad),
            PlaceOrder(short_id, MARKET, OrderSide.ASK, OrderType.LIMIT, trade.quantity_atoms, trade.price_wad),
        ]
    for command in commands:
        result = execute(state, command, START_MS)
        assert isinstance(result, Accepted), (command, result)


def check_builder(count: int = CHECK_POSITIONS) -> None:
    """Assert that the direct builder gives the state the engine gives for the same trades."""
    trades = pairs(count // 2, seed=SEED + 1)
    direct, engine = base_state(), base_state()
    build_direct(direct, trades)
    build_through_engine(engine, trades)
    for name in ("accounts", "subaccounts", "ledger", "held", "perp_positions", "open_interest_atoms", "deposits"):
        assert getattr(direct, name) == getattr(engine, name), f"direct build differs from the engine in {name}"
    assert not engine.orders, "every engine-built pair traded in full"
    assert_audited(direct)


def assert_audited(state: EngineState) -> None:
    """Assert that every audit check holds."""
    failed = [check for check in audit(state) if not check.ok]
    assert not failed, failed


def bare_settle(
    positions: list[tuple[int, int, int, int, int]], balances: dict[int, int], mark_wad: int
) -> tuple[int, int]:
    """The same integer math over plain tuples (sub, qty, basis, fee, funding); return (PnL moved, fees moved)."""
    unit, quote_unit = 10**8, 10**6
    denominator = unit * WAD
    total_pnl = total_fees = 0
    for index, (sub, quantity, basis, fee, funding) in enumerate(positions):
        value = quantity * mark_wad * quote_unit // denominator
        pnl = value - basis
        if not (pnl or fee or funding):
            continue
        positions[index] = (sub, quantity, value, 0, 0)
        balances[sub] += pnl + funding - fee
        total_pnl += pnl
        total_fees += fee
    return total_pnl, total_fees


def bare_inputs(state: EngineState) -> tuple[list[tuple[int, int, int, int, int]], dict[int, int]]:
    """Return the positions as plain tuples and the USDC balances as a plain dict."""
    positions: list[tuple[int, int, int, int, int]] = [
        (position.subaccount_id, position.quantity_atoms, position.basis_atoms, position.pending_fee_atoms, 0)
        for position in state.perp_positions.values()
    ]
    balances: dict[int, int] = {
        subaccount_id: state.ledger.get((spot(subaccount_id), "USDC"), 0) for subaccount_id in state.subaccounts
    }
    return positions, balances


def move_price(state: EngineState, number: int) -> int:
    """Move the BTC mark 1% (up on odd passes, down on even) through the engine; return the settlement boundary."""
    moved_ms = START_MS + number * INTERVAL_MS + 1_000
    assert isinstance(execute(state, SetMarkPrices((("BTC", pass_price(number)),)), moved_ms), Accepted)
    boundary = START_MS + (number + 1) * INTERVAL_MS
    assert state.settlement_due_ms == boundary, "a mark change schedules the next settlement"
    return boundary


def pass_price(number: int) -> int:
    """Return the BTC mark of pass `number`: 1% above 60,000 on odd passes, 1% below on even ones."""
    return PRICE * (101 if number % 2 else 99) * WAD // 100


def settle_at(state: EngineState, boundary: int) -> tuple[float, float, Transaction]:
    """Run one settlement pass in a transaction at `boundary` and commit it; return (settle s, commit s, tx)."""
    tx = Transaction(state, boundary)
    started = time.process_time()
    settle(tx)
    settled = time.process_time()
    tx.commit()
    return settled - started, time.process_time() - settled, tx


def moved(tx: Transaction) -> tuple[int, int]:
    """Return the (PnL, fees) a settlement moved, from its events."""
    pnl = fees = 0
    for row in settled_rows(tx.events):
        if row.source is SettlementSource.REALIZE_PNL:
            pnl += row.quantity_atoms
        elif row.source is SettlementSource.TRADING_FEES:
            fees -= row.quantity_atoms
    return pnl, fees


def measure_size(count: int, mode: str) -> dict[str, float]:
    """Build `count` positions, then time PASSES settlement passes (and the bare loop before each)."""
    state = base_state()
    build_direct(state, pairs(count // 2))
    assert_audited(state)
    gc.collect()
    if mode == "frozen":
        gc.freeze()
    try:
        best = {"settle": float("inf"), "commit": float("inf"), "total": float("inf"), "bare": float("inf")}
        for number in range(1, PASSES + 1):
            positions, balances = bare_inputs(state)
            started = time.process_time()
            expected = bare_settle(positions, balances, pass_price(number))
            best["bare"] = min(best["bare"], time.process_time() - started)
            settle_s, commit_s, tx = settle_at(state, move_price(state, number))
            assert moved(tx) == expected, f"core moved {moved(tx)}, bare loop {expected}"
            best["settle"] = min(best["settle"], settle_s)
            best["commit"] = min(best["commit"], commit_s)
            best["total"] = min(best["total"], settle_s + commit_s)
    finally:
        gc.unfreeze()
    assert_audited(state)
    return {f"{name}_ms": round(seconds * 1000, 2) for name, seconds in best.items()}


def measure() -> dict[str, object]:
    """Return per-size, per-GC-mode settlement timings, the growth ratio and the ratio to the bare loop."""
    progress(f"checking the direct builder against the engine on {CHECK_POSITIONS:,} positions")
    check_builder()
    results: dict[str, object] = {"sizes": list(SIZES), "passes": PASSES, "market": MARKET}
    for mode in GC_MODES:
        per_size: dict[str, dict[str, float]] = {}
        for count in SIZES:
            progress(f"GC {mode}: {count:,} positions, {PASSES} passes")
            figures = measure_size(count, mode)
            figures["core_to_bare"] = round(figures["total_ms"] / figures["bare_ms"], 1)
            per_size[str(count)] = figures
            progress(f"GC {mode}: {count:,} positions: {figures['total_ms']:.1f} ms (bare {figures['bare_ms']:.1f} ms)")
        small, large = per_size[str(SIZES[0])], per_size[str(SIZES[-1])]
        scale = SIZES[-1] / SIZES[0]
        results[f"gc_{mode}"] = {
            "positions": per_size,
            "growth_vs_linear": round(large["total_ms"] / small["total_ms"] / scale, 2),
            "bare_growth_vs_linear": round(large["bare_ms"] / small["bare_ms"] / scale, 2),
        }
    return results


def profile(count: int = SIZES[-1]) -> list[dict[str, object]]:
    """Return the top functions (own time) of one settlement pass over `count` positions, GC frozen.

    The pass profiled is the second: the first makes each subaccount's spot ledger key once
    (`EngineState.spot_keys`), which later passes reuse, as the timed passes (best of 5) do.
    """
    state = base_state()
    build_direct(state, pairs(count // 2))
    settle_at(state, move_price(state, 1))
    boundary = move_price(state, 2)
    gc.collect()
    gc.freeze()
    profiler = cProfile.Profile()
    try:
        profiler.runcall(settle_at, state, boundary)
    finally:
        gc.unfreeze()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
    return [
        {
            "function": f"{Path(filename).name}:{line}({name})",
            "calls": calls,
            "own_share": round(own / total, 3),
            "cumulative_share": round(cumulative / total, 3),
        }
        for (filename, line, name), (_, calls, own, cumulative, _) in rows
    ]


def print_table(results: dict[str, object], hotspots: list[dict[str, object]]) -> None:
    """Print ms per pass per size and GC mode, the growth and the bare ratio, then the hotspots."""
    print(f"  {'GC':<9}{'positions':>10}{'settle ms':>11}{'commit ms':>11}{'total ms':>10}{'bare ms':>9}{'x bare':>8}")
    for mode in GC_MODES:
        figures = results[f"gc_{mode}"]
        assert isinstance(figures, dict)
        for count, row in figures["positions"].items():
            print(
                f"  {mode:<9}{int(count):>10,}{row['settle_ms']:>11.1f}{row['commit_ms']:>11.1f}"
                f"{row['total_ms']:>10.1f}{row['bare_ms']:>9.1f}{row['core_to_bare']:>8.1f}"
            )
        print(
            f"  {mode:<9}growth 10k->100k vs linear: core {figures['growth_vs_linear']:.2f}, "
            f"bare {figures['bare_growth_vs_linear']:.2f} (1.0 = linear)"
        )
    print("  aim (issue 13): 100,000 positions in at most 100 ms and at most 2x the bare loop, growing linearly")
    print(
        f"  hotspots of the second pass over 100,000 positions (own time share, calls, cumulative share; {PURE_CORE_NOTE}):"
    )
    for row in hotspots:
        print(f"    {row['own_share']:>6.1%}  {row['calls']!s:>8}  {row['cumulative_share']:>6.1%}  {row['function']}")


def main() -> None:
    """Run the settlement benchmark and print its ratios."""
    print("settlement benchmark (in memory, one thread): one 10-second pass over N perp positions")
    results = measure()
    progress("profiling the second pass over 100,000 positions")
    hotspots = in_pure_core("bench.bench_settlement", "profile")
    print_table(results, hotspots)
    results["load_average"] = os.getloadavg()
    print(f"  saved {save('settlement', {**results, 'hotspots': hotspots})}")


if __name__ == "__main__":
    main()
