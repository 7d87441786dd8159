"""During a journal fault the API says Maintenance: 503 `MAINTENANCE` for writes and state reads, never 500.

Before, a failed journal write left every later request failing with 500 `SERVER_ERROR` (each one
logging a traceback) while `/api/v1/status` kept answering Ok. Method: the ASGI app over a service
whose journal fails on demand (`FlakyJournal`) and stays away while `Reopener.down`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from tests.integration.flaky_journal import FlakyJournal, Reopener

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.ports import JournalUnavailableError
from crossmargin.app.service import Recovery, Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000
WAIT_SECONDS = 30.0
STATUS_VALUES = ("Ok", "Maintenance")


class Maintained:
    """An exchange whose journal the test can take away and give back."""

    def __init__(self, exchange: Exchange, service: Service, journal: FlakyJournal, reopener: Reopener) -> None:
        self.exchange = exchange
        self.service = service
        self.journal = journal
        self.reopener = reopener

    def fail(self, error: BaseException) -> None:
        self.journal.fail_with, self.reopener.down = error, True

    def restore(self) -> None:
        self.reopener.down = False
        deadline = time.monotonic() + WAIT_SECONDS
        while self.service.fault is not None:
            assert time.monotonic() < deadline, f"the service recovers within {WAIT_SECONDS} s"
            time.sleep(0.01)

    def deposit(self, keys: Keys, quantity: str = "1") -> tuple[int, dict[str, str]]:
        body = {"subaccountId": keys.subaccount_id, "symbol": "USDC", "quantity": quantity}
        response = self.exchange.admin("POST", "/admin/v1/deposits", body)
        answer: dict[str, str] = response.json()
        return response.status_code, answer


@pytest.fixture
def maintained() -> Iterator[Maintained]:
    memory = MemoryJournal()
    journal, reopener = FlakyJournal(memory), Reopener(memory.reopen)
    recovery = Recovery(reopener, backoff_first_seconds=0.01, backoff_max_seconds=0.05)
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs(), recovery=recovery)
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            exchange.admin("POST", "/admin/v1/prices", {"prices": {"USDC": "1", "BTC": "60000"}})
            yield Maintained(exchange, service, journal, reopener)
    finally:
        service.close()


def _status(maintained: Maintained) -> dict[str, str]:
    answer: dict[str, str] = maintained.exchange.client.get("/api/v1/status").json()
    assert answer["status"] in STATUS_VALUES, "Backpack's Status enum"
    assert set(answer) <= {"status", "message"}, "Backpack's StatusAndMessage"
    return answer


def test_a_journal_fault_answers_503_maintenance_and_the_status_says_so_until_it_is_over(
    maintained: Maintained, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = maintained.exchange
    keys = exchange.new_account()
    assert _status(maintained) == {"status": "Ok"}
    maintained.fail(JournalUnavailableError("PostgreSQL is unreachable: connection refused"))
    with caplog.at_level(logging.WARNING, logger="crossmargin.api"):
        status, caught = maintained.deposit(keys)
        assert (status, caught["code"]) == (503, "MAINTENANCE")
        assert "unknown" in caught["message"], "the write caught in the failed commit may have run"
        status, refused = maintained.deposit(keys)
        assert (status, refused["code"]) == (503, "MAINTENANCE")
        assert "not executed" in refused["message"]
        maintenance = _status(maintained)
        assert maintenance["status"] == "Maintenance"
        assert "journal" in maintenance["message"]
        assert "resume by themselves" in maintenance["message"]
        settings = exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoRepayBorrows": True})
        assert (settings.status_code, settings.json()["code"]) == (503, "MAINTENANCE")
        capital = exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery")
        assert (capital.status_code, capital.json()["code"]) == (503, "MAINTENANCE"), "state reads wait too"
        markets = exchange.client.get("/api/v1/borrowLend/markets")
        assert markets.status_code == 503
        assert exchange.client.get("/api/v1/ping").text == "pong", "the process is alive"
    assert not [record for record in caplog.records if record.name == "crossmargin.api"], "no traceback per request"
    maintained.restore()
    assert _status(maintained) == {"status": "Ok"}
    assert maintained.deposit(keys)[0] == 200
    retried = exchange.client.request(
        "PATCH", "/api/v1/account", content=settings.request.content, headers=dict(settings.request.headers)
    )
    assert retried.status_code == 200, "a signed write refused as not executed runs when sent again"
    capital = exchange.signed(keys, "GET", "/api/v1/capital", "balanceQuery")
    assert capital.json()["USDC"]["available"] == "1", "only the deposit made after the fault is there"


def test_a_fatal_fault_says_maintenance_and_that_the_server_must_be_restarted(maintained: Maintained) -> None:
    keys = maintained.exchange.new_account()
    maintained.fail(OSError("database or disk is full"))
    status, answer = maintained.deposit(keys)
    assert (status, answer["code"]) == (503, "MAINTENANCE")
    maintenance = _status(maintained)
    assert maintenance["status"] == "Maintenance"
    assert "disk is full" in maintenance["message"]
    assert "restarted" in maintenance["message"]
    settings = maintained.exchange.signed(keys, "PATCH", "/api/v1/account", "accountUpdate", {"autoLend": True})
    assert settings.status_code == 503


def test_a_status_asked_while_the_failing_commit_is_in_flight_says_maintenance(maintained: Maintained) -> None:
    keys = maintained.exchange.new_account()
    journal = maintained.journal
    journal.hold()
    writer = threading.Thread(target=maintained.deposit, args=(keys,))
    writer.start()
    assert journal.entered.wait(WAIT_SECONDS), "the deposit's commit is in flight"
    answers: list[httpx.Response] = []
    asker = threading.Thread(target=lambda: answers.append(maintained.exchange.client.get("/api/v1/status")))
    asker.start()
    time.sleep(0.2)  # not an assert: gives the status request time to wait behind the commit
    maintained.fail(JournalUnavailableError("PostgreSQL is unreachable: connection refused"))
    journal.release.set()
    asker.join(WAIT_SECONDS)
    writer.join(WAIT_SECONDS)
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["status"] in STATUS_VALUES
