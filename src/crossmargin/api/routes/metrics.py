"""`GET /metrics`: the operator's Prometheus metrics (`api/metrics.py`), behind the admin bearer token.

Guarded like the operator API because the metrics tell what an outsider should not learn: the
insurance fund's balances, volumes by command, refusal reasons. A Prometheus scraper sends the
token (`authorization: {credentials_file: ...}` in its scrape config), or the operator serves the
metrics unguarded on a port of their own on the loopback interface (`crossmargin serve
--metrics-port`, for a scraper on the same machine). docs/OPERATIONS.md says which to choose.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api.context import ApiContext
from crossmargin.api.metrics import CONTENT_TYPE, Metrics
from crossmargin.api.operator import require_operator


def metrics_routes(context: ApiContext, metrics: Metrics) -> list[Route]:
    """Return the guarded `/metrics` route."""

    async def scrape(request: Request) -> Response:
        require_operator(request, context.admin_token)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [Route("/metrics", scrape, methods=["GET"])]
