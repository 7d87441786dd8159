"""The command channel between edge workers and the sequencer, with two workers in one test process.

Goal: a signed write accepted through one worker is refused through the other (the sequencer's
replay guard is the authority, whichever worker a copy reaches), refusals keep Backpack's body, and
lookups (API keys, assets) reach the worker's mirror. Method: a real `Service` on a memory journal,
its `SequencerChannel` on an event loop of its own thread, and two `EdgeApp`s, each with its own
connection and guard, driven through Starlette's test client.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from signing_client import ADMIN_TOKEN, Exchange
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.edge import EdgeApp
from crossmargin.app.clock import ManualClock
from crossmargin.app.command_channel import SequencerChannel, encode_frame, read_frame
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000
BORROW = "/api/v1/borrowLend"


@dataclass(frozen=True)
class Edge:
    """The sequencer's own application and two workers in front of it."""

    sequencer: Exchange
    first: Exchange
    second: Exchange


@pytest.fixture
def edge() -> Iterator[Edge]:
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    directory = Path(tempfile.mkdtemp(prefix="cm-channel-"))  # short: Unix socket paths are limited
    path = str(directory / "channel.sock")
    channel = SequencerChannel(service, loop)
    server = asyncio.run_coroutine_threadsafe(asyncio.start_unix_server(channel.serve, path=path), loop).result()
    unused = str(directory / "app.sock")  # these tests send nothing that a worker forwards
    try:
        with (
            TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as sequencer,
            TestClient(EdgeApp(path, unused, ADMIN_TOKEN), raise_server_exceptions=False) as first,
            TestClient(EdgeApp(path, unused, ADMIN_TOKEN), raise_server_exceptions=False) as second,
        ):
            exchange = Exchange(sequencer)
            exchange.admin("POST", "/admin/v1/prices", {"prices": {"USDC": "1", "BTC": "60000"}})
            lender = exchange.new_account()
            exchange.deposit(lender, "USDC", "1000000")
            assert exchange.borrow_lend(lender, "Lend", "1000000").status_code == 200
            yield Edge(exchange, Exchange(first), Exchange(second))
    finally:
        server.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        service.close()


def test_a_borrow_accepted_through_one_worker_is_refused_through_the_other(edge: Edge) -> None:
    keys = edge.sequencer.new_account()
    edge.sequencer.deposit(keys, "BTC", "1")
    body = {"symbol": "USDC", "side": "Borrow", "quantity": "100"}
    timestamp = int(time.time() * 1000)

    accepted = edge.first.signed(keys, "POST", BORROW, "borrowLendExecute", body, timestamp_ms=timestamp)
    replayed = edge.second.signed(keys, "POST", BORROW, "borrowLendExecute", body, timestamp_ms=timestamp)
    again = edge.first.signed(keys, "POST", BORROW, "borrowLendExecute", body, timestamp_ms=timestamp)

    assert accepted.status_code == 200, accepted.text
    assert (replayed.status_code, replayed.json()["code"]) == (401, "UNAUTHORIZED")
    assert "it was executed (journal sequence" in replayed.json()["message"], "the sequencer says what became of it"
    assert (again.status_code, again.json()["code"]) == (401, "UNAUTHORIZED")
    positions = edge.sequencer.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    (usdc,) = [row for row in positions.json() if row["symbol"] == "USDC"]
    assert usdc["netQuantity"].startswith("-100."), "executed once"


def test_a_refusal_through_a_worker_has_backpacks_body(edge: Edge) -> None:
    keys = edge.sequencer.new_account()
    edge.sequencer.deposit(keys, "BTC", "0.001")
    refused = edge.second.borrow_lend(keys, "Borrow", "5000")
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "INSUFFICIENT_MARGIN"
    assert set(refused.json()) == {"code", "message"}


def test_a_key_added_after_the_worker_started_is_found(edge: Edge) -> None:
    keys = edge.sequencer.new_account()  # created after both workers fetched what they know
    edge.sequencer.deposit(keys, "BTC", "1")
    assert edge.first.borrow_lend(keys, "Borrow", "1").status_code == 200
    unknown = edge.first.client.post(BORROW, json={}, headers={"X-API-Key": "A" * 44, "X-Signature": "x"})
    assert (unknown.status_code, unknown.json()["code"]) == (401, "UNAUTHORIZED")


def test_frames_carry_any_message_whole() -> None:
    async def round_trip() -> object:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_frame((7, "ok", {"a": (1, 2**130)})))
        reader.feed_eof()
        return (await read_frame(reader), await read_frame(reader))

    assert asyncio.run(round_trip()) == ((7, "ok", {"a": (1, 2**130)}), None)
