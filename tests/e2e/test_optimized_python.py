"""Every entry point refuses Python's -O / PYTHONOPTIMIZE, which strips the asserts guarding the engine.

Each case runs a real interpreter as a subprocess, as a user or a container image would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent.parent
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "crossmargin")
ADVICE = "unset PYTHONOPTIMIZE and drop -O"


def run(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONOPTIMIZE"}
    return subprocess.run(
        command, capture_output=True, text=True, cwd=REPOSITORY, env={**clean, **environment}, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([CONSOLE_SCRIPT, "--help"], id="console-script"),
        pytest.param([sys.executable, "-m", "crossmargin.cli.main", "serve", "--help"], id="python-m-cli"),
        pytest.param([sys.executable, "-c", "import crossmargin.core.engine"], id="library-import"),
        pytest.param([sys.executable, "-m", "bench"], id="bench"),
    ],
)
def test_pythonoptimize_makes_every_entry_point_refuse_with_the_remedy(command: list[str]) -> None:
    refused = run(command, PYTHONOPTIMIZE="1")
    assert refused.returncode != 0, refused.stdout
    assert ADVICE in refused.stderr, refused.stderr
    assert "asserts" in refused.stderr, "the message says why optimizations are refused"
    assert "usage:" not in refused.stdout, "nothing ran before the refusal"


def test_python_dash_o_makes_the_cli_refuse_with_the_remedy() -> None:
    refused = run([sys.executable, "-O", "-m", "crossmargin.cli.main", "--help"])
    assert refused.returncode != 0, refused.stdout
    assert ADVICE in refused.stderr, refused.stderr


def test_without_optimizations_the_cli_runs() -> None:
    for command in ([CONSOLE_SCRIPT, "--help"], [sys.executable, "-m", "crossmargin.cli.main", "--help"]):
        allowed = run(command)
        assert allowed.returncode == 0, allowed.stderr
        assert allowed.stdout.startswith("usage: crossmargin"), allowed.stdout
