"""The operator API under /admin/v1 (DESIGN §3), guarded by a bearer token.

Accounts come with a fresh ED25519 key pair: the public key is journaled with the subaccount, the
32-byte seed is returned once and never stored. `POST /admin/v1/subaccounts/{id}/apiKeys` adds
another pair to an existing subaccount (the web page's operator sign-in: the operator cannot read
a secret back, so it makes a new one); `GET /admin/v1/subaccounts` lists the subaccounts;
`GET /admin/v1/insurance-fund` shows the insurance fund (`views/insurance_fund.py`). Adding a key
to the fund (subaccount 0) is refused: nobody signs for it. Amounts are decimal strings, as
everywhere.
"""

from __future__ import annotations

import base64
import hmac

from nacl.signing import SigningKey
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext
from crossmargin.api.errors import ApiError, unauthorized
from crossmargin.api.responses import json_response
from crossmargin.api.signed import read_parameters
from crossmargin.api.views.admin import view_audit, view_new_key, view_subaccounts
from crossmargin.api.views.insurance_fund import view_insurance_fund
from crossmargin.app.clock import ManualClock
from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    AddApiKey,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    SetMarkPrices,
    Tick,
    Transfer,
)
from crossmargin.core.events import AccountCreated, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId

SECONDS_PER_ADVANCE_MAX = 366 * 24 * 3600
"""One call to POST /admin/v1/clock/advance moves the manual clock at most a (leap) year."""


def _check_token(context: ApiContext, request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), context.admin_token.encode()):
        raise unauthorized("The operator API needs 'Authorization: Bearer <admin token>'")


def _key_pair() -> tuple[str, str]:
    key = SigningKey.generate()
    return base64.b64encode(bytes(key.verify_key)).decode(), base64.b64encode(bytes(key)).decode()


def admin_routes(context: ApiContext) -> list[Route]:  # noqa: C901, PLR0915 -- one small closure per route
    """Return the operator routes bound to a context."""

    async def create_account(request: Request) -> Response:
        _check_token(context, request)
        await read_parameters(request)
        public, secret = _key_pair()
        events = (await context.run(CreateAccount(api_keys=(public,)))).events
        created = next(event for event in events if isinstance(event, AccountCreated))
        return json_response(view_new_key(created.account_id, created.subaccount_id, public, secret))

    async def create_subaccount(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        account_id = AccountId(inputs.integer(parameters, "accountId", minimum=1))
        public, secret = _key_pair()
        events = (await context.run(CreateSubaccount(account_id, api_keys=(public,)))).events
        created = next(event for event in events if isinstance(event, SubaccountCreated))
        return json_response(view_new_key(created.account_id, created.subaccount_id, public, secret))

    async def list_subaccounts(request: Request) -> Response:
        _check_token(context, request)
        return json_response(context.service.read(view_subaccounts))

    async def add_api_key(request: Request) -> Response:
        _check_token(context, request)
        await read_parameters(request)
        path = {"subaccountId": request.path_params["subaccountId"]}
        subaccount_id = SubaccountId(inputs.integer(path, "subaccountId"))
        public, secret = _key_pair()
        await context.run(AddApiKey(subaccount_id, public))
        account_id = context.service.peek(lambda state: state.subaccounts[subaccount_id].account_id)
        return json_response(view_new_key(account_id, subaccount_id, public, secret))

    async def deposit(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        specs = context.service.peek(lambda state: dict(state.specs))
        spec = inputs.asset(parameters, "symbol", specs)
        atoms = inputs.quantity(parameters, "quantity", spec, stepped=False)
        # Subaccount 0 is the insurance fund: the operator may top it up.
        subaccount_id = SubaccountId(inputs.integer(parameters, "subaccountId", minimum=0))
        await context.run(Deposit(subaccount_id, spec.symbol, atoms))
        return json_response({"subaccountId": subaccount_id, "symbol": spec.symbol, "quantity": parameters["quantity"]})

    async def transfer(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        specs = context.service.peek(lambda state: dict(state.specs))
        spec = inputs.asset(parameters, "symbol", specs)
        command = Transfer(
            SubaccountId(inputs.integer(parameters, "fromSubaccountId", minimum=1)),
            SubaccountId(inputs.integer(parameters, "toSubaccountId", minimum=1)),
            spec.symbol,
            inputs.quantity(parameters, "quantity", spec, stepped=False),
        )
        await context.run(command)
        return json_response({"symbol": spec.symbol, "quantity": parameters["quantity"]})

    async def prices(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        given = parameters.get("prices")
        if not isinstance(given, dict) or not given:
            raise ApiError('prices must be an object of symbol to decimal string, e.g. {"BTC": "65000"}')
        inputs.require_parameter_count(len(given), "prices")
        pairs = tuple(
            (inputs.text({"symbol": symbol}, "symbol"), inputs.price(given, symbol)) for symbol in sorted(given)
        )
        # `force` passes the jump band: the operator knows the market really moved that far.
        await context.run(SetMarkPrices(pairs, force=inputs.optional_bool(parameters, "force") or False))
        await context.settle_risk()
        return json_response({"prices": given})

    async def advance_clock(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        seconds = inputs.integer(
            parameters, "seconds", maximum=SECONDS_PER_ADVANCE_MAX, maximum_is=" (one year) per call"
        )
        if not isinstance(context.service.clock, ManualClock):
            raise ApiError("The clock can be advanced only with --clock manual")
        context.service.clock.advance(seconds)
        await context.run(Tick())
        await context.settle_risk()
        return json_response({"now": context.service.clock.now_ms()})

    async def clock(request: Request) -> Response:
        _check_token(context, request)
        return json_response(
            {"now": context.service.read(lambda state: max(state.now_ms, context.service.clock.now_ms()))}
        )

    async def insurance_fund(request: Request) -> Response:
        _check_token(context, request)
        return json_response(context.service.read(view_insurance_fund))

    async def audit_state(request: Request) -> Response:
        _check_token(context, request)
        return json_response(view_audit(context.service.read(audit)))

    return [
        Route("/admin/v1/accounts", create_account, methods=["POST"]),
        Route("/admin/v1/subaccounts", create_subaccount, methods=["POST"]),
        Route("/admin/v1/subaccounts", list_subaccounts, methods=["GET"]),
        Route("/admin/v1/subaccounts/{subaccountId}/apiKeys", add_api_key, methods=["POST"]),
        Route("/admin/v1/deposits", deposit, methods=["POST"]),
        Route("/admin/v1/transfers", transfer, methods=["POST"]),
        Route("/admin/v1/prices", prices, methods=["POST"]),
        Route("/admin/v1/clock/advance", advance_clock, methods=["POST"]),
        Route("/admin/v1/clock", clock, methods=["GET"]),
        Route("/admin/v1/insurance-fund", insurance_fund, methods=["GET"]),
        Route("/admin/v1/audit", audit_state, methods=["GET"]),
    ]
