"""Hypothesis profiles for every test suite, and the path to the shared test helpers.

Profiles (pick one with the environment variable HYPOTHESIS_PROFILE; `dev` is the default):

- `dev`: quick feedback on a laptop; the property and stateful suites together take well
  under two minutes on two cores.
- `ci`: more examples, no example database (CI machines start clean), full counterexample blobs.
- `nightly`: many examples and long stateful runs, for the scheduled job.

Deadlines are off in every profile: the engine's what-if searches (max borrowable) take a few
milliseconds and a loaded CI machine must not turn that into a flaky failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, Verbosity, settings

# The helpers shared by the property and stateful suites (`tests/strategies.py`,
# `tests/reference_model.py`) are imported as `tests.strategies`: tests/ has no __init__.py, so
# put the repository root on the import path and let `tests` resolve as a namespace package
# (mypy resolves the same names through `explicit_package_bases`).
sys.path.insert(0, str(Path(__file__).parent.parent))

settings.register_profile(
    "dev",
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
)
settings.register_profile(
    "ci",
    max_examples=300,
    stateful_step_count=80,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=2000,
    stateful_step_count=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    verbosity=Verbosity.normal,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
