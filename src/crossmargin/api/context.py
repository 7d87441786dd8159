"""What every route needs: the service, the admin token, the replay guard, and the command runner."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from crossmargin.api.auth import ReplayGuard
from crossmargin.api.errors import from_rejection
from crossmargin.app.service import Service
from crossmargin.core.commands import Command
from crossmargin.core.engine import Accepted


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

    async def run(self, command: Command) -> Accepted:
        """Submit a command and wait, without blocking the event loop, for its durable result."""
        result = await asyncio.wrap_future(self.service.submit(command))
        if isinstance(result, Accepted):
            return result
        error = from_rejection(result.rejection.reason, result.rejection.message)
        raise ApiRefusalError(error.status, error.code, error.message)
