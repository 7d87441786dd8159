"""Public model curves for the web page's Models view (crossmargin extensions, not Backpack's API).

`GET /api/v1/models/margin?symbol=BTC`: max initial leverage against a borrow's notional.
`GET /api/v1/models/interestRate?symbol=USDC`: the pool's borrow and lend rates against utilization.
Both need `symbol`, a listed asset; see `views/models.py` for what is sampled and how.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.responses import json_response
from crossmargin.api.views.models import view_interest_rate_model, view_margin_model

MARGIN_PATH = "/api/v1/models/margin"
INTEREST_RATE_PATH = "/api/v1/models/interestRate"


def model_routes(context: ApiContext) -> list[Route]:
    """Return the public model routes bound to a context."""

    async def margin(request: Request) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        spec = inputs.asset(dict(request.query_params), "symbol", specs)
        return json_response(view_margin_model(spec))

    async def interest_rate(request: Request) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        spec = inputs.asset(dict(request.query_params), "symbol", specs)
        return json_response(context.service.read(lambda state: view_interest_rate_model(state, spec)))

    return [
        Route(MARGIN_PATH, margin, methods=["GET"]),
        Route(INTEREST_RATE_PATH, interest_rate, methods=["GET"]),
    ]
