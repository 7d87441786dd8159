"""`POST /admin/v1/replica/promote`: a read replica takes over as the sequencer (failover; docs/REPLICATION.md).

Operator only. Body (optional): `{"fenceDatabaseUrl": "postgresql://old-primary/..."}`, the old
primary's database, fenced so that no sequencer writes it again (INV-FENCE-1). Refused with 409
`PRECONDITION_FAILED` while PostgreSQL has not promoted the standby, or once the replica took
over. The answer gives the sequence the new sequencer starts from, its writer term, what was
fenced and how long the takeover took.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import admin_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.operator import require_operator
from crossmargin.api.replica_guard import PROMOTE_PATH
from crossmargin.api.responses import json_response
from crossmargin.api.signed import read_parameters
from crossmargin.api.views.replica import view_promotion
from crossmargin.app.replica import PromotionRefusedError, ReplicaRole

CONFLICT = 409


def replica_routes(context: ApiContext, role: ReplicaRole) -> list[Route]:
    """Return the promote route of a read replica."""

    async def promote(request: Request) -> Response:
        require_operator(request, context.admin_token)
        fence = admin_inputs.fence_database_url(await read_parameters(request))
        try:
            promotion = await asyncio.to_thread(role.promote, fence)
        except PromotionRefusedError as error:
            raise ApiError(str(error), "PRECONDITION_FAILED", status=CONFLICT) from None
        return json_response(view_promotion(promotion))

    return [Route(PROMOTE_PATH, promote, methods=["POST"])]
