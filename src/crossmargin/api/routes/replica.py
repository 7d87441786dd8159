"""Replication's operator routes: the state digest, and a read replica's promotion (docs/REPLICATION.md).

`GET /admin/v1/state/digest` (every server): the journal sequence and the SHA-256 of the canonical
state text (the snapshot codec's) at it, read under the state lock, so two servers at the same
sequence can be compared (INV-REPLAY-1): a primary and its replicas must give the same digest.
It encodes the whole state, a cost that grows with it: an operator's check, not a health probe.

`POST /admin/v1/replica/promote`: a read replica takes over as the sequencer (failover).

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
from crossmargin.api.views.replica import view_promotion, view_state_digest
from crossmargin.app.replica import PromotionRefusedError, ReplicaRole

CONFLICT = 409


def state_digest_routes(context: ApiContext) -> list[Route]:
    """Return the state digest route, served by primaries and replicas alike."""

    async def state_digest(request: Request) -> Response:
        require_operator(request, context.admin_token)
        service = context.service
        return json_response(service.read(lambda state: view_state_digest(state, service.sequence)))

    return [Route("/admin/v1/state/digest", state_digest, methods=["GET"])]


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
