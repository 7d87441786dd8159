"""On a read replica, refuse every write before it is parsed: 403 `FORBIDDEN`, naming the primary.

Every POST, PUT, PATCH and DELETE of this API creates a command (signed or operator), so the
method alone tells a write; reads, the web page and the WebSocket streams pass. The operator's
`POST /admin/v1/replica/promote` passes too: it is how a replica stops being one. Backpack has no
code for "wrong server"; `FORBIDDEN` (403) says the request will never succeed here, unlike
`MAINTENANCE` (503), which invites a retry. The service refuses commands on a replica by itself as
well (`ReplicaReadOnlyError`, answered the same way): this guard only answers first.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from crossmargin.api.responses import error_response
from crossmargin.app.replica import ReplicaRole

WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROMOTE_PATH: Final = "/admin/v1/replica/promote"
READ_ONLY_CODE: Final = "FORBIDDEN"
READ_ONLY_STATUS: Final = 403


class ReplicaWriteGuard:
    """Answer writes with 403 FORBIDDEN while the role is a read replica."""

    def __init__(self, app: ASGIApp, role: ReplicaRole) -> None:
        self.app = app
        self.role = role

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a write on a read replica; pass everything else on."""
        if (
            scope["type"] == "http"
            and scope["method"] in WRITE_METHODS
            and scope["path"] != PROMOTE_PATH
            and self.role.read_only
        ):
            response = error_response(READ_ONLY_STATUS, READ_ONLY_CODE, self.role.refusal_message())
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
