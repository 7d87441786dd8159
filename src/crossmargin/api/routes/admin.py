"""The operator API under /admin/v1 (DESIGN §3), guarded by a bearer token.

Accounts come with a fresh ED25519 key pair: the public key is journaled with the subaccount, the
32-byte seed is returned once and never stored. Amounts are decimal strings, as everywhere.
"""

from __future__ import annotations

import base64
import hmac

from nacl.signing import SigningKey
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crossmargin.api import inputs
from crossmargin.api.context import ApiContext, ApiRefusalError
from crossmargin.api.responses import json_response
from crossmargin.api.signed import read_parameters
from crossmargin.app.clock import ManualClock
from crossmargin.core.audit import audit
from crossmargin.core.commands import CreateAccount, CreateSubaccount, Deposit, SetMarkPrices, Tick, Transfer
from crossmargin.core.events import AccountCreated, SubaccountCreated
from crossmargin.core.ids import AccountId, SubaccountId

SECONDS_PER_ADVANCE_MAX = 366 * 24 * 3600


def _check_token(context: ApiContext, request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), context.admin_token.encode()):
        raise ApiRefusalError(401, "UNAUTHORIZED", "The operator API needs 'Authorization: Bearer <admin token>'")


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
        return json_response(
            {
                "accountId": created.account_id,
                "subaccountId": created.subaccount_id,
                "apiKey": public,
                "apiSecret": secret,
            }
        )

    async def create_subaccount(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        account_id = AccountId(inputs.integer(parameters, "accountId", minimum=1))
        public, secret = _key_pair()
        events = (await context.run(CreateSubaccount(account_id, api_keys=(public,)))).events
        created = next(event for event in events if isinstance(event, SubaccountCreated))
        return json_response(
            {
                "accountId": created.account_id,
                "subaccountId": created.subaccount_id,
                "apiKey": public,
                "apiSecret": secret,
            }
        )

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
            raise inputs.InputError('prices must be an object of symbol to decimal string, e.g. {"BTC": "65000"}')
        pairs = tuple((str(symbol), inputs.price(given, str(symbol))) for symbol in sorted(given))
        await context.run(SetMarkPrices(pairs))
        await context.settle_risk()
        return json_response({"prices": given})

    async def advance_clock(request: Request) -> Response:
        _check_token(context, request)
        parameters = await read_parameters(request)
        seconds = inputs.integer(parameters, "seconds", minimum=0)
        if seconds > SECONDS_PER_ADVANCE_MAX:
            raise inputs.InputError(f"seconds must be at most {SECONDS_PER_ADVANCE_MAX} (one year) per call")
        if not isinstance(context.service.clock, ManualClock):
            raise ApiRefusalError(400, "INVALID_CLIENT_REQUEST", "The clock can be advanced only with --clock manual")
        context.service.clock.advance(seconds)
        await context.run(Tick())
        await context.settle_risk()
        return json_response({"now": context.service.clock.now_ms()})

    async def clock(request: Request) -> Response:
        _check_token(context, request)
        return json_response(
            {"now": context.service.read(lambda state: max(state.now_ms, context.service.clock.now_ms()))}
        )

    async def audit_state(request: Request) -> Response:
        _check_token(context, request)
        checks = context.service.read(audit)
        return json_response(
            {
                "ok": all(check.ok for check in checks),
                "checks": [{"invariant": check.invariant, "ok": check.ok, "detail": check.detail} for check in checks],
            }
        )

    return [
        Route("/admin/v1/accounts", create_account, methods=["POST"]),
        Route("/admin/v1/subaccounts", create_subaccount, methods=["POST"]),
        Route("/admin/v1/deposits", deposit, methods=["POST"]),
        Route("/admin/v1/transfers", transfer, methods=["POST"]),
        Route("/admin/v1/prices", prices, methods=["POST"]),
        Route("/admin/v1/clock/advance", advance_clock, methods=["POST"]),
        Route("/admin/v1/clock", clock, methods=["GET"]),
        Route("/admin/v1/audit", audit_state, methods=["GET"]),
    ]
