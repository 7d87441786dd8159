"""Durable commands/s through the service (group commit) on SQLite and PostgreSQL.

For each database, many submitter threads push a workload through `Service` (each keeps a window
of commands in flight, as a server with many open requests would); a command counts once its batch
is durable. Next to it, in the same run, the very rows the service journaled are appended again by
the same adapter into a fresh journal, twice: in the service's own batches (the I/O share of the
durable path) and in full batches of `BATCH_ROWS` (the batched raw append). Ratios compare durable
commands/s with both, and with the same workload through `engine.execute` alone (no service, no
journal, no threads): the ceiling a single Python sequencer can reach. A second scenario has
blocking clients: one command in flight per thread, so batches are at most as large as the threads.
A third has signed writes (`signed_deposits`): the deposits again, each with a fresh signature as a
signed HTTP request brings, which the journal stores beside its batch for the replay guard; before
schema version 5 a unique index over those random signatures made them the dearest part of the
append (SQLite: 16.9k-23.3k -> 26.1k-30.5k signed deposits/s, three runs each, old code then new).
Each submitted command's future is a `CommandFuture` since stop 32: the standard Future's
Condition cost as much CPU as executing a deposit (SQLite deposits 37.4k-49.8k -> 47.8k-78.5k/s,
mixed 23.4k-27.2k -> 30.8k-36.0k/s, four and three alternating runs).
Aims (issue): durable path >= 0.5x the batched raw append, and >= 20,000 durable commands/s on SQLite.
Because the machine is shared, each figure also has its process CPU time per command, and the ratio
of the engine's CPU per command to the service's (`cpu_ratio_to_engine_only`): with one GIL, that is
the share of the durable path's work that is the engine's, and it moves far less with other load.
"""

from __future__ import annotations

import collections
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import progress, save
from crossmargin.adapters.postgres_journal import PostgresJournal
from crossmargin.adapters.sqlite_journal import SqliteJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.forwarding_journal import ForwardingJournal
from crossmargin.app.ports import Journal, JournalRecord, RequestSignature
from crossmargin.app.replay_guard import SignedRequest
from crossmargin.app.service import Result, Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
)
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.state import EngineState

POSTGRES_URL = os.environ.get(
    "CROSSMARGIN_BENCH_POSTGRES_URL",
    os.environ.get("CROSSMARGIN_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test"),
)
SUBACCOUNTS = 512
THREADS = 8
WINDOW = 512
COMMANDS = 120_000
SIGNED_COMMANDS = 60_000
BLOCKING_THREADS = 64
BLOCKING_COMMANDS = 20_000
BATCH_ROWS = 4096
START_MS = 1_700_000_000_000
USDC = 10**6


class RecordingJournal(ForwardingJournal):
    """Pass-through journal that keeps every appended batch, to replay the same rows raw."""

    def __init__(self, inner: Journal) -> None:
        super().__init__(inner)
        self.batches: list[Sequence[JournalRecord]] = []

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        self.inner.append(records, signatures)
        self.batches.append(records)


def setup_commands() -> list[Command]:
    """Return accounts with BTC collateral and one large USDC lender (the last subaccount)."""
    lender = SubaccountId(SUBACCOUNTS + 1)
    commands: list[Command] = [SetMarkPrices((("USDC", WAD), ("BTC", 60_000 * WAD)))]
    commands += [CreateAccount() for _ in range(SUBACCOUNTS + 1)]
    commands += [Deposit(SubaccountId(number), "BTC", 10**8) for number in range(1, SUBACCOUNTS + 1)]
    commands += [
        Deposit(lender, "USDC", 10**9 * USDC),
        ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, 10**9 * USDC),
    ]
    return commands


def thread_workload(thread: int, count: int, *, mixed: bool) -> list[Command]:
    """Return one submitter's commands: its own subaccounts, so per-subaccount order holds."""
    mine = [SubaccountId(number) for number in range(1, SUBACCOUNTS + 1) if number % THREADS == thread]
    commands: list[Command] = []
    while len(commands) < count:
        for subaccount in mine:
            if mixed:
                commands += [
                    Deposit(subaccount, "USDC", 100 * USDC),
                    ExecuteBorrowLend(subaccount, "USDC", BorrowLendSide.BORROW, 50 * USDC),
                    ExecuteBorrowLend(subaccount, "USDC", BorrowLendSide.LEND, 50 * USDC),
                    Deposit(subaccount, "BTC", 1_000),
                ]
            else:
                commands.append(Deposit(subaccount, "USDC", 100 * USDC))
    return commands[:count]


