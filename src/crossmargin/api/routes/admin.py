"""The operator API under /admin/v1 (DESIGN §3), guarded by a bearer token.

Accounts come with a fresh ED25519 key pair: the public key is journaled with the subaccount, the
32-byte seed is returned once and never stored. `POST /admin/v1/subaccounts/{id}/apiKeys` adds
another pair to an existing subaccount (the web page's operator sign-in: the operator cannot read
a secret back, so it makes a new one); `GET /admin/v1/subaccounts` lists the subaccounts;
`PATCH /admin/v1/subaccounts/{id}/limits` sets a subaccount's account-wide `borrowLimit` and
`positionLimit` (USD; answers with its `GET /api/v1/account`); `GET /admin/v1/insurance-fund`
shows the insurance fund (`views/insurance_fund.py`). Adding a key to the fund (subaccount 0) is
refused: nobody signs for it. Amounts are decimal strings, as everywhere.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import admin_inputs, capital_inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError
from crossmargin.api.operator import new_key_pair, require_operator
from crossmargin.api.responses import json_response
from crossmargin.api.signed import read_parameters
from crossmargin.api.views.account import view_account
from crossmargin.api.views.admin import (
    view_audit,
    view_clock,
    view_created_key,
    view_deposit,
    view_new_key,
    view_prices_set,
    view_subaccounts,
    view_transfer,
)
from crossmargin.api.views.insurance_fund import view_insurance_fund
from crossmargin.app.clock import ManualClock
from crossmargin.core.audit import audit
from crossmargin.core.commands import AddApiKey, CreateAccount, Tick


def admin_routes(context: ApiContext) -> list[Route]:  # noqa: C901, PLR0915 -- one small closure per route
    """Return the operator routes bound to a context."""

    async def create_account(request: Request) -> Response:
        require_operator(request, context.admin_token)
        await read_parameters(request)
        public, secret = new_key_pair()
        events = (await context.run(CreateAccount(api_keys=(public,)))).events
        return json_response(view_created_key(events, public, secret))

    async def create_subaccount(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        public, secret = new_key_pair()
        events = (await context.run(admin_inputs.create_subaccount(parameters, public))).events
        return json_response(view_created_key(events, public, secret))

    async def list_subaccounts(request: Request) -> Response:
        require_operator(request, context.admin_token)
        return json_response(context.service.read(view_subaccounts))

    async def add_api_key(request: Request) -> Response:
        require_operator(request, context.admin_token)
        await read_parameters(request)
        subaccount_id = admin_inputs.path_subaccount_id(request.path_params)
        public, secret = new_key_pair()
        await context.run(AddApiKey(subaccount_id, public))
        account_id = context.service.peek(lambda state: state.subaccounts[subaccount_id].account_id)
        return json_response(view_new_key(account_id, subaccount_id, public, secret))

    async def set_limits(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        subaccount_id = admin_inputs.path_subaccount_id(request.path_params)
        await context.run(admin_inputs.set_account_limits(subaccount_id, parameters))
        return json_response(context.service.read(lambda state: view_account(state, subaccount_id)))

    async def deposit(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        command = capital_inputs.deposit(parameters, context.service.peek(lambda state: dict(state.specs)))
        await context.run(command)
        return json_response(view_deposit(command, str(parameters["quantity"])))

    async def transfer(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        command = capital_inputs.transfer(parameters, context.service.peek(lambda state: dict(state.specs)))
        await context.run(command)
        return json_response(view_transfer(command, str(parameters["quantity"])))

    async def prices(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        command = admin_inputs.set_mark_prices(parameters)
        await context.run(command)
        await context.settle_risk()
        return json_response(view_prices_set(parameters["prices"]))

    async def advance_clock(request: Request) -> Response:
        require_operator(request, context.admin_token)
        parameters = await read_parameters(request)
        seconds = admin_inputs.clock_seconds(parameters)
        if not isinstance(context.service.clock, ManualClock):
            raise ApiError("The clock can be advanced only with --clock manual")
        context.service.clock.advance(seconds)
        await context.run(Tick())
        await context.settle_risk()
        return json_response(view_clock(context.service.clock.now_ms()))

    async def clock(request: Request) -> Response:
        require_operator(request, context.admin_token)
        now_ms = context.service.read(lambda state: max(state.now_ms, context.service.clock.now_ms()))
        return json_response(view_clock(now_ms))

    async def insurance_fund(request: Request) -> Response:
        require_operator(request, context.admin_token)
        return json_response(context.service.read(view_insurance_fund))

    async def audit_state(request: Request) -> Response:
        require_operator(request, context.admin_token)
        return json_response(view_audit(context.service.read(audit)))

    return [
        Route("/admin/v1/accounts", create_account, methods=["POST"]),
        Route("/admin/v1/subaccounts", create_subaccount, methods=["POST"]),
        Route("/admin/v1/subaccounts", list_subaccounts, methods=["GET"]),
        Route("/admin/v1/subaccounts/{subaccountId}/apiKeys", add_api_key, methods=["POST"]),
        Route("/admin/v1/subaccounts/{subaccountId}/limits", set_limits, methods=["PATCH"]),
        Route("/admin/v1/deposits", deposit, methods=["POST"]),
        Route("/admin/v1/transfers", transfer, methods=["POST"]),
        Route("/admin/v1/prices", prices, methods=["POST"]),
        Route("/admin/v1/clock/advance", advance_clock, methods=["POST"]),
        Route("/admin/v1/clock", clock, methods=["GET"]),
        Route("/admin/v1/insurance-fund", insurance_fund, methods=["GET"]),
        Route("/admin/v1/audit", audit_state, methods=["GET"]),
    ]
