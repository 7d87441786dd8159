"""The command channel between edge workers and the sequencer, with two workers in one test process.

Goal: a signed write accepted through one worker is refused through the other (the sequencer's
replay guard is the authority, whichever worker a copy reaches), refusals keep Backpack's body, and
lookups (API keys, assets) reach the worker's mirror. Method: a real `Service` on a memory journal,
its `SequencerChannel` on an event loop of its own thread, and two `EdgeApp`s, each with its own
connection and guard, driven through Starlette's test client.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nacl.signing import SigningKey
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.edge import EdgeApp
from crossmargin.api.edge_reads import answer_read
from crossmargin.api.http_tally import REPORT_SECONDS
from crossmargin.app.clock import ManualClock
from crossmargin.app.command_channel import API_KEY, CONFIGURATION, OK, SequencerChannel, encode_frame, read_frame
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000
BORROW = "/api/v1/borrowLend"


@dataclass(frozen=True)
class Edge:
    """The sequencer's own application and two workers in front of it."""

    sequencer: Exchange
    first: Exchange
    second: Exchange
    observed_http: list[tuple[str, str, int, float]]
    """The requests the workers reported having answered, as the sequencer's metrics hear them."""


def stop_serving(loop: asyncio.AbstractEventLoop, thread: threading.Thread, server: asyncio.Server) -> None:
    """Stop the server, end each connection's task on its loop, then stop and close the loop.

    A connection's task left suspended when its loop is closed is ended later by the garbage
    collector, and its `writer.close()` then fails on the closed loop (a warning in a later test).
    """

    async def end_connections() -> None:
        server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(end_connections(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture
def edge() -> Iterator[Edge]:
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    directory = Path(tempfile.mkdtemp(prefix="cm-channel-"))  # short: Unix socket paths are limited
    path = str(directory / "channel.sock")
    observed: list[tuple[str, str, int, float]] = []
    observe = lambda *request: observed.append(request)  # noqa: E731 -- Metrics.observe_http's shape
    channel = SequencerChannel(service, loop, functools.partial(answer_read, service), observe)
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
            yield Edge(exchange, Exchange(first), Exchange(second), observed)
    finally:
        stop_serving(loop, thread, server)
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


def test_the_requests_a_worker_answers_reach_the_sequencers_metrics(edge: Edge) -> None:
    keys = edge.sequencer.new_account()
    edge.sequencer.deposit(keys, "BTC", "1")
    assert edge.first.borrow_lend(keys, "Borrow", "100").status_code == 200
    assert edge.second.borrow_lend(keys, "Borrow", "1000000").status_code == 400
    deadline = time.monotonic() + 3 * REPORT_SECONDS
    while len([seen for seen in edge.observed_http if seen[0] == BORROW]) < 2:
        assert time.monotonic() < deadline, f"the workers did not report their borrows: {edge.observed_http}"
        time.sleep(0.05)
    borrows = sorted(seen[:3] for seen in edge.observed_http if seen[0] == BORROW)
    assert borrows == [(BORROW, "POST", 200), (BORROW, "POST", 400)]
    assert all(0 < seen[3] < 10 for seen in edge.observed_http)


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


def test_a_connection_the_worker_dropped_ends_the_stream_quietly() -> None:
    """A reply written to a stopping worker fails with a broken pipe: the connection ends, nothing is logged as unhandled."""

    async def after_a_broken_pipe() -> object:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_frame((1, "ok", None))[:3])  # a frame cut short by the drop
        reader.set_exception(BrokenPipeError(32, "Broken pipe"))
        return await read_frame(reader)

    assert asyncio.run(after_a_broken_pipe()) is None


def _same_answer(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code
    assert first.headers.raw == second.headers.raw
    assert first.content == second.content


def test_signed_reads_through_a_worker_are_the_sequencers_answers_byte_for_byte(edge: Edge) -> None:
    keys = edge.sequencer.new_account()
    edge.sequencer.deposit(keys, "BTC", "1")
    edge.sequencer.deposit(keys, "USDC", "5000")
    assert edge.first.borrow_lend(keys, "Borrow", "100").status_code == 200
    order = {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "price": "50000", "quantity": "0.01"}
    placed = edge.second.signed(keys, "POST", "/api/v1/order", "orderExecute", order)
    assert placed.status_code == 200, placed.text
    timestamp = int(time.time() * 1000)  # one signature each, sent to the sequencer and to a worker
    reads = [
        ("/api/v1/capital", "balanceQuery", {}),
        ("/api/v1/capital/collateral", "collateralQuery", {}),
        ("/api/v1/borrowLend/positions", "borrowLendPositionQuery", {}),
        ("/api/v1/orders", "orderQueryAll", {"symbol": "BTC_USDC"}),
        ("/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": placed.json()["id"]}),
        ("/api/v1/account", "accountQuery", {}),
        ("/wapi/v1/capital/deposits", "depositQueryAll", {"limit": 1, "offset": 1}),
        ("/wapi/v1/history/orders", "orderHistoryQueryAll", {}),
        ("/api/v1/account/limits/borrow", "maxBorrowQuantity", {"symbol": "USDC"}),
        ("/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": 999_999}),  # a refusal: 404
        ("/wapi/v1/capital/deposits", "depositQueryAll", {"limit": 0}),  # malformed: 400
    ]
    for path, instruction, query in reads:
        expected = edge.sequencer.signed(keys, "GET", path, instruction, query, timestamp_ms=timestamp)
        for worker in (edge.first, edge.second):
            _same_answer(worker.signed(keys, "GET", path, instruction, query, timestamp_ms=timestamp), expected)
    assert "X-TOTAL" in edge.first.signed(keys, "GET", *reads[6][:2], reads[6][2]).headers
    for path in ("/api/v1/collateral", "/api/v1/assets", "/api/v1/borrowLend/markets", "/api/v1/markPrices"):
        _same_answer(edge.first.client.get(path), edge.sequencer.client.get(path))


