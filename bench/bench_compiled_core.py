"""The mypyc-compiled core against the pure-Python core, on the same workloads in the same run.

Each workload runs in a fresh process per core (the pure core: `CROSSMARGIN_COMPILED_CORE` unset;
the compiled one: pointed at build/compiled-core, which `make bench` builds), best of 3 by process
CPU time, with the GC frozen after setup as in bench_matching. Workloads: the matching benchmark's
message mix (orders/s) and the mixed borrow-lend benchmark (commands/s). The ratio compiled/pure
is the figure to read; tests/integration/test_compiled_core.py checks that both cores give the same
events and state to the atom.

Measured when this benchmark was added (2-core machine shared with other work): matching 8,822 ->
18,676 orders/s (x2.12), mixed 18,730 -> 37,437 commands/s (x2.00).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import progress, save

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "compiled-core"
MESSAGES = 8_000

WORKER = f"""
import gc, json, time
from crossmargin.compiled_core import core_is_compiled
from crossmargin.core.engine import execute
from bench import bench_matching, engine

def timed(prepare, commands, now_ms):
    best = float("inf")
    for _ in range(3):
        state = prepare()
        gc.collect(); gc.freeze()
        started = time.process_time()
        for command in commands:
            assert type(execute(state, command, now_ms)).__name__ == "Accepted"
        best = min(best, time.process_time() - started)
        gc.unfreeze()
    return len(commands) / best

matching = bench_matching.core_commands(bench_matching.message_mix({MESSAGES}))
mixed = engine._workload()
print(json.dumps({{
    "compiled": core_is_compiled(),
    "matching_orders_per_second": timed(bench_matching.prepared_state, matching, bench_matching.START_MS),
    "mixed_commands_per_second": timed(engine._prepared_state, mixed, engine.HOUR_MS // 2),
}}))
"""


def run(compiled: bool) -> dict[str, float]:
    """Time the workloads in a fresh process on one core or the other."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT)))}
    env.pop("CROSSMARGIN_COMPILED_CORE", None)
    if compiled:
        env["CROSSMARGIN_COMPILED_CORE"] = str(BUILD)
    output = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Print the compiled core's throughput as a ratio of the pure core's."""
    print("compiled core (mypyc) vs pure-Python core: same workloads, fresh process each, CPU time")
    progress("pure-Python core")
    pure = run(compiled=False)
    progress("compiled core")
    compiled = run(compiled=True)
    if not compiled["compiled"]:
        print("  no fresh compiled core in build/compiled-core (run `make compiled-core`): nothing to compare")
        return
    for key, label in (
        ("matching_orders_per_second", "matching, orders/s"),
        ("mixed_commands_per_second", "mixed, commands/s"),
    ):
        print(
            f"  {label:<22}pure {pure[key]:>10,.0f}   compiled {compiled[key]:>10,.0f}   x{compiled[key] / pure[key]:.2f}"
        )
    print(f"  saved {save('compiled_core', {'pure': pure, 'compiled': compiled})}")


if __name__ == "__main__":
    main()
