"""Run real Backpack clients against a live crossmargin server, each inside its own virtual environment.

ccxt, bpx-py and backpack-exchange-sdk pin conflicting versions of `cryptography`, so each lives
in its own venv at the repository root (`.venv-ccxt`, `.venv-bpx`, `.venv-sdk`, made by
`make client-venvs`). A test starts a server (`live_server.start`, manual clock), sets up an
account through the operator API, and runs a script from tests/e2e/clients/scripts in the
client's venv; the script signs its own requests and prints one JSON object of step results.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import TOKEN, free_port, start, stop
from tests.environment import missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "e2e" / "clients" / "scripts"
STAMP = ".client-installed"  # written by scripts/client-venvs.sh once a venv is complete
SCRIPT_TIMEOUT_S = 60
# Variables that would make a client's interpreter load the project's packages or send loopback
# traffic through a proxy.
DROPPED_ENVIRONMENT = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


def client_python(venv_name: str) -> Path:
    """Return the interpreter of a client venv, or skip the test saying how to create it."""
    venv = ROOT / venv_name
    python = venv / "bin" / "python"
    if not python.exists() or not (venv / STAMP).exists():
        missing(
            venv_name,
            f"{venv_name} is missing or incomplete: create the client venvs with `make client-venvs` "
            "(runs scripts/client-venvs.sh, which installs ccxt, bpx-py and backpack-exchange-sdk from PyPI)",
        )
    return python


@dataclass(frozen=True)
class Credentials:
    """A subaccount and its key pair, as POST /admin/v1/accounts returns them."""

    subaccount_id: int
    api_key: str
    api_secret: str


class LiveExchange:
    """A live server on loopback, driven through its operator API."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.admin = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10, trust_env=False
        )

    def new_account(self, deposits: Mapping[str, str]) -> Credentials:
        """Open an account and credit each deposit to its subaccount."""
        created = self.admin.post("/admin/v1/accounts", json={}).json()
        credentials = Credentials(created["subaccountId"], created["apiKey"], created["apiSecret"])
        for symbol, quantity in deposits.items():
            body = {"subaccountId": credentials.subaccount_id, "symbol": symbol, "quantity": quantity}
            response = self.admin.post("/admin/v1/deposits", json=body)
            assert response.status_code == 200, response.text
        return credentials

    def advance(self, seconds: int) -> None:
        """Advance the manual clock, running every hour's interest that falls due."""
        response = self.admin.post("/admin/v1/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def audit(self) -> dict[str, object]:
        """Return the audit of every invariant on the live state."""
        audit: dict[str, object] = self.admin.get("/admin/v1/audit").json()
        return audit

    def run_client(
        self, venv_name: str, script: str, credentials: Credentials, phase: str, timeout_s: float = SCRIPT_TIMEOUT_S
    ) -> dict[str, object]:
        """Run a client script in its venv; return its step results (each {"ok": ...} or {"error": ...})."""
        python = client_python(venv_name)
        environment = {name: value for name, value in os.environ.items() if name not in DROPPED_ENVIRONMENT}
        environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
        command = [str(python), str(SCRIPTS / script), self.base_url, credentials.api_key, credentials.api_secret]
        finished = subprocess.run(
            [*command, phase],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=environment,
            check=False,
        )
        assert finished.returncode == 0, f"{script} {phase} exited {finished.returncode}:\n{finished.stderr}"
        results: dict[str, object] = json.loads(finished.stdout)
        return results


@contextmanager
def live_exchange(data_dir: Path, options: Sequence[str] = ()) -> Iterator[LiveExchange]:
    """Start a server on a free loopback port (with any further `serve` options); on the way out check the audit and stop it."""
    port = free_port()
    server = start(data_dir, port, options=options)
    exchange = LiveExchange(port)
    try:
        yield exchange
        audit = exchange.audit()
        assert audit["ok"] is True, audit
    finally:
        exchange.admin.close()
        stop(server)


def ok(results: Mapping[str, object], step: str) -> Any:
    """Return a step's result (decoded JSON), or fail the test with the client's exact error."""
    outcome = results.get(step)
    assert isinstance(outcome, dict), f"step {step} did not run: {sorted(results)}"
    if "error" in outcome:
        pytest.fail(f"{step} failed in the client: {outcome['error']}")
    return outcome["ok"]
