"""What the metrics cost the sequencer: `python -m bench.bench_metrics`.

The only per-command work the metrics add is `SequencerStats.record_batch` (a dict update per
command, after the batch's replies) and `record_flush` (one histogram update per batch), on the
sequencer thread. Two figures:

- the counters alone: ns per command of `record_batch` over full batches of accepted deposits;
- through the service on an in-memory journal (the cheapest durable path, so the largest relative
  cost): durable deposits/s with the counters, and with them replaced by no-ops, interleaved runs,
  best of `REPEATS` each. Deposits are among the cheapest commands, so the share measured here is
  an upper bound for a real workload; the scrape's own work (a `Service.read`) is not per command.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass

from bench.common import progress, save
from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.sequencer_stats import SequencerStats
from crossmargin.app.service import Result, Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import Command, CreateAccount, Deposit
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState

START_MS = 1_767_225_600_000
BATCH = 4096
BATCHES = 50
COMMANDS = 40_000
WINDOW = 2048
REPEATS = 5


@dataclass(frozen=True, slots=True)
class _Submission:
    commands: tuple[Command, ...]


def counters_ns_per_command() -> float:
    """Return the ns per command of `record_batch` over full batches of single-command submissions."""
    state = EngineState()
    execute(state, CreateAccount(api_keys=()), START_MS)
    commands: list[Command] = [Deposit(SubaccountId(1), "USDC", 1)] * BATCH
    submissions = [_Submission((command,)) for command in commands]
    outcomes = [[Accepted(())] for _ in commands]
    stats = SequencerStats()
    fastest = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter_ns()
        for _ in range(BATCHES):
            stats.record_batch(submissions, outcomes)
            stats.record_flush(0.001)
        fastest = min(fastest, (time.perf_counter_ns() - started) / (BATCHES * BATCH))
    return fastest


class _Uncounted(SequencerStats):
    """Counters that count nothing: the service as it ran before the metrics."""

    __slots__ = ()

    def record_batch(self, submissions: object, outcomes: object) -> None:  # type: ignore[override]
        pass

    def record_flush(self, seconds: float) -> None:
        pass


def _deposits_per_second(*, counted: bool) -> float:
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    try:
        if not counted:
            service.stats = _Uncounted()
        created = service.execute(CreateAccount(api_keys=()))
        assert isinstance(created, Accepted)
        deposit = Deposit(SubaccountId(1), "USDC", 1)
        started = time.perf_counter()
        window: list[Future[Result]] = []
        for _ in range(COMMANDS):
            window.append(service.submit(deposit))
            if len(window) >= WINDOW:
                window.pop(0).result()
        for future in window:
            assert isinstance(future.result(), Accepted)
        return COMMANDS / (time.perf_counter() - started)
    finally:
        service.close()


def main() -> None:
    """Measure both figures and write bench/results/metrics.json."""
    print("metrics: what the sequencer's counters cost")
    progress("record_batch over full batches")
    ns = counters_ns_per_command()
    progress(f"durable deposits through the service, {COMMANDS:,} each, counters on and off, {REPEATS} rounds")
    counted = uncounted = 0.0
    for _ in range(REPEATS):
        uncounted = max(uncounted, _deposits_per_second(counted=False))
        counted = max(counted, _deposits_per_second(counted=True))
    share = 1 - counted / uncounted
    print(f"  counters: {ns:.0f} ns per command")
    print(f"  service on memory: {counted:,.0f} deposits/s counted, {uncounted:,.0f} without: {share:+.1%} cost")
    path = save(
        "metrics",
        {
            "record_batch_ns_per_command": round(ns, 1),
            "deposits_per_s_counted": round(counted),
            "deposits_per_s_uncounted": round(uncounted),
            "cost_share": round(share, 4),
            "commands": COMMANDS,
            "repeats": REPEATS,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
