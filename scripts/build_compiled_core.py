"""Compile the pure core (`src/crossmargin/core`) with mypyc into build/compiled-core.

`make run` and `make bench` call this (and `make test`, whose equivalence test runs the compiled
core against the pure one): the compiled modules land in `build/compiled-core/crossmargin/core`
beside a copy of their sources, with a `digest` file naming the sources, the Python and the mypy
they were built from. `crossmargin/compiled_core.py` loads them only when
`CROSSMARGIN_COMPILED_CORE` points at that directory and the digest still matches the sources, so
an edited core never runs stale compiled code. Without a C compiler the build fails with a message
and everything runs on the pure-Python core, which stays the reference (it is what the core's
coverage measures).

Usage: python scripts/build_compiled_core.py [OUTPUT_DIR]   (default build/compiled-core)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from crossmargin.compiled_core import DIGEST_FILE, core_source_digest  # noqa: E402


def build(output: Path) -> None:
    """Copy the core's sources into a scratch directory, compile them there, then swap it in."""
    source = ROOT / "src" / "crossmargin" / "core"
    scratch = output.with_name(output.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch / "crossmargin" / "core", ignore=shutil.ignore_patterns("__pycache__"))
    # mypyc needs the parent package to name the modules crossmargin.core.*; the stand-in goes after.
    (scratch / "crossmargin" / "__init__.py").write_text("")
    started = time.monotonic()
    sys.stdout.write(f"compiling the core with mypyc into {output} (1-3 minutes; skipped while the core is unchanged)\n")
    sys.stdout.flush()
    result = subprocess.run(
        [sys.executable, "-m", "mypyc", "crossmargin/core"],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + "\n" + result.stderr[-4000:] + "\n")
        raise SystemExit(f"mypyc failed (exit {result.returncode}); the pure-Python core runs instead")
    (scratch / "crossmargin" / "__init__.py").unlink()
    shutil.rmtree(scratch / "build", ignore_errors=True)
    (scratch / DIGEST_FILE).write_text(core_source_digest(source) + "\n")
    shutil.rmtree(output, ignore_errors=True)
    scratch.rename(output)
    sys.stdout.write(f"compiled the core in {time.monotonic() - started:.0f} s\n")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "compiled-core")