def test_a_read_after_an_acknowledged_write_through_another_worker_sees_it(edge: Edge) -> None:
    keys = edge.sequencer.new_account()
    edge.sequencer.deposit(keys, "BTC", "1")
    for count in range(1, 4):
        assert edge.first.borrow_lend(keys, "Borrow", "10").status_code == 200
        positions = edge.second.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
        (usdc,) = [row for row in positions.json() if row["symbol"] == "USDC"]
        assert usdc["netQuantity"].startswith(f"-{10 * count}."), "the read sees the acknowledged borrow"


def test_a_request_in_flight_when_the_sequencer_goes_away_is_answered_503() -> None:
    """A sequencer that knows the key and then dies with the request unanswered: 503 Maintenance, never a hang."""
    signing_key = SigningKey.generate()
    keys = Keys(
        7, 7, base64.b64encode(bytes(signing_key.verify_key)).decode(), base64.b64encode(bytes(signing_key)).decode()
    )

    async def dying_sequencer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (message := await read_frame(reader)) is not None:
            request_id, kind, _ = message
            if kind not in {CONFIGURATION, API_KEY}:
                break  # a command or a read: the process dies before it answers
            writer.write(encode_frame((request_id, OK, ({}, {}) if kind == CONFIGURATION else 7)))
        writer.close()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    path = str(Path(tempfile.mkdtemp(prefix="cm-dying-")) / "channel.sock")
    server = asyncio.run_coroutine_threadsafe(asyncio.start_unix_server(dying_sequencer, path=path), loop).result()
    try:
        for method, request_path, instruction, body in (
            ("GET", "/api/v1/capital", "balanceQuery", {}),
            ("PATCH", "/api/v1/account", "accountUpdate", {"leverageLimit": "2"}),
        ):
            with TestClient(EdgeApp(path, path, ADMIN_TOKEN), raise_server_exceptions=False) as client:
                answer = Exchange(client).signed(keys, method, request_path, instruction, body)
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "MAINTENANCE"
            assert set(answer.json()) == {"code", "message"}
    finally:
        stop_serving(loop, thread, server)
