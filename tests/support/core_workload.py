"""A deterministic workload through the core, printed as one digest per part (pure vs compiled core).

Run as `python -m tests.support.core_workload` from the repository root; the compiled-core test
runs it twice, with and without `CROSSMARGIN_COMPILED_CORE`, and compares the lines. Each part
hashes every command's result (accepted events or the refusal) and the final state as the
journal's codec encodes it, so one atom of difference anywhere shows. The parts are the matching
benchmark's message mix (spot and perp orders, cancels, market orders), the mixed borrow-lend
benchmark, and a simulated crash with liquidations, settlements, funding and loss sharing.
"""

from __future__ import annotations

import hashlib
import json
import sys

from bench import bench_matching
from bench import engine as bench_engine

from crossmargin.app.codec import decode_state, encode_state
from crossmargin.compiled_core import core_is_compiled
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.state import EngineState
from crossmargin.simulation.scenario import Scenario, prepare


def _run(state: EngineState, commands: list[object], now_ms: int) -> str:
    digest = hashlib.sha256()
    accepted = 0
    for command in commands:
        result = execute(state, command, now_ms)  # type: ignore[arg-type]
        accepted += isinstance(result, Accepted)
        digest.update(repr(result).encode())
    assert accepted == len(commands), f"the workload runs as the benchmark does: {accepted} of {len(commands)} accepted"
    encoded = encode_state(state)
    assert encode_state(decode_state(encoded)) == encoded, "the snapshot codec round-trips the state"
    digest.update(encoded.encode())
    return digest.hexdigest()


def matching(messages: int = 3_000) -> str:
    """Digest of the matching benchmark's mix through the core."""
    state = bench_matching.prepared_state()
    commands = bench_matching.core_commands(bench_matching.message_mix(messages))
    return _run(state, list(commands), bench_matching.START_MS)


def mixed() -> str:
    """Digest of the mixed borrow-lend benchmark through the core."""
    return _run(bench_engine._prepared_state(), list(bench_engine._workload()), bench_engine.HOUR_MS // 2)


def simulated_crash() -> str:
    """Digest of a seeded simulation with a BTC crash: liquidations, settlements, funding."""
    simulation = prepare(Scenario(seed=7, accounts=60, steps=40, random_walk=True, shocks=("BTC=-45%", "ETH=-40%")))
    simulation.run()
    figures = {"liquidations": simulation.liquidations, "refusals": sorted(simulation.refusals.items())}
    return hashlib.sha256((encode_state(simulation.state) + json.dumps(figures)).encode()).hexdigest()


def main() -> None:
    """Print which core ran, then one digest per part."""
    sys.stdout.write(f"compiled={core_is_compiled()}\n")
    for part in (matching, mixed, simulated_crash):
        sys.stdout.write(f"{part.__name__} {part()}\n")


if __name__ == "__main__":
    main()
