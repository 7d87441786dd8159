"""Where `crossmargin stress` runs: --ray, --workers / --no-ray, a local Ray by default, processes without Ray."""

from __future__ import annotations

import pytest

from crossmargin.cli import stress
from crossmargin.cli.main import build_parser
from crossmargin.simulation.fanout import default_workers


def executor(*arguments: str) -> stress.Executor:
    return stress.executor_from(build_parser().parse_args(["stress", *arguments]))


def test_a_local_ray_with_every_core_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stress, "ray_available", lambda: True)
    assert executor() == stress.Executor("ray", default_workers())
    assert executor().describe() == f"on a local Ray with {default_workers()} CPUs"


def test_local_processes_without_ray_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stress, "ray_available", lambda: False)
    assert executor() == stress.Executor("processes", default_workers())
    monkeypatch.setattr(stress, "ray_available", lambda: True)
    assert executor("--workers", "3") == stress.Executor("processes", 3)
    assert executor("--no-ray").kind == "processes"
    assert executor("--workers", "1").describe() == "on 1 local process(es)"


def test_a_cluster_when_an_address_is_given() -> None:
    chosen = executor("--ray", "10.0.0.5:6379")
    assert (chosen.kind, chosen.address) == ("ray", "10.0.0.5:6379")
    assert chosen.describe() == "on the Ray cluster at 10.0.0.5:6379"