def pipelined_submitter(
    service: Service, commands: list[Command], accepted: list[int], *, signed: bool = False
) -> None:
    """Submit with up to WINDOW commands in flight; count the accepted ones.

    `signed`: each command is a signed write, as the HTTP edge submits them, with a fresh 64-byte
    signature that the replay guard answers once and the journal stores beside the batch
    (`request_signature`).
    """
    expires_at_ms = int(time.time() * 1000) + 3_600_000
    pending: collections.deque[Future[Result]] = collections.deque()
    count = 0
    for command in commands:
        if len(pending) >= WINDOW:
            count += isinstance(pending.popleft().result(), Accepted)
        request = SignedRequest(os.urandom(64), expires_at_ms) if signed else None
        pending.append(service.submit(command, signed=request))
    while pending:
        count += isinstance(pending.popleft().result(), Accepted)
    accepted.append(count)


def signed_submitter(service: Service, commands: list[Command], accepted: list[int]) -> None:
    """`pipelined_submitter` with every command a signed write."""
    pipelined_submitter(service, commands, accepted, signed=True)


def blocking_submitter(service: Service, commands: list[Command], accepted: list[int]) -> None:
    """Submit one command at a time and wait for it, like a client with one open request."""
    accepted.append(sum(isinstance(service.execute(command), Accepted) for command in commands))


