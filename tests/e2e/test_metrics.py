"""`GET /metrics` through the HTTP application, read with prometheus-client's own parser.

Every documented metric is present, and each moves by what the test did: commands accepted and
refused (with the refusal's reason), HTTP requests by route template (a 404 under `unmatched`, never
the raw path), a WebSocket connection, an index price's age, a liquidation's steps and the fund's
fees, a background worker stopping, the replica lag. Only the operator (the admin token) reads it;
`--metrics-port` serves the same registry without a token on a loopback port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from plain_http import HTTP
from prometheus_client.parser import text_string_to_metric_families
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.testclient import TestClient
from tests.e2e.trading_exchange import PRICES, START_MS, funded, placed

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.metrics import METRIC_NAMES, Metrics, family_name
from crossmargin.api.metrics_port import MetricsPort
from crossmargin.api.streams import StreamHub
from crossmargin.app.clock import ManualClock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Scraped:
    """One scrape: the families by name and every sample by (name, labels)."""

    def __init__(self, text: str) -> None:
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples: Samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in self.families.values()
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """Return a sample's value, 0 when the sample is not there (a counter not yet counted)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)


class Exchanged:
    """An exchange with every demo market, its service, metrics and risk monitor."""

    def __init__(self, exchange: Exchange, service: Service, metrics: Metrics, monitor: RiskMonitor) -> None:
        self.exchange = exchange
        self.service = service
        self.metrics = metrics
        self.monitor = monitor

    @property
    def client(self) -> TestClient:
        return self.exchange.client

    def scrape(self) -> Scraped:
        response = self.client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=")
        return Scraped(response.text)


