"""kill -9 during a stream of commands loses nothing acknowledged, on SQLite and on PostgreSQL.

Goal: prove the durability promise for real. Method: a subprocess (`kill_worker.py`) applies a
seeded stream through the service and prints `ack <index>` after each reply; the test kills it
with SIGKILL at a random moment (a random ack, then a random few milliseconds, so the kill lands
anywhere: mid-batch, mid-commit, mid-snapshot), in several rounds with different seeds and kill
points, each on a fresh journal. After each kill it checks: the journal is exactly a prefix of the
records the in-memory reference run predicts, long enough to hold every acknowledged command; the
service reopened on it has exactly the reference state after that prefix; and the audit passes.
One round runs to the end unkilled and must agree with the worker's own final state.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.conftest import Database
from tests.integration.workload import START_MS, build_stream, run_reference

from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_state

WORKER = Path(__file__).with_name("kill_worker.py")
STREAM_COMMANDS = 1_200
ROUNDS = 8
WORKER_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RoundResult:
    """What a worker round left behind: the last acked stream index and its final line, if any."""

    acked_index: int
    done_line: str | None
    killed: bool


def run_worker(database: Database, seed: int, kill_after_ack: int | None, delay_seconds: float) -> RoundResult:
    """Run the worker on `database`; SIGKILL it `delay_seconds` after ack `kill_after_ack` (None: never)."""
    command = [sys.executable, str(WORKER), "--seed", str(seed), "--count", str(STREAM_COMMANDS)]
    worker = subprocess.Popen(
        command + database.worker_arguments(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    acked, done_line, killed = -1, None, False
    # A worker that hangs without printing must not hang the suite: a watchdog kills it.
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        worker.kill()

    watchdog = threading.Timer(WORKER_TIMEOUT_SECONDS, expire)
    watchdog.start()
    for line in worker.stdout:
        if line.startswith("ack "):
            acked = int(line.split()[1])
            if kill_after_ack is not None and acked >= kill_after_ack:
                time.sleep(delay_seconds)
                os.kill(worker.pid, signal.SIGKILL)
                killed = True
                break
        elif line.startswith("done "):
            done_line = line.strip()
    # Acks the worker printed before it died are acknowledgements too: read them all.
    remaining, errors = worker.communicate(timeout=WORKER_TIMEOUT_SECONDS)
    watchdog.cancel()
    assert not timed_out.is_set(), f"the worker finishes within {WORKER_TIMEOUT_SECONDS} s: {errors}"
    for line in remaining.splitlines():
        if line.startswith("ack "):
            acked = max(acked, int(line.split()[1]))
        elif line.startswith("done "):
            done_line = line.strip()
    if killed:
        assert worker.returncode == -signal.SIGKILL, f"the worker was killed, not ended: {errors}"
    else:
        assert worker.returncode == 0, f"the worker failed: {errors}"
    return RoundResult(acked, done_line, killed)


def check_recovery(database: Database, seed: int, result: RoundResult) -> int:
    """Check the journal and the reopened service against the reference; return the journal length."""
    reference = run_reference(build_stream(seed, STREAM_COMMANDS))
    journal = database.open_journal()
    try:
        records = list(journal.read())
    finally:
        journal.close()
    held = len(records)
    assert records == reference.records[:held], "the journal is a prefix of the stream's accepted commands"
    assert held >= reference.accepted_through(result.acked_index), "every acknowledged command is in the journal"
    service = database.open_service(ManualClock(START_MS))
    try:
        assert service.sequence == held
        rebuilt = service.read(encode_state)
        failed = [check for check in service.audit() if not check.ok]
    finally:
        service.close()
    assert rebuilt == encode_state(reference.state_after(held)), "INV-REPLAY-1: rebuilt state = reference prefix"
    assert not failed, f"every invariant holds after recovery: {failed}"
    if result.done_line is not None:
        digest = hashlib.sha256(rebuilt.encode()).hexdigest()
        assert result.done_line == f"done {held} {digest}", "the worker's final state is the one rebuilt"
    return held


def test_kill_9_at_random_moments_loses_no_acknowledged_command(database: Database) -> None:
    rng = random.Random(20240917)
    outcomes = []
    for round_number in range(ROUNDS):
        location = database.fresh(f"round{round_number}")
        seed = rng.randrange(1_000_000)
        unkilled = round_number == ROUNDS - 1
        kill_after = None if unkilled else rng.randrange(20, STREAM_COMMANDS - 400)
        result = run_worker(location, seed, kill_after, rng.uniform(0, 0.02))
        held = check_recovery(location, seed, result)
        outcomes.append((result.killed, result.acked_index, held))
    assert [killed for killed, _, _ in outcomes] == [True] * (ROUNDS - 1) + [False]
