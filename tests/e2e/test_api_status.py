"""`GET /api/v1/status` tells the truth: Ok only while the sequencer and every watched worker run.

A journal fault is covered by test_api_maintenance.py; here the other ways an exchange stops doing
its work while the HTTP server still answers: the sequencer stopped (closed), and a background
worker (the risk monitor, the price feed, the scheduler) that stopped, so that nobody liquidates.
Stale index prices leave it Ok but say which, and the metrics agree with the status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from signing_client import ADMIN_TOKEN
from starlette.testclient import TestClient
from tests.e2e.trading_exchange import PRICES, START_MS

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.oracle_config import configure_oracle_guards
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.scheduler import HourlyScheduler
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs


@contextmanager
def watched_exchange() -> Iterator[tuple[TestClient, Service, RiskMonitor, HourlyScheduler]]:
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    monitor = RiskMonitor(service)
    monitor.start()
    scheduler = HourlyScheduler(service.submit, service.clock, poll_seconds_max=0.05)
    scheduler.start()
    try:
        app = create_app(service, ADMIN_TOKEN, risk_monitor=monitor, watched=[monitor, scheduler])
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            assert client.post("/admin/v1/prices", json={"prices": PRICES}, headers=headers).status_code == 200
            yield client, service, monitor, scheduler
    finally:
        scheduler.stop()
        monitor.stop()
        service.close()


def _status(client: TestClient) -> dict[str, str]:
    response = client.get("/api/v1/status")
    assert response.status_code == 200
    answer: dict[str, str] = response.json()
    return answer


def _metric(client: TestClient, line_start: str) -> str:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text
    (line,) = [line for line in text.splitlines() if line.startswith(line_start)]
    value: str = line.rsplit(" ", 1)[1]
    return value


def test_ok_while_everything_runs() -> None:
    with watched_exchange() as (client, _, monitor, scheduler):
        assert monitor.running
        assert scheduler.running
        assert _status(client) == {"status": "Ok"}


def test_a_stopped_risk_monitor_is_maintenance_naming_it() -> None:
    with watched_exchange() as (client, _, monitor, _scheduler):
        monitor.stop()
        status = _status(client)
        assert status["status"] == "Maintenance"
        assert "risk-monitor" in status["message"]
        assert "scheduler" not in status["message"]
        assert _metric(client, 'crossmargin_worker_up{worker="risk-monitor"}') == "0.0"
        assert _metric(client, 'crossmargin_worker_up{worker="scheduler"}') == "1.0"


def test_a_stopped_scheduler_is_maintenance_naming_it() -> None:
    with watched_exchange() as (client, _, _monitor, scheduler):
        scheduler.stop()
        status = _status(client)
        assert status["status"] == "Maintenance"
        assert "scheduler" in status["message"]


def test_a_stopped_sequencer_is_maintenance() -> None:
    with watched_exchange() as (client, service, _monitor, _scheduler):
        service.close()
        status = _status(client)
        assert status == {
            "status": "Maintenance",
            "message": "The sequencer has stopped: the exchange takes no commands until it is restarted.",
        }
        assert _metric(client, "crossmargin_sequencer_up ") == "0.0"


def test_stale_prices_stay_ok_and_say_which() -> None:
    with watched_exchange() as (client, service, _monitor, _scheduler):
        assert configure_oracle_guards(service, price_max_age_ms=60_000, price_jump_band=None)
        assert _status(client) == {"status": "Ok"}
        assert _metric(client, "crossmargin_index_price_max_age_seconds ") == "60.0"
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert client.post("/admin/v1/clock/advance", json={"seconds": 120}, headers=headers).status_code == 200
        status = _status(client)
        assert status["status"] == "Ok"
        assert status["message"].startswith("Stale index prices: ")
        assert "BTC" in status["message"]
