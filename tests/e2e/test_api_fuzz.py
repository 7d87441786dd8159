"""Schemathesis fuzzes the in-process application against our own OpenAPI description (/openapi.json).

Every response must conform to the description (status, content type, body schema), no request
may get a 5xx, and every 4xx must be Backpack's error shape `{"code", "message"}` with a code from
its `ApiErrorCode` enum. Three runs: one sends what Schemathesis makes of the security schemes
(nothing or garbage), so every signed or operator route must answer 401; one signs each request
with a real subaccount key (and sends the operator token), so the handlers themselves see the
fuzzed input; one sends only schema-valid signed writes (borrowLend, account settings,
withdrawals) so that they reach the engine. The fuzzer sees the served description with
Backpack's hundreds of asset symbols cut to ours plus two unlisted ones. The default run is
short; `-m slow` runs many more examples.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey
from schemathesis import Case as GenericCase
from schemathesis import CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from signing_client import ADMIN_TOKEN, Exchange, Keys
from starlette.datastructures import QueryParams
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.api.views.docs_page import description_bytes
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs

START_MS = 1_767_225_600_000
DESCRIPTION: Final = json.loads(description_bytes())
Case = GenericCase[Any]
ERROR_CODES: Final = frozenset(DESCRIPTION["components"]["schemas"]["ApiErrorCode"]["enum"])
LENT: Final = {"USDC": "500000", "USDT": "500000", "BTC": "10", "ETH": "100", "SOL": "1000"}
LISTED: Final = tuple(LENT)
UNSIGNED_EXAMPLES: Final = 10
SIGNED_EXAMPLES: Final = 12
HANDLER_EXAMPLES: Final = 100
SLOW_EXAMPLES: Final = 500
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Backpack's `format: decimal` strings: mostly plausible amounts, so refusals come from the engine too.
schemathesis.openapi.format(
    "decimal", st.from_regex(r"\A(0|[1-9][0-9]{0,5})(\.[0-9]{1,4})?\Z") | st.sampled_from(["0.01", "1", "2000", "1e3"])
)


@schemathesis.check
def backpack_error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx body is exactly `{"code", "message"}` with a code of Backpack's enum."""
    del ctx, case
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {response.text!r}"
    assert set(body) == {"code", "message"}, f"error body fields are {sorted(body)}"
    assert body["code"] in ERROR_CODES, f"error code {body['code']!r} is not one of Backpack's ApiErrorCode"
    assert isinstance(body["message"], str), "error message is not a string"
    assert body["message"], "error message is empty"
    return True


@dataclass
class Api:
    """The application under test and the credentials the signing run uses."""

    app: Any
    keys: Keys
    lock: threading.Lock
    last_timestamp_ms: int = 0

    def timestamp(self) -> int:
        """Return a fresh timestamp: each signature must be new to pass the replay guard."""
        with self.lock:
            self.last_timestamp_ms = max(self.last_timestamp_ms + 1, int(time.time() * 1000))
            return self.last_timestamp_ms


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """An exchange with prices, a USDC lender and a subaccount holding every listed asset."""
    service = Service.open(MemoryJournal(), ManualClock(START_MS), load_asset_specs())
    try:
        app = create_app(service, ADMIN_TOKEN)
        with TestClient(app) as client:
            exchange = Exchange(client)
            prices = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": prices}).status_code == 200
            lender = exchange.new_account()
            for symbol, quantity in LENT.items():
                exchange.deposit(lender, symbol, quantity)
                lent = {"symbol": symbol, "side": "Lend", "quantity": quantity}
                response = exchange.signed(lender, "POST", "/api/v1/borrowLend", "borrowLendExecute", lent)
                assert response.status_code == 200, response.text
            keys = exchange.new_account()
            for symbol in LISTED:
                exchange.deposit(keys, symbol, "100")
        yield Api(app, keys, threading.Lock())
    finally:
        service.close()


def _fuzzed_description() -> dict[str, Any]:
    """Return the served description with Backpack's list of hundreds of assets cut to ours and two others.

    A replica's own routes (`x-served-by: replica`) are left out: the fuzzed application is a primary.
    """
    fuzzed = json.loads(description_bytes())
    fuzzed["components"]["schemas"]["CustodyAsset"]["enum"] = [*LISTED, "XRP", "DOGE"]
    for item in fuzzed["paths"].values():
        for method in [method for method, operation in item.items() if operation.get("x-served-by") == "replica"]:
            del item[method]
    fuzzed["paths"] = {path: item for path, item in fuzzed["paths"].items() if item}
    return dict(fuzzed)


# Loaded from the description the server ships (the same bytes /openapi.json serves); each call goes
# to the fixture's application in-process. (Schemathesis' fixture-based lazy loading needs a pytest
# internal that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(_fuzzed_description())


