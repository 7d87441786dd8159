"""The CLI's HTTP client: an https:// server is verified; an http:// one costs no certificate loading."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crossmargin.cli import client as cli_client


def verifies(url: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the client the CLI makes for `url` verifies certificates (httpx's default: it does)."""
    made: dict[str, Any] = {}
    real = httpx.Client

    def recording(*args: Any, **kwargs: Any) -> httpx.Client:
        made.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", recording)  # the CLI reads httpx.Client when it makes one
    cli_client.Client(url).close()
    return bool(made.get("verify", True))


@pytest.mark.parametrize("url", ["https://exchange.example", "HTTPS://exchange.example:8443/", "exchange.example"])
def test_a_server_over_tls_or_of_unknown_scheme_is_verified(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert verifies(url, monkeypatch)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "HTTP://localhost:8080/"])
def test_a_plain_http_server_loads_no_certificate_authorities(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not verifies(url, monkeypatch)
