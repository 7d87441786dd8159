"""The terminal demo, end to end: the real service on a SQLite journal, as `make run` plays it."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from crossmargin.cli.demo import run_demo
from crossmargin.cli.main import main


def test_demo_shows_entry_fee_interest_refusal_and_a_clean_audit(tmp_path: Path) -> None:
    output = io.StringIO()
    run_demo(Console(file=output, width=140, color_system=None), tmp_path)
    text = output.getvalue()
    assert "entry fee 0.001152 USDC for the 10 minutes to the next full hour" in text
    assert "Interest history" in text
    assert "EntryFee" in text
    assert "Borrow" in text
    assert "refused: Borrow would exceed your available margin: max borrowable is" in text
    audit_line = next(line for line in text.splitlines() if line.startswith("Audit:"))
    passed, total = (int(word) for word in audit_line.split() if word.isdigit())
    assert passed == total > 0
    assert any(tmp_path.iterdir()), "the journal is written to the data directory"


def test_demo_runs_again_in_a_fresh_directory(tmp_path: Path) -> None:
    run_demo(Console(file=io.StringIO(), color_system=None), tmp_path)
    output = io.StringIO()
    run_demo(Console(file=output, width=140, color_system=None), tmp_path / "second")
    assert "Audit:" in output.getvalue()


def test_cli_entry_point_runs_as_a_program() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "crossmargin.cli.main", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    assert "demo" in completed.stdout


def test_cli_demo_command_returns_success(tmp_path: Path) -> None:
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
