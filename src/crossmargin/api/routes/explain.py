"""`GET /api/v1/explain/borrows` (a crossmargin extension): why each borrow of a subaccount exists.

Signed like Backpack's history queries (instruction `borrowExplanationQuery`), with an optional
`symbol` and `limit`. Each row is one borrow, newest first, with its source and the records that
caused it (`app/explain.py`), amounts as decimal strings: for `Reconciliation` the settled PnL,
fees and funding of that instant and the shortfall they left; for `SpotMargin` the orders placed
with `autoBorrow` (`views/explain.py`). The CLI's `crossmargin explain borrows` puts the rows in words.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views.explain import view_borrow_explanations
from crossmargin.core.ids import SubaccountId

LIMIT_DEFAULT: Final = 100
LIMIT_MAX: Final = 1000


def explain_routes(context: ApiContext) -> list[Route]:
    """Return the explanation routes."""

    async def borrows(_: Request, sub: SubaccountId, parameters: dict[str, object]) -> Response:
        given = inputs.optional_text(parameters, "symbol")
        symbol = None if given is None else given.upper()
        limit = inputs.integer(parameters, "limit", minimum=1, maximum=LIMIT_MAX, default=LIMIT_DEFAULT)
        return json_response(context.service.read(lambda state: view_borrow_explanations(state, sub, symbol, limit)))

    return [Route("/api/v1/explain/borrows", signed(context, "borrowExplanationQuery", borrows), methods=["GET"])]