def _security(case: Case) -> set[str]:
    return {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}


def _wire_parameters(case: Case) -> dict[str, object]:
    """Return the parameters as the server will read them: the query as sent, or the JSON object body."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    keys = ("method", "url", "params", "json", "data")
    prepared = requests.Request(**{key: kwargs[key] for key in keys if key in kwargs}).prepare()
    if case.method.upper() == "GET":
        return dict(QueryParams(urlsplit(prepared.url).query))
    body = prepared.body
    if not isinstance(body, str | bytes):
        return {}
    try:
        decoded = json.loads(body) if body else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _printed(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _instruction(case: Case) -> str:
    description = case.operation.definition.raw.get("description", "")
    batch = "**Batch commands instruction:** `"
    marker = batch if batch in description else "**Instruction:** `"
    start = description.index(marker) + len(marker)
    return str(description[start : description.index("`", start)])


def _wire_batch(case: Case) -> list[object] | None:
    """Return a JSON array body (a batch, signed item by item), or None for any other body."""
    body: object = case.body if case.method.upper() != "GET" else None
    return list(body) if isinstance(body, list) else None


def _signed_text(case: Case, timestamp: int, window: int) -> str:
    """Return what a client signs: one instruction run per batch item, or the sorted parameters."""
    items = _wire_batch(case)
    runs = [item if isinstance(item, dict) else {} for item in items] if items is not None else [_wire_parameters(case)]
    texts = [
        "&".join(
            [f"instruction={_instruction(case)}"]
            + [f"{key}={_printed(value)}" for key, value in sorted(run.items()) if value is not None]
        )
        for run in runs
    ]
    return "&".join([*texts, f"timestamp={timestamp}&window={window}"])


def sign(case: Case, api: Api) -> None:
    """Give a case valid credentials: the operator token, or a fresh signature of its parameters."""
    if "operatorToken" in _security(case):
        case.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        return
    timestamp, window = api.timestamp(), 60_000
    text = _signed_text(case, timestamp, window)
    signature = SigningKey(base64.b64decode(api.keys.api_secret)).sign(text.encode()).signature
    case.headers.update(
        {
            "X-API-Key": api.keys.api_key,
            "X-Signature": base64.b64encode(signature).decode(),
            "X-Timestamp": str(timestamp),
            "X-Window": str(window),
        }
    )


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def check_unsigned(case: Case, api: Api) -> None:
    """Send the case as generated: a guarded route must refuse it with 401, any route must conform."""
    response = case.call_and_validate(checks=CHECKS, additional_checks=[backpack_error_shape], app=api.app)
    if _security(case) and case.method.upper() == case.operation.method.upper():
        assert response.status_code == 401, f"{case.method} {case.path} answered {response.status_code} unsigned"


def check_signed(case: Case, api: Api) -> None:
    """Send the case with valid credentials: the handler must answer with a conforming response, never a 5xx."""
    if _security(case):
        sign(case, api)
    case.call_and_validate(checks=CHECKS, additional_checks=[backpack_error_shape], app=api.app)


GUARDED = schema.include(path_regex="^/(api|wapi|admin)/")
HANDLERS = schemathesis.openapi.from_dict(
    _fuzzed_description(),
    config=schemathesis.Config.from_dict(
        {"generation": {"mode": "positive"}, "phases": {"coverage": {"enabled": False}}}
    ),
).include(
    path_regex="^/(api/v1/borrowLend|api/v1/account(/convertDust)?|wapi/v1/capital/withdrawals(/delay)?)$",
    method=["POST", "PATCH"],
)


@schema.parametrize()
@_settings(UNSIGNED_EXAMPLES)
def test_without_credentials_every_guarded_route_answers_401(case: Case, api: Api) -> None:
    check_unsigned(case, api)


@GUARDED.parametrize()
@_settings(SIGNED_EXAMPLES)
def test_signed_requests_reach_the_handlers(case: Case, api: Api) -> None:
    check_signed(case, api)


@HANDLERS.parametrize()
@_settings(HANDLER_EXAMPLES)
def test_valid_signed_writes_reach_the_engine(case: Case, api: Api) -> None:
    check_signed(case, api)


@pytest.mark.slow
@schema.parametrize()
@_settings(SLOW_EXAMPLES)
def test_slow_without_credentials_every_guarded_route_answers_401(case: Case, api: Api) -> None:
    check_unsigned(case, api)


@pytest.mark.slow
@GUARDED.parametrize()
@_settings(SLOW_EXAMPLES)
def test_slow_signed_requests_reach_the_handlers(case: Case, api: Api) -> None:
    check_signed(case, api)


@pytest.mark.slow
@HANDLERS.parametrize()
@_settings(SLOW_EXAMPLES)
def test_slow_valid_signed_writes_reach_the_engine(case: Case, api: Api) -> None:
    check_signed(case, api)
