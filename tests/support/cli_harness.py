"""Shared pieces of the CLI end-to-end tests: a live server per module, the environment, in-process runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_server import TOKEN, free_port, start, stop

from crossmargin.cli.main import main


@dataclass(frozen=True)
class Result:
    """What one in-process `crossmargin ...` printed, and its exit status."""

    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@contextmanager
def live_server(journal_dir: Path) -> Iterator[str]:
    """Run `crossmargin serve` (manual clock) on a free port; yield its URL."""
    port = free_port()
    process = start(journal_dir, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def point_cli_at(monkeypatch: pytest.MonkeyPatch, server: str, config_dir: Path) -> None:
    """Make the CLI talk to `server` as the operator, with profiles in `config_dir` and wide tables."""
    for name in ("CROSSMARGIN_PROFILE", "CROSSMARGIN_API_KEY", "CROSSMARGIN_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROSSMARGIN_URL", server)
    monkeypatch.setenv("CROSSMARGIN_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("CROSSMARGIN_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("COLUMNS", "200")


def run_in_process(capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]) -> Result:
    """Run `crossmargin` with `arguments` in this process and capture what it printed."""
    capsys.readouterr()
    code = main(list(arguments))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
