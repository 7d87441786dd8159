"""Only requests naming an allowed `Host` are served: DNS rebinding cannot reach the API, the page or the streams.

In-process through the ASGI app (the live-server checks of `serve --allowed-host` are in
`test_api_edge_live_server.py`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.host_allow_list import host_name
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.cli.main import build_parser

START_MS = 1_767_225_600_000
FOREIGN = "rebound.example"


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client of an app that also serves the name `exchange.internal`."""
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    try:
        app = create_app(service, "token", allowed_hosts=("exchange.internal",))
        with TestClient(app, base_url="http://localhost:8080") as test_client:
            yield test_client
    finally:
        service.close()


@pytest.mark.parametrize("path", ["/api/v1/assets", "/lend", "/static/js/main.js"])
def test_a_foreign_host_is_refused_421_on_api_and_page_routes(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": f"{FOREIGN}:8080"})
    assert response.status_code == 421
    assert response.json() == {
        "code": "INVALID_CLIENT_REQUEST",
        "message": f"Host '{FOREIGN}:8080' is not served here: use 127.0.0.1 or localhost, "
        "or start the server with --allowed-host NAME for each name clients use",
    }


def test_a_foreign_host_cannot_open_a_websocket(client: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws", headers={"Host": FOREIGN}):
        pass
    assert denied.value.status_code == 421
    assert denied.value.json()["code"] == "INVALID_CLIENT_REQUEST"


def test_a_websocket_to_an_allowed_host_opens(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers={"Host": "localhost:8080"}) as websocket:
        websocket.send_json({"method": "SUBSCRIBE", "params": ["engine.update"], "id": 1})
        assert websocket.receive_json() == {"id": 1, "result": None}


@pytest.mark.parametrize("host", ["localhost:8080", "LOCALHOST.", "127.0.0.1", "[::1]:9", "exchange.internal:443"])
def test_loopback_names_and_the_allowed_name_are_served_on_any_port(client: TestClient, host: str) -> None:
    response = client.get("/api/v1/ping", headers={"Host": host})
    assert (response.status_code, response.text) == (200, "pong")


def test_a_request_without_a_host_is_refused(client: TestClient) -> None:
    # HTTP/1.1 clients always send Host; an HTTP/1.0 request may not, and is not an exception.
    response = client.get("/api/v1/ping", headers={"Host": ""})
    assert response.status_code == 421
    assert response.json()["message"].startswith("A request without a Host header is not served here")


@pytest.mark.parametrize(
    ("header", "name"),
    [("localhost:8080", "localhost"), ("[::1]:8080", "::1"), ("::1", "::1"), ("Example.COM.", "example.com")],
)
def test_the_host_name_drops_port_brackets_case_and_the_trailing_dot(header: str, name: str) -> None:
    assert host_name(header) == name


def test_allowed_hosts_come_from_the_flag_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSMARGIN_ALLOWED_HOSTS", "a.example, b.example")
    arguments = build_parser().parse_args(["serve", "--allowed-host", "c.example", "--allowed-host", "d.example"])
    assert arguments.allowed_hosts == ["a.example", "b.example", "c.example", "d.example"]
    monkeypatch.delenv("CROSSMARGIN_ALLOWED_HOSTS")
    assert build_parser().parse_args(["serve"]).allowed_hosts == []
