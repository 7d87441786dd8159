"""`GET /api/v1/borrowLend/preview`: what `POST /api/v1/borrowLend` would do, without doing it.

Signed with the instruction `borrowLendPreview` (a crossmargin extension); the parameters are the
POST's (`symbol`, `side`, `quantity`) in the query, read by the POST's parser
(`borrow_lend_inputs.execute_borrow_lend`), so malformed input is a 400 exactly as there. An engine
refusal is not an error here: the answer is 200 with `accepted: false` and the code and message
the POST would send (see `views/borrow_lend_preview.py`).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import borrow_lend_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.responses import json_response
from crossmargin.api.signed import signed
from crossmargin.api.views.borrow_lend_preview import view_borrow_lend_preview
from crossmargin.core.ids import SubaccountId

INSTRUCTION: Final = "borrowLendPreview"
PATH: Final = "/api/v1/borrowLend/preview"


def borrow_lend_preview_routes(context: ApiContext) -> list[Route]:
    """Return the signed preview route bound to a context."""

    async def preview(_: Request, subaccount_id: SubaccountId, parameters: dict[str, object]) -> Response:
        specs = context.service.peek(lambda state: dict(state.specs))
        command = borrow_lend_inputs.execute_borrow_lend(subaccount_id, parameters, specs)
        service = context.service
        # At the time the borrow or lend itself would run (on the manual clock, 1 ms after the engine's).
        answer = service.read(lambda state: view_borrow_lend_preview(state, command, service.next_command_ms()))
        return json_response(answer)

    return [Route(PATH, signed(context, INSTRUCTION, preview), methods=["GET"])]
