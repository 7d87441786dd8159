"""What every `crossmargin` command pays before it starts: the package's import."""

from __future__ import annotations

import os
import subprocess
import sys

from crossmargin.compiled_core import ENVIRONMENT_VARIABLE

LOADED = "import sys, crossmargin.cli.main; print('importlib.metadata' in sys.modules)"


def test_without_a_compiled_core_the_package_metadata_machinery_is_never_loaded() -> None:
    """importlib.metadata costs about 30 ms of each command; only the compiled core's check needs it."""
    environment = {name: value for name, value in os.environ.items() if name != ENVIRONMENT_VARIABLE}
    answer = subprocess.run([sys.executable, "-c", LOADED], env=environment, capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "False", answer.stderr
