"""The process the kill -9 test kills: it applies the seeded workload stream and reports each ack.

Run as `python kill_worker.py --seed S --count N --data-dir DIR [--database-url URL] [--schema X]`.
It opens the service through the composition root on a manual clock, then for each group of the
stream moves the clock and submits the group's commands together (so the sequencer batches them),
printing `ack <index>` (flushed) as each reply arrives, in stream order. An ack is printed only
after the service answered, so every acked command must survive a SIGKILL. If nobody kills it, it
prints `done <sequence> <sha256 of the encoded state>` and closes the service cleanly.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.integration.workload import START_MS, build_stream

from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_state
from crossmargin.bootstrap import open_service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--schema")
    parser.add_argument("--snapshot-every", type=int, default=250)
    arguments = parser.parse_args()
    clock = ManualClock(START_MS)
    service = open_service(
        arguments.database_url,
        arguments.data_dir,
        clock,
        None,
        schema=arguments.schema,
        snapshot_every=arguments.snapshot_every,
    )
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    index = 0
    for group in build_stream(arguments.seed, arguments.count):
        clock.advance_to(clock.now_ms() + group.advance_ms)
        futures = [service.submit(command) for command in group.commands]
        for future in futures:
            future.result()
            out.write(f"ack {index}\n")
            out.flush()
            index += 1
    digest = hashlib.sha256(service.read(encode_state).encode()).hexdigest()
    out.write(f"done {service.sequence} {digest}\n")
    out.flush()
    service.close()


if __name__ == "__main__":
    main()
