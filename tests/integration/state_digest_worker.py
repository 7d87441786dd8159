"""Print the SHA-256 of the state after the demo seed and a seeded workload stream, in this process.

Run as `python state_digest_worker.py --seed S --count N` under different `PYTHONHASHSEED`s: the
digests must agree, or the state's text depends on how a process hashes strings (a set iterated
into a dict) and a replica, another process, would not match its primary byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.integration.workload import START_MS, apply_stream, build_stream

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_state
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.cli.serve import seed_demo
from crossmargin.market_config import parse_market_specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    arguments = parser.parse_args()
    document = load_document(None)
    specs = parse_asset_specs(document)
    clock = ManualClock(START_MS)
    with Service.open(MemoryJournal(), clock, specs, parse_market_specs(document, specs)) as service:
        seed_demo(service)  # one command opening two subaccounts at once
        apply_stream(service, clock, build_stream(arguments.seed, arguments.count))
        print(hashlib.sha256(service.read(encode_state).encode()).hexdigest())  # noqa: T201


if __name__ == "__main__":
    main()
