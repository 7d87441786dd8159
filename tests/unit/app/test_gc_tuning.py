"""The server's processes keep what they made while starting out of every later full collection.

Goal: a full garbage collection in a process that serves walks only what was made since it became
ready. Under signed borrows at half the saturating rate (bench_http, `--edge-workers 2`), an edge
worker's full collections took 30-55 ms and every request in flight waited: p99 37-63 ms against
under 8 ms once each process froze its start-up objects. Method: `freeze_startup_objects` on its
own, then each way of serving (one process, the edge workers' sequencer process, an edge worker)
run up to the point where it starts serving, where the freeze must already have happened.
"""

from __future__ import annotations

import gc
import signal
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.gc_tuning import GC_YOUNG_OBJECTS_MIN, freeze_startup_objects
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.cli import serve, serve_edge
from crossmargin.cli.serve import ServeOptions
from crossmargin.cli.serve_edge import EdgeOptions

START_MS = 1_767_225_600_000


@pytest.fixture(autouse=True)
def restored_collector() -> Iterator[None]:
    """Give the test process its collector back as it was: nothing frozen, the same thresholds and signals."""
    thresholds = gc.get_threshold()
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


class Ready:
    """Where serving starts: what the collector looked like at that moment."""

    def __init__(self) -> None:
        self.frozen: int | None = None
        self.young_threshold: int | None = None

    def note(self) -> None:
        self.frozen = gc.get_freeze_count()
        self.young_threshold = gc.get_threshold()[0]

    def check(self) -> None:
        assert self.frozen is not None, "serving started"
        assert self.frozen > 10_000, f"only {self.frozen} objects were frozen before serving"
        assert self.young_threshold is not None
        assert self.young_threshold >= GC_YOUNG_OBJECTS_MIN


def test_frozen_objects_are_out_of_every_later_collection() -> None:
    kept = [[number] for number in range(1_000)]  # lists: tracked by the collector
    gc.set_threshold(700, 10, 10)
    frozen = freeze_startup_objects()
    assert frozen >= len(kept)
    assert gc.get_freeze_count() == frozen
    assert gc.get_threshold()[0] == GC_YOUNG_OBJECTS_MIN
    tracked = {id(item) for item in gc.get_objects()}  # every generation but the permanent one
    assert not any(id(item) in tracked for item in kept)
    made_later = [0]
    assert any(item is made_later for item in gc.get_objects())


def test_a_larger_young_threshold_is_kept() -> None:
    gc.set_threshold(GC_YOUNG_OBJECTS_MIN * 2, 5, 5)
    freeze_startup_objects()
    assert gc.get_threshold() == (GC_YOUNG_OBJECTS_MIN * 2, 5, 5)


def test_a_one_process_server_freezes_its_start_up_objects_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ready = Ready()
    monkeypatch.setattr(uvicorn.Server, "run", lambda _server, sockets=None: ready.note())
    options = ServeOptions("127.0.0.1", 0, None, tmp_path, "manual", demo=False, assets_file=None, admin_token=None)
    with Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs()) as service:
        serve.serve_in_one_process(options, Starlette(), service, [])
    ready.check()


def test_the_edge_sequencer_process_freezes_its_start_up_objects_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready = Ready()

    def run(main: Coroutine[Any, Any, None]) -> None:
        main.close()  # never started: the workers are not spawned
        ready.note()

    monkeypatch.setattr("crossmargin.cli.serve_edge.asyncio.run", run)
    monkeypatch.setattr(uvicorn.Config, "bind_socket", lambda _config: socket.socket())
    with Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs()) as service:
        serve_edge.serve_with_edge_workers(Starlette(), service, edge_options(), [])
    ready.check()


def test_an_edge_worker_freezes_its_start_up_objects_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    ready = Ready()
    monkeypatch.setattr(serve_edge._WorkerServer, "run", lambda _server, sockets=None: ready.note())
    with socket.socket() as listener:
        serve_edge.run_worker(listener, "unused-channel.sock", "unused-app.sock", edge_options())
    ready.check()


def edge_options() -> EdgeOptions:
    return EdgeOptions(
        host="127.0.0.1",
        port=0,
        workers=1,
        admin_token="token",
        allowed_hosts=(),
        graceful_shutdown_seconds=1,
        fault_exit_delay_seconds=0.1,
    )
