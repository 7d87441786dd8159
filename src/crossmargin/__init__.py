"""crossmargin: a cross-margin borrow/lend engine that speaks Backpack's API.

The engine's asserts guard its invariants, so the package refuses to load when Python strips them
(`python -O`, `PYTHONOPTIMIZE`): every entry point (the CLI, the server, the benchmarks, a library
user) imports this package first and fails here, before anything runs.
"""

import sys

if sys.flags.optimize > 0:
    raise ImportError(
        "crossmargin refuses to run with Python's optimizations on (python -O or PYTHONOPTIMIZE): they strip "
        "the asserts that guard the engine's invariants. To run it, unset PYTHONOPTIMIZE and drop -O."
    )

# The mypyc-compiled core, when CROSSMARGIN_COMPILED_CORE names a fresh build (crossmargin/compiled_core.py).
from crossmargin.compiled_core import use_compiled_core

use_compiled_core(__path__)