def run_service(
    open_journal: Callable[[], Journal],
    submitter: Callable[[Service, list[Command], list[int]], None],
    threads: int,
    total: int,
    *,
    mixed: bool,
) -> tuple[dict[str, float], list[Sequence[JournalRecord]]]:
    """Run a workload through a fresh service; return its figures and the batches it journaled."""
    journal = RecordingJournal(open_journal())
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs(), snapshot_every=10**9)
    for command in setup_commands():
        assert isinstance(service.execute(command), Accepted), command
    journal.batches.clear()
    workloads = [thread_workload(thread % THREADS, total // threads, mixed=mixed) for thread in range(threads)]
    accepted: list[int] = []
    workers = [threading.Thread(target=submitter, args=(service, work, accepted)) for work in workloads]
    started = time.perf_counter()
    cpu_started = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    batches = list(journal.batches)
    service.close()
    submitted = sum(len(work) for work in workloads)
    rows = sum(len(batch) for batch in batches)
    assert rows == sum(accepted), "every accepted command was journaled"
    return (
        {
            "commands": submitted,
            "accepted": rows,
            "seconds": round(elapsed, 3),
            "durable_commands_per_second": round(submitted / elapsed),
            "durable_accepted_per_second": round(rows / elapsed),
            "batches": len(batches),
            "mean_batch_rows": round(rows / max(len(batches), 1), 1),
            "cpu_microseconds_per_command": round(cpu_seconds / submitted * 1e6, 1),
        },
        batches,
    )


def raw_append(open_journal: Callable[[], Journal], batches: Sequence[Sequence[JournalRecord]]) -> float:
    """Append the given batches to a fresh journal with the same adapter; return rows/s."""
    journal = open_journal()
    rows = sum(len(batch) for batch in batches)
    started = time.perf_counter()
    for batch in batches:
        journal.append(batch)
    elapsed = time.perf_counter() - started
    journal.close()
    return rows / elapsed


def rebatch(batches: Sequence[Sequence[JournalRecord]], size: int) -> list[list[JournalRecord]]:
    """Return the same records, renumbered from 1, in batches of `size`."""
    flat = [record for batch in batches for record in batch]
    renumbered = [JournalRecord(number, record.recorded_at_ms, record.command) for number, record in enumerate(flat, 1)]
    return [renumbered[start : start + size] for start in range(0, len(renumbered), size)]


def engine_only(total: int, *, mixed: bool) -> tuple[float, float]:
    """Return commands/s and CPU us/command of the workload through `engine.execute` alone: no service, journal, threads."""
    state = EngineState()
    assert isinstance(execute(state, ConfigureAssets(load_asset_specs()), START_MS), Accepted)
    for command in setup_commands():
        assert isinstance(execute(state, command, START_MS), Accepted)
    # Interleave the submitters' streams as the sequencer would see them.
    streams = [thread_workload(thread, total // THREADS, mixed=mixed) for thread in range(THREADS)]
    commands = [command for group in zip(*streams, strict=True) for command in group]
    started, cpu_started = time.perf_counter(), time.process_time()
    for command in commands:
        execute(state, command, START_MS)
    elapsed, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return len(commands) / elapsed, cpu_seconds / len(commands) * 1e6


def measure_database(name: str, fresh_journal: Callable[[], Journal]) -> dict[str, object]:
    """Measure one database: pipelined mixed and deposit-only workloads, blocking clients, raw appends."""
    results: dict[str, object] = {}
    for workload, mixed in (("mixed", True), ("deposits", False)):
        progress(f"{name}: {COMMANDS:,} {workload} commands, {THREADS} submitters x {WINDOW} in flight")
        figures, batches = run_service(fresh_journal, pipelined_submitter, THREADS, COMMANDS, mixed=mixed)
        progress(f"{name}: raw append of the same {figures['accepted']:,} rows")
        same_batches = raw_append(fresh_journal, _renumber(batches))
        full_batches = raw_append(fresh_journal, rebatch(batches, BATCH_ROWS))
        durable = figures["durable_accepted_per_second"]
        bare, bare_cpu = engine_only(COMMANDS, mixed=mixed)
        figures |= {
            "engine_only_commands_per_second": round(bare),
            "ratio_to_engine_only": round(figures["durable_commands_per_second"] / bare, 3),
            "engine_only_cpu_microseconds_per_command": round(bare_cpu, 1),
            "cpu_ratio_to_engine_only": round(bare_cpu / figures["cpu_microseconds_per_command"], 3),
            "raw_rows_per_second_same_batches": round(same_batches),
            f"raw_rows_per_second_batches_of_{BATCH_ROWS}": round(full_batches),
            "ratio_to_raw_same_batches": round(durable / same_batches, 3),
            f"ratio_to_raw_batches_of_{BATCH_ROWS}": round(durable / full_batches, 3),
        }
        progress(
            f"{name} {workload}: {figures['durable_commands_per_second']:,.0f} durable commands/s "
            f"(mean batch {figures['mean_batch_rows']}); engine alone {bare:,.0f}/s "
            f"-> {figures['ratio_to_engine_only']}x (CPU {figures['cpu_ratio_to_engine_only']}x); "
            f"raw append {full_batches:,.0f} rows/s -> {figures[f'ratio_to_raw_batches_of_{BATCH_ROWS}']}x"
        )
        results[workload] = figures
    progress(f"{name}: {SIGNED_COMMANDS:,} signed deposits, {THREADS} submitters x {WINDOW} in flight")
    signed, _ = run_service(fresh_journal, signed_submitter, THREADS, SIGNED_COMMANDS, mixed=False)
    deposits = results["deposits"]
    assert isinstance(deposits, dict)
    signed["ratio_to_engine_only"] = round(
        signed["durable_commands_per_second"] / deposits["engine_only_commands_per_second"], 3
    )
    progress(
        f"{name} signed deposits: {signed['durable_commands_per_second']:,.0f} durable commands/s "
        f"(mean batch {signed['mean_batch_rows']}) -> {signed['ratio_to_engine_only']}x the engine alone"
    )
    results["signed_deposits"] = signed
    progress(f"{name}: {BLOCKING_COMMANDS:,} deposits from {BLOCKING_THREADS} blocking clients")
    blocking, _ = run_service(fresh_journal, blocking_submitter, BLOCKING_THREADS, BLOCKING_COMMANDS, mixed=False)
    progress(f"{name} blocking: {blocking['durable_commands_per_second']:,.0f} durable commands/s")
    results["blocking_clients"] = blocking
    return results


def _renumber(batches: Sequence[Sequence[JournalRecord]]) -> list[list[JournalRecord]]:
    """Return the batches as they were, renumbered from 1 (the setup rows are not part of them)."""
    renumbered: list[list[JournalRecord]] = []
    number = 0
    for batch in batches:
        renumbered.append(
            [
                JournalRecord(number + offset, record.recorded_at_ms, record.command)
                for offset, record in enumerate(batch, 1)
            ]
        )
        number += len(batch)
    return renumbered


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main() -> None:
    """Run the journal benchmark on SQLite and, when reachable, PostgreSQL; save the results."""
    results: dict[str, object] = {
        "threads": THREADS,
        "window": WINDOW,
        "subaccounts": SUBACCOUNTS,
        "cpu_count": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crossmargin-bench-") as scratch:
        counter = iter(range(10**6))
        results["sqlite"] = measure_database(
            "sqlite", lambda: SqliteJournal.in_directory(Path(scratch) / f"run{next(counter)}")
        )
    if postgres_reachable():
        prefix = f"crossmargin_bench_{uuid.uuid4().hex[:8]}"
        schemas: list[str] = []

        def fresh_postgres() -> Journal:
            schemas.append(f"{prefix}_{len(schemas)}")
            return PostgresJournal(POSTGRES_URL, schema=schemas[-1])

        try:
            results["postgres"] = measure_database("postgres", fresh_postgres)
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                for schema in schemas:
                    connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    else:
        progress(f"postgres: skipped, {POSTGRES_URL} is unreachable (set CROSSMARGIN_BENCH_POSTGRES_URL)")
        results["postgres"] = None
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_after"] = os.getloadavg()
    path = save("journal", results)
    print(f"journal benchmark: results in {path}")


if __name__ == "__main__":
    main()