@contextmanager
def exchanged() -> Iterator[Exchanged]:
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    monitor = RiskMonitor(service)
    monitor.start()
    metrics = Metrics(service)
    try:
        app = create_app(service, ADMIN_TOKEN, risk_monitor=monitor, metrics=metrics, watched=[monitor])
        with TestClient(app, raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": PRICES}).status_code == 200
            yield Exchanged(exchange, service, metrics, monitor)
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        monitor.stop()
        service.close()


@pytest.fixture
def ex() -> Iterator[Exchanged]:
    with exchanged() as found:
        yield found


def test_only_the_operator_reads_the_metrics(ex: Exchanged) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": ADMIN_TOKEN}):
        refused = ex.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["code"] == "UNAUTHORIZED"
        assert "crossmargin_" not in refused.text


def test_every_documented_metric_is_there_with_its_type(ex: Exchanged) -> None:
    ex.client.get("/api/v1/status")  # so that the HTTP families have a sample
    scraped = ex.scrape()
    missing = [name for name in METRIC_NAMES if family_name(name) not in scraped.families]
    assert missing == []
    types = {name: scraped.families[family_name(name)].type for name in METRIC_NAMES}
    assert {name for name, kind in types.items() if kind == "histogram"} == {
        "crossmargin_batch_commands",
        "crossmargin_journal_flush_seconds",
        "crossmargin_snapshot_seconds",
        "crossmargin_http_request_duration_seconds",
    }
    assert all(types[name] == "counter" for name in METRIC_NAMES if name.endswith("_total"))
    assert scraped.value("crossmargin_journal_up") == 1
    assert scraped.value("crossmargin_sequencer_up") == 1
    assert scraped.value("crossmargin_worker_up", worker="risk-monitor") == 1
    assert scraped.value("crossmargin_replica_lag_commands") == 0, "a primary has no lag"
    assert scraped.value("crossmargin_replica_lag_seconds") == 0
    assert "process_cpu_seconds" in scraped.families, "the process's own metrics come along"


def test_commands_batches_and_flushes_count_what_ran(ex: Exchanged) -> None:
    keys = funded(ex.exchange, USDC="10")
    before = ex.scrape()
    ex.exchange.deposit(keys, "USDC", "5")
    ex.exchange.deposit(keys, "USDC", "7")
    refused = ex.exchange.admin("POST", "/admin/v1/deposits", {"subaccountId": 9999, "symbol": "USDC", "quantity": "1"})
    assert refused.status_code == 404, refused.text
    after = ex.scrape()

    accepted = {"command": "Deposit", "result": "accepted", "reason": ""}
    assert (
        after.value("crossmargin_commands_total", **accepted) - before.value("crossmargin_commands_total", **accepted)
        == 2
    )
    refusals = {
        labels: value
        for (name, labels), value in after.samples.items()
        if name == "crossmargin_commands_total" and ("result", "refused") in labels
    }
    assert refusals == {
        frozenset({("command", "Deposit"), ("result", "refused"), ("reason", "subaccount_not_found")}): 1.0
    }, "the refusal is counted once, with the engine's reason"
    batches = after.value("crossmargin_batch_commands_count") - before.value("crossmargin_batch_commands_count")
    assert batches == 3, "each command came alone, so ran in a batch of its own"
    size_sum = after.value("crossmargin_batch_commands_sum") - before.value("crossmargin_batch_commands_sum")
    assert size_sum == 3
    flushes = after.value("crossmargin_journal_flush_seconds_count") - before.value(
        "crossmargin_journal_flush_seconds_count"
    )
    assert flushes == 2, "a batch of refusals alone writes nothing to the journal"
    assert after.value("crossmargin_journal_sequence") == before.value("crossmargin_journal_sequence") + 2
    assert after.value("crossmargin_command_queue_depth") == 0


def test_http_requests_are_counted_by_route_template_never_the_raw_path(ex: Exchanged) -> None:
    before = ex.scrape()
    for path in ("/no/such/page", "/another/missing/page"):
        assert ex.client.get(path).status_code == 404
    keys = funded(ex.exchange, USDC="1")
    ex.exchange.admin("PATCH", f"/admin/v1/subaccounts/{keys.subaccount_id}/limits", {"borrowLimit": "10"})
    ex.client.get("/api/v1/status")
    after = ex.scrape()

    def moved(**labels: str) -> float:
        return after.value("crossmargin_http_requests_total", **labels) - before.value(
            "crossmargin_http_requests_total", **labels
        )

    assert moved(route="unmatched", method="GET", status="404") == 2
    assert moved(route="/admin/v1/subaccounts/{subaccountId}/limits", method="PATCH", status="200") == 1
    assert moved(route="/api/v1/status", method="GET", status="200") == 1
    routes = {dict(labels)["route"] for (name, labels) in after.samples if name == "crossmargin_http_requests_total"}
    assert not any("missing" in route or f"/{keys.subaccount_id}/" in route for route in routes), routes
    timed = after.value("crossmargin_http_request_duration_seconds_count", route="unmatched", method="GET")
    assert timed - before.value("crossmargin_http_request_duration_seconds_count", route="unmatched", method="GET") == 2


def test_websocket_connections_are_counted_while_open(ex: Exchanged) -> None:
    assert ex.scrape().value("crossmargin_websocket_connections") == 0
    with ex.client.websocket_connect("/ws") as socket:
        socket.send_json({"method": "SUBSCRIBE", "params": ["depth.BTC_USDC"], "id": 1})
        assert socket.receive_json() == {"id": 1, "result": None}
        assert ex.scrape().value("crossmargin_websocket_connections") == 1
    assert ex.scrape().value("crossmargin_websocket_connections") == 0


def test_an_index_price_ages_with_engine_time_and_a_new_price_resets_it(ex: Exchanged) -> None:
    assert ex.exchange.admin("POST", "/admin/v1/clock/advance", {"seconds": 90}).status_code == 200
    aged = ex.scrape()
    assert aged.value("crossmargin_index_price_age_seconds", asset="BTC") >= 90
    assert ex.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "60100"}}).status_code == 200
    fresh = ex.scrape()
    assert fresh.value("crossmargin_index_price_age_seconds", asset="BTC") < 1
    assert fresh.value("crossmargin_index_price_age_seconds", asset="ETH") >= 90, "only BTC was set"


