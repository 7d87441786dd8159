"""A test's missing requirement: skipped with the reason on a developer's machine, a failure under CI=true.

CI installs everything the suites need (PostgreSQL, chromium, node_modules, the compiled core, Ray,
root for the cluster tests), so there a missing piece is a broken set-up, never a reason to skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str, reason: str) -> NoReturn:
    """Skip the calling test for `reason`, or fail it under CI=true, which requires `what`."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true requires {what}: {reason}")
    pytest.skip(reason)
