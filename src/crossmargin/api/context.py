"""What every route needs: the service, the admin token, the replay guard, the command runner, the risk monitor."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crossmargin.api.auth import ReplayGuard
from crossmargin.api.errors import from_rejection
from crossmargin.app.service import Service
from crossmargin.core.commands import Command
from crossmargin.core.engine import Accepted

if TYPE_CHECKING:
    from crossmargin.app.risk_monitor import RiskMonitor


class ApiRefusalError(Exception):
    """An engine refusal on its way to becoming a Backpack error response."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(slots=True)
class ApiContext:
    """Shared by all routes of one application."""

    service: Service
    admin_token: str
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    risk_monitor: RiskMonitor | None = None

    async def run(self, command: Command) -> Accepted:
        """Submit a command and wait, without blocking the event loop, for its durable result."""
        result = await asyncio.wrap_future(self.service.submit(command))
        if isinstance(result, Accepted):
            return result
        error = from_rejection(result.rejection.reason, result.rejection.message)
        raise ApiRefusalError(error.status, error.code, error.message)

    async def settle_risk(self) -> None:
        """Wait (off the event loop) until the risk monitor, if any, has liquidated what the latest batch called for."""
        if self.risk_monitor is not None:
            await asyncio.to_thread(self.risk_monitor.settle, self.service.sequence)
