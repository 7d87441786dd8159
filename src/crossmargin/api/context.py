"""What every route needs: the service, the admin token, the command runner, the risk monitor.

A command from a signed write runs with its `SignedRequest`, so the sequencer journals the
signature with it and never executes it twice (INV-REPLAY-2); a repeat is refused with 401 and a
message that says what came of the first copy. The replay guard itself is the service's
(`Service.replay_guard`), rebuilt from the journal on every start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crossmargin.api.errors import from_rejection, unauthorized
from crossmargin.api.health import Watched
from crossmargin.api.views.pool_history import PoolHistory
from crossmargin.app.replay_guard import DuplicateRequestError, SignedRequest
from crossmargin.app.service import Result, Service
from crossmargin.core.commands import Command
from crossmargin.core.engine import Accepted

if TYPE_CHECKING:
    from crossmargin.app.replica import ReplicaRole
    from crossmargin.app.risk_monitor import RiskMonitor


@dataclass(slots=True)
class ApiContext:
    """Shared by all routes of one application."""

    service: Service
    admin_token: str
    risk_monitor: RiskMonitor | None = None
    watched: tuple[Watched, ...] = ()
    """The background workers `/api/v1/status` and the metrics watch (`api/health.py`)."""
    replica: ReplicaRole | None = None
    pool_history: PoolHistory = field(default_factory=PoolHistory)
    """The pools' hourly history, replayed once and extended by each read (`views/pool_history.py`)."""

    async def run(self, command: Command, signed: SignedRequest | None = None) -> Accepted:
        """Submit a command (from the signed write `signed`) and wait, off the event loop, for its durable result."""
        try:
            result = await asyncio.wrap_future(self.service.submit(command, signed=signed))
        except DuplicateRequestError as error:
            raise unauthorized(str(error)) from None
        return accepted_or_refused(result)

    async def run_all(self, commands: Sequence[Command], signed: SignedRequest | None = None) -> tuple[Result, ...]:
        """Run commands in order in one batch and one durable transaction; return each one's result."""
        try:
            return await asyncio.wrap_future(self.service.submit_all(commands, signed=signed))
        except DuplicateRequestError as error:
            raise unauthorized(str(error)) from None

    async def settle_risk(self) -> None:
        """Wait (off the event loop) until the risk monitor, if any, has liquidated what the latest batch called for."""
        if self.risk_monitor is not None:
            await asyncio.to_thread(self.risk_monitor.settle, self.service.sequence)


def accepted_or_refused(result: Result) -> Accepted:
    """Return an accepted result; raise a refusal as the Backpack error it maps to."""
    if isinstance(result, Accepted):
        return result
    raise from_rejection(result.rejection.reason, result.rejection.message)
