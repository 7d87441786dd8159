"""INV-REPLAY-1 across processes: the same commands give the same state text whatever the process's string hashing.

Goal: a replica is another process; its state digest must equal its primary's at the same journal
position (docs/REPLICATION.md). Method: `state_digest_worker.py` runs the demo seed and a seeded
workload stream in fresh processes with different `PYTHONHASHSEED`s, in parallel; their digests
must agree. (Found by the replication test: the held-asset index took its order from a set of
(subaccount, symbol) pairs, so a command touching two new subaccounts ordered them per process.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("state_digest_worker.py")
HASH_SEEDS = ("1", "2", "3")
WORKER_SECONDS = 120


def test_the_state_text_is_the_same_under_every_string_hash_seed() -> None:
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "--seed", "5", "--count", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in HASH_SEEDS
    ]
    digests = []
    for worker in workers:
        out, errors = worker.communicate(timeout=WORKER_SECONDS)
        assert worker.returncode == 0, errors
        digests.append(out.strip())
    assert len(set(digests)) == 1, (
        f"one state text, whatever the hash seed: {dict(zip(HASH_SEEDS, digests, strict=True))}"
    )
