"""The HTTP application: Backpack's REST API and the operator API over one `Service`.

Starlette routes (chosen for speed with a small surface; see docs/ARCHITECTURE.md), msgspec for
JSON. Errors always take Backpack's shape `{"code", "message"}`: everything the edge refuses is one
`ApiError` (`errors.py`: engine refusals, malformed input as 400 naming the field, signature
problems as 401) answered by one handler; anything unexpected is 500 `SERVER_ERROR` (and logged).
During a journal fault the service refuses commands and state reads, which leave as 503
`MAINTENANCE` with the fault's message, unlogged: the service logs each fault once. Two pure ASGI
middlewares stand in front of every route: `host_allow_list.py` (421 for a `Host` not served here)
and `body_limit.py` (413 for a body over `BODY_BYTES_MAX`, before it is read). In front of them,
where `crossmargin serve` asks for them, the access log (`access_log.py`) and the rate limits
(`rate_limit.py`: 429 before any other work). On a read replica (`app/replica.py`) a last
middleware refuses every write with 403 `FORBIDDEN` naming the primary (`replica_guard.py`), and
the operator API gains `POST /admin/v1/replica/promote` (`routes/replica.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crossmargin.api.access_log import AccessLog, AccessLogWriter
from crossmargin.api.body_limit import BodyLimit
from crossmargin.api.context import ApiContext
from crossmargin.api.edge_reads import edge_read_routes
from crossmargin.api.errors import ApiError, server_error
from crossmargin.api.health import Watched
from crossmargin.api.host_allow_list import IN_PROCESS_HOSTS, HostAllowList
from crossmargin.api.http_metrics import HttpMetrics
from crossmargin.api.metrics import Metrics
from crossmargin.api.path_index import PathIndexRouter
from crossmargin.api.rate_limit import RateLimit, RateLimiter
from crossmargin.api.replica_guard import READ_ONLY_CODE, READ_ONLY_STATUS, ReplicaWriteGuard
from crossmargin.api.responses import error_response
from crossmargin.api.routes.admin import admin_routes
from crossmargin.api.routes.api_keys import api_key_routes
from crossmargin.api.routes.borrow_lend import borrow_lend_routes
from crossmargin.api.routes.borrow_lend_preview import borrow_lend_preview_routes
from crossmargin.api.routes.capital_extras import capital_extra_routes
from crossmargin.api.routes.docs import docs_routes
from crossmargin.api.routes.explain import explain_routes
from crossmargin.api.routes.liquidation_price import liquidation_price_routes
from crossmargin.api.routes.market_data import market_data_routes
from crossmargin.api.routes.markets import market_routes
from crossmargin.api.routes.metrics import metrics_routes
from crossmargin.api.routes.models import model_routes
from crossmargin.api.routes.orders import order_routes
from crossmargin.api.routes.reads import private_read_routes, public_read_routes
from crossmargin.api.routes.replica import replica_routes, state_digest_routes
from crossmargin.api.routes.trading_reads import trading_read_routes
from crossmargin.api.routes.web import web_routes
from crossmargin.api.streams import StreamHub, stream_routes
from crossmargin.app.command_channel import EdgeService
from crossmargin.app.ports import ReplicaReadOnlyError
from crossmargin.app.service import Service, ServiceUnavailableError

if TYPE_CHECKING:
    from crossmargin.app.replica import ReplicaRole
    from crossmargin.app.risk_monitor import RiskMonitor

LOG = logging.getLogger("crossmargin.api")


async def _on_api_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message)


async def _on_http(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = "RESOURCE_NOT_FOUND" if error.status_code == 404 else "INVALID_CLIENT_REQUEST"
    return error_response(error.status_code, code, str(error.detail))


async def _on_unavailable(_: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceUnavailableError)
    return error_response(503, "MAINTENANCE", error.message)


async def _on_read_only(_: Request, error: Exception) -> Response:
    assert isinstance(error, ReplicaReadOnlyError)
    return error_response(READ_ONLY_STATUS, READ_ONLY_CODE, str(error))


async def _on_unexpected(request: Request, error: Exception) -> Response:
    LOG.error("unexpected error", exc_info=error)
    return await _on_api_error(request, server_error())


def create_app(  # noqa: PLR0913 -- the service, its token, and what `crossmargin serve` puts around it
    service: Service,
    admin_token: str,
    *,
    risk_monitor: RiskMonitor | None = None,
    allowed_hosts: Iterable[str] = IN_PROCESS_HOSTS,
    rate_limiter: RateLimiter | None = None,
    access_log: AccessLogWriter | None = None,
    metrics: Metrics | None = None,
    watched: Sequence[Watched] = (),
    replica: ReplicaRole | None = None,
) -> Starlette:
    """Build the application over a running service (and its risk monitor, which operator price moves wait for).

    Requests must name a loopback host or one of `allowed_hosts` in `Host`; the default admits the
    in-process test client's name, and `crossmargin serve` passes its bind address and
    `--allowed-host` names instead. Without `rate_limiter` nothing is rate limited, without
    `access_log` nothing is logged: `crossmargin serve` passes what its flags ask for. `/metrics`
    serves `metrics` (a fresh registry without it); `watched` are the started background workers
    whose death `/api/v1/status` and the metrics report. With `replica`, the service is a read
    replica's (`crossmargin serve --replica`).
    """
    context = ApiContext(service, admin_token, risk_monitor=risk_monitor, watched=tuple(watched), replica=replica)
    metrics = metrics if metrics is not None else Metrics(service)
    metrics.watch(context.watched)
    hub = StreamHub(service)
    metrics.watch_streams(hub)
    routes = [
        *public_read_routes(context),
        *market_routes(context),
        *docs_routes(context),
        *private_read_routes(context),
        *capital_extra_routes(context),
        *api_key_routes(context),
        *borrow_lend_routes(context),
        *borrow_lend_preview_routes(context),
        *admin_routes(context),
        *market_data_routes(context),
        *order_routes(context),
        *trading_read_routes(context),
        *stream_routes(context, hub),
        *metrics_routes(context, metrics),
        *explain_routes(context),
        *liquidation_price_routes(context),
        *model_routes(context),
        *web_routes(context),
        *state_digest_routes(context),
        *(replica_routes(context, replica) if replica is not None else ()),
    ]
    front = [Middleware(HttpMetrics, metrics=metrics), *front_middleware(rate_limiter, access_log)]
    back = [] if replica is None else [Middleware(ReplicaWriteGuard, role=replica)]
    return _application(routes, allowed_hosts, front, back)


def create_edge_app(
    service: EdgeService, admin_token: str, *, allowed_hosts: Iterable[str] = IN_PROCESS_HOSTS
) -> Starlette:
    """Build an edge worker's application: signed writes, ping and the channel's reads, over a service that forwards.

    The same route code as `create_app` for the writes, the same `signed()` wrapper for the reads
    (`api/edge_reads.py`, listed first so they win over the full routes of the same path), the same
    middlewares and error shapes (`api/edge.py` sends the rest on).
    """
    context = ApiContext(service, admin_token)
    routes = [
        *edge_read_routes(context, service.fetch_read),
        *public_read_routes(context),
        *borrow_lend_routes(context),
        *order_routes(context),
    ]
    return _application(routes, allowed_hosts)


def front_middleware(rate_limiter: RateLimiter | None, access_log: AccessLogWriter | None) -> list[Middleware]:
    """Return the middlewares in front of the Host and body checks, where asked for.

    The access log comes first (so it sees every answer, 429s included), then the rate limits.
    """
    front = [] if access_log is None else [Middleware(AccessLog, writer=access_log)]
    return front if rate_limiter is None else [*front, Middleware(RateLimit, limiter=rate_limiter)]


def _application(
    routes: list[BaseRoute],
    allowed_hosts: Iterable[str],
    front: list[Middleware] | None = None,
    back: list[Middleware] | None = None,
) -> Starlette:
    application = Starlette(
        routes=routes,
        middleware=[
            *(front or []),
            Middleware(HostAllowList, allowed_hosts=tuple(allowed_hosts)),
            Middleware(BodyLimit),
            *(back or []),
        ],
        exception_handlers={
            ApiError: _on_api_error,
            HTTPException: _on_http,
            ServiceUnavailableError: _on_unavailable,
            ReplicaReadOnlyError: _on_read_only,
            Exception: _on_unexpected,
        },
    )
    application.router = PathIndexRouter(routes)  # the same routes, found without trying each pattern in turn
    return application
