"""Writers and watchers for journal-fault tests: load a live server, record every answer, check nothing acked is lost.

`Writers` runs a few threads, each with its own funded subaccount, that alternate an operator
deposit of a quantity unique to that subaccount and a signed withdrawal with a unique `clientId`,
as fast as the server answers, recording which were acknowledged (200) and how the others were
refused. `StatusWatcher` polls `/api/v1/status` and records every status it saw. After the fault,
`missing_acknowledged` lists every acknowledged write that the deposit and withdrawal histories do
not show.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from plain_http import HTTP
from server_process import ServerProcess, sign_request

HISTORY_PAGE = 1000


@dataclass
class WriterLog:
    """What one writer sent and what came back."""

    account: dict[str, Any]
    acked_deposits: list[str] = field(default_factory=list)
    acked_withdrawals: list[str] = field(default_factory=list)
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    acked_after: list[float] = field(default_factory=list)


class Writers:
    """Threads that write through a live server until stopped."""

    def __init__(self, server: ServerProcess, threads: int = 3) -> None:
        self.server = server
        self.logs = [WriterLog(self._funded_account()) for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write, args=(log,), daemon=True) for log in self.logs]

    def _funded_account(self) -> dict[str, Any]:
        created: dict[str, Any] = self.server.admin("POST", "/admin/v1/accounts", {}).json()
        deposit = {"subaccountId": created["subaccountId"], "symbol": "USDC", "quantity": "1000"}
        assert self.server.admin("POST", "/admin/v1/deposits", deposit).status_code == 200
        return created

    def start(self) -> None:
        """Start writing."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop writing and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def answers(self) -> collections.Counter[str]:
        """Return how often each kind of answer came back, over all writers."""
        total: collections.Counter[str] = collections.Counter()
        for log in self.logs:
            total.update(log.answers)
        return total

    def last_ack(self) -> float:
        """Return the monotonic time of the latest acknowledged write (0 when none)."""
        return max((max(log.acked_after, default=0.0) for log in self.logs), default=0.0)

    def _write(self, log: WriterLog) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            quantity = f"1.{number:06d}"
            deposit = {"subaccountId": log.account["subaccountId"], "symbol": "USDC", "quantity": quantity}
            if self._answer(log, lambda body=deposit: self.server.admin("POST", "/admin/v1/deposits", body)):
                log.acked_deposits.append(quantity)
            client_id = f"w{number}"
            withdrawal = sign_request(
                log.account["apiKey"],
                log.account["apiSecret"],
                "POST",
                "/wapi/v1/capital/withdrawals",
                "withdraw",
                {
                    "symbol": "USDC",
                    "quantity": "0.5",
                    "address": "0x00000000000000000000000000000000000000bb",
                    "blockchain": "Ethereum",
                    "clientId": client_id,
                },
            )
            if self._answer(log, lambda request=withdrawal: self.server.send(request)):
                log.acked_withdrawals.append(client_id)

    def _answer(self, log: WriterLog, send: Any) -> bool:
        try:
            response: httpx.Response = send()
        except httpx.TransportError as error:
            log.answers[type(error).__name__] += 1
            return False
        code = response.json().get("code", "") if response.status_code != 200 else ""
        log.answers[f"{response.status_code} {code}".strip()] += 1
        if response.status_code == 200:
            log.acked_after.append(time.monotonic())
            return True
        return False


class StatusWatcher:
    """Polls `/api/v1/status` on a thread and records each distinct answer in order."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.seen: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(30)

    def statuses(self) -> list[str]:
        """Return the statuses seen, in order, without repeats."""
        return [answer["status"] for answer in self.seen]

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.server.get("/api/v1/status").json()
            except httpx.TransportError:
                answer = {"status": "unreachable"}
            if not self.seen or self.seen[-1] != answer:
                self.seen.append(answer)
            time.sleep(0.01)


def wait_for_status(server: ServerProcess, status: str, seconds: float = 60.0) -> dict[str, Any]:
    """Wait (bounded) until `/api/v1/status` answers `status`; return the answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer: dict[str, Any] = server.get("/api/v1/status").json()
        if answer["status"] == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def _history(server: ServerProcess, account: dict[str, Any], path: str, instruction: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        query = {"limit": str(HISTORY_PAGE), "offset": str(len(rows))}
        request = sign_request(account["apiKey"], account["apiSecret"], "GET", path, instruction, query)
        page = HTTP.get(f"{server.url}{path}", params=query, headers=request.headers, timeout=30)
        assert page.status_code == 200, page.text
        found: list[dict[str, Any]] = page.json()
        rows += found
        if len(found) < HISTORY_PAGE:
            return rows


def missing_acknowledged(server: ServerProcess, writers: Writers) -> list[str]:
    """Return every acknowledged deposit or withdrawal that the server's histories do not show."""
    missing: list[str] = []
    for log in writers.logs:
        deposits = _history(server, log.account, "/wapi/v1/capital/deposits", "depositQueryAll")
        held = {Decimal(row["quantity"]) for row in deposits}
        missing += [f"deposit {quantity}" for quantity in log.acked_deposits if Decimal(quantity) not in held]
        withdrawals = _history(server, log.account, "/wapi/v1/capital/withdrawals", "withdrawalQueryAll")
        client_ids = {row["clientId"] for row in withdrawals}
        missing += [f"withdrawal {client_id}" for client_id in log.acked_withdrawals if client_id not in client_ids]
    return missing


def traceback_count(log: str) -> int:
    """Return how many tracebacks a server log holds."""
    return log.count("Traceback (most recent call last)")