def _btc_borrower(exchange: Exchange, usdc: str) -> Keys:
    lender = funded(exchange, USDC="1000000")
    lend = {"symbol": "USDC", "side": "Lend", "quantity": "1000000"}
    assert exchange.signed(lender, "POST", "/api/v1/borrowLend", "borrowLendExecute", lend).status_code == 200
    borrower = funded(exchange, BTC="1")
    body = {"symbol": "USDC", "quantity": usdc, "address": "0xabc", "blockchain": "Ethereum", "autoBorrow": True}
    response = exchange.signed(borrower, "POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert response.status_code == 200, response.text
    return borrower


def test_a_liquidation_moves_its_steps_and_the_funds_balance(ex: Exchanged) -> None:
    before = ex.scrape()
    assert before.value("crossmargin_insurance_fund_balance", asset="USDC") == 0
    _btc_borrower(ex.exchange, "48000")
    bidder = funded(ex.exchange, USDC="1000000")
    placed(ex.exchange, bidder, symbol="BTC_USDC", side="Bid", orderType="Limit", quantity="5", price="55900")
    assert ex.exchange.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "56000"}}).status_code == 200
    after = ex.scrape()

    steps = after.value("crossmargin_liquidation_steps_total") - before.value("crossmargin_liquidation_steps_total")
    assert steps >= 1
    fund = ex.exchange.admin("GET", "/admin/v1/insurance-fund").json()
    (usdc,) = fund["balances"]
    assert Decimal(str(after.value("crossmargin_insurance_fund_balance", asset="USDC"))) == pytest.approx(
        Decimal(usdc["available"])
    )
    assert after.value("crossmargin_insurance_fund_value_usd") == pytest.approx(float(fund["value"]))
    liquidations = {"command": "Liquidate", "result": "accepted", "reason": ""}
    assert after.value("crossmargin_commands_total", **liquidations) >= 1, "the risk monitor's commands count too"


def test_a_stopped_worker_reads_zero_and_the_replica_lag_is_settable(ex: Exchanged) -> None:
    ex.metrics.set_replica_lag(12, 3.5)
    lagging = ex.scrape()
    assert lagging.value("crossmargin_replica_lag_commands") == 12
    assert lagging.value("crossmargin_replica_lag_seconds") == 3.5
    ex.monitor.stop()
    assert ex.scrape().value("crossmargin_worker_up", worker="risk-monitor") == 0


def test_a_slow_consumer_dropped_is_counted() -> None:
    with exchanged() as ex:
        hub = StreamHub(ex.service, queue_size=1)
        metrics = Metrics(ex.service, process=False)
        metrics.watch_streams(hub)
        subscriber = hub.broadcaster.connect()
        hub.broadcaster.subscribe(subscriber, "depth.BTC_USDC")
        hub.broadcaster.publish("depth.BTC_USDC", "first")
        hub.broadcaster.publish("depth.BTC_USDC", "second: the queue of one is full")
        scraped = Scraped(metrics.render().decode())
        assert scraped.value("crossmargin_websocket_dropped_consumers_total") == 1
        hub.close()


def test_the_metrics_port_serves_the_same_registry_without_a_token(ex: Exchanged) -> None:
    port = MetricsPort.start(ex.metrics, 0)
    try:
        ex.exchange.deposit(funded(ex.exchange), "USDC", "1")
        answer = HTTP.get(f"http://127.0.0.1:{port.port}/metrics", timeout=10)
        assert answer.status_code == 200
        scraped = Scraped(answer.text)
        assert scraped.value("crossmargin_commands_total", command="Deposit", result="accepted", reason="") == 1
        assert scraped.value("crossmargin_journal_sequence") == ex.service.sequence
    finally:
        port.stop()


def test_each_snapshot_is_timed(ex: Exchanged) -> None:
    """The writer runs no command while it saves a snapshot: how long that takes is the operator's to watch."""
    before = ex.scrape()
    ex.service.snapshot()
    ex.service.snapshot()
    after = ex.scrape()
    saved = after.value("crossmargin_snapshot_seconds_count") - before.value("crossmargin_snapshot_seconds_count")
    assert saved == 2
    took = after.value("crossmargin_snapshot_seconds_sum") - before.value("crossmargin_snapshot_seconds_sum")
    assert 0 < took < 60
    assert after.value("crossmargin_snapshot_seconds_bucket", le="+Inf") == after.value(
        "crossmargin_snapshot_seconds_count"
    )
