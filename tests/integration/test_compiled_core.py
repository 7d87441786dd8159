"""The mypyc-compiled core gives the same results as the pure-Python core, to the atom.

`make test` builds the compiled core (scripts/build_compiled_core.py) before the tests run; where
it could not be built (no C compiler) the equivalence test is skipped with a note, and fails
instead under CI=true. The loader's own rules (a stale or missing build runs the pure core, with a
message) are checked on fake builds, which need no compiler.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.environment import missing

from crossmargin.compiled_core import DIGEST_FILE, ENVIRONMENT_VARIABLE, core_source_digest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "compiled-core"
CORE_SOURCES = ROOT / "src" / "crossmargin" / "core"


def _python(code: str, build: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT)))}
    env.pop(ENVIRONMENT_VARIABLE, None)
    if build is not None:
        env[ENVIRONMENT_VARIABLE] = str(build)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )


WHICH_CORE = "from crossmargin.compiled_core import core_is_compiled; print(core_is_compiled())"
WORKLOAD = "from tests.support.core_workload import main; main()"


def test_a_missing_build_runs_the_pure_core_and_says_so(tmp_path: Path) -> None:
    result = _python(WHICH_CORE, tmp_path / "nowhere")
    assert result.stdout.strip() == "False"
    assert "no compiled core in" in result.stderr
    assert "running the pure-Python core" in result.stderr


def test_a_stale_build_is_never_loaded(tmp_path: Path) -> None:
    (tmp_path / "crossmargin" / "core").mkdir(parents=True)
    (tmp_path / DIGEST_FILE).write_text("built-from-other-sources\n")
    result = _python(WHICH_CORE, tmp_path)
    assert result.stdout.strip() == "False"
    assert "built from other sources" in result.stderr


def test_unset_means_the_pure_core_without_a_word() -> None:
    result = _python(WHICH_CORE, None)
    assert result.stdout.strip() == "False"
    assert result.stderr == ""


def test_the_source_digest_follows_every_core_source(tmp_path: Path) -> None:
    core = tmp_path / "core"
    (core / "events").mkdir(parents=True)
    (core / "engine.py").write_text("x = 1\n")
    (core / "events" / "fills.py").write_text("y = 2\n")
    before = core_source_digest(core)
    (core / "events" / "fills.py").write_text("y = 3\n")
    assert core_source_digest(core) != before
    (core / "events" / "fills.py").write_text("y = 2\n")
    assert core_source_digest(core) == before


def _fresh_build() -> Path:
    digest = BUILD / DIGEST_FILE
    if not digest.is_file() or digest.read_text().strip() != core_source_digest(CORE_SOURCES):
        reason = "no fresh compiled core in build/compiled-core: run `make compiled-core` (needs a C compiler)"
        missing("the compiled core", reason)
    return BUILD


def test_the_compiled_core_matches_the_pure_core_to_the_atom() -> None:
    build = _fresh_build()
    pure = _python(WORKLOAD, None).stdout.splitlines()
    compiled = _python(WORKLOAD, build).stdout.splitlines()
    assert pure[0] == "compiled=False"
    assert compiled[0] == "compiled=True", "the compiled core was not loaded"
    assert len(pure) == 4
    assert compiled[1:] == pure[1:], "the compiled core's events or state differ from the pure core's"


CHANNEL_ROUND_TRIP = """
import pickle
from bench import bench_matching
from crossmargin.app.command_channel import HEADER, encode_frame
from crossmargin.compiled_core import core_is_compiled
from crossmargin.core.engine import execute
state = bench_matching.prepared_state()
pairs = []
for command in bench_matching.core_commands(bench_matching.message_mix(400)):
    pairs.append((command, execute(state, command, bench_matching.START_MS)))
frame = encode_frame(("r1", "ok", pairs))
assert pickle.loads(frame[HEADER.size:]) == ("r1", "ok", pairs)
print(core_is_compiled(), len(pairs))
"""


def test_commands_and_results_cross_the_edge_channel_from_a_compiled_core() -> None:
    build = _fresh_build()
    assert _python(CHANNEL_ROUND_TRIP, build).stdout.split() == ["True", "400"]


VALUE_CLASSES = (
    "import sys, pytest; "
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests/unit/core/test_value_classes.py']))"
)


def test_the_value_classes_are_read_only_and_picklable_compiled() -> None:
    """The value classes' tests on the compiled core: there, writing a field must fail at run time."""
    build = _fresh_build()
    result = subprocess.run(
        [sys.executable, "-c", VALUE_CLASSES],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT))),
            ENVIRONMENT_VARIABLE: str(build),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout


LIQUIDATION_INTERPRETED_CALLS = """
import sys
from collections import Counter
from bench import bench_liquidation
from crossmargin.compiled_core import core_is_compiled
from crossmargin.core.commands import Liquidate
from crossmargin.core.engine import execute
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.transaction import Transaction
state, borrowers, total_btc = bench_liquidation.build(60)
bench_liquidation.crash(state, total_btc)
called = Counter()
def count(frame, event, arg):
    if event == "call":  # a compiled function makes no frame: every call seen here runs interpreted
        called[f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_code.co_name}"] += 1
commands = 0
for _ in range(10):
    tx = Transaction(state, bench_liquidation.START_MS)
    due = [sub for sub in borrowers if state.subaccounts[sub].liquidating
           or compute_subaccount_margin(tx, state.subaccounts[sub]).is_liquidatable]
    for sub in due:
        command = Liquidate(sub)
        sys.setprofile(count)
        execute(state, command, bench_liquidation.START_MS)
        sys.setprofile(None)
        commands += 1
print(core_is_compiled(), commands, sum(called.values()), dict(called))
"""


def test_a_liquidation_on_the_compiled_core_runs_no_interpreted_constructor() -> None:
    """Liquidating 60 accounts calls no interpreted code per account (the value classes' reason to be).

    Before the liquidation's own values (its steps, lines, events, the order flags) were value
    classes, this run made 795 interpreted calls (dataclass and NamedTuple constructors and
    `dataclasses.replace`, about 13 per account); a handful made once per process is allowed.
    """
    build = _fresh_build()
    compiled, commands, calls, called = _python(LIQUIDATION_INTERPRETED_CALLS, build).stdout.split(maxsplit=3)
    assert compiled == "True", "the compiled core was not loaded"
    assert int(commands) >= 60, "every borrower is liquidated at least once"
    assert int(calls) <= 5, f"interpreted calls during the liquidations: {called}"


BENCH_PROFILE = """
from bench.common import in_pure_core
from crossmargin.compiled_core import core_is_compiled
rows = in_pure_core("bench.engine", "profile_mixed")
print(core_is_compiled(), sum("(compute_subaccount_margin)" in row["function"] for row in rows), len(rows))
"""


def test_a_benchmark_run_on_the_compiled_core_profiles_the_pure_one_and_sees_inside_the_engine() -> None:
    """cProfile sees one built-in call in the compiled core; `make bench` printed profiles of nothing but it."""
    build = _fresh_build()
    which, margins, rows = _python(BENCH_PROFILE, build).stdout.split()
    assert which == "True", "this process runs the compiled core"
    assert margins == "1", "the profile names the margin computation inside `execute`"
    assert int(rows) == 12
