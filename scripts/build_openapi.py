# ruff: noqa: INP001 -- a script, not a package
"""Build src/crossmargin/data/openapi.json: our OpenAPI description, made from Backpack's spec and our routes.

Backpack's published spec (`../shared/reference/backpack-openapi.yml` beside the repository) is not
part of the package, so the description we serve is generated once with this script and committed.
The routes come from the application itself (`create_app`), so the description covers exactly what
the server answers: each Backpack route takes its operation from Backpack's spec (parameters,
request body, response schemas, with the component schemas they reference), with the signature
headers as security schemes and the error statuses we actually send; the operator API
(`/admin/v1/...`, bearer token) and the documentation routes are described here.

    python scripts/build_openapi.py            # rewrite the committed file
    python scripts/build_openapi.py --check    # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import yaml

ROOT: Final = Path(__file__).resolve().parent.parent
SPEC_PATH: Final = ROOT.parent / "shared" / "reference" / "backpack-openapi.yml"
OUTPUT_PATH: Final = ROOT / "src" / "crossmargin" / "data" / "openapi.json"

JSON: Final = "application/json; charset=utf-8"
ERROR_REF: Final = {"$ref": "#/components/schemas/ApiErrorResponse"}
SIGNATURE_HEADERS: Final = ("X-API-KEY", "X-SIGNATURE", "X-TIMESTAMP")
# Backpack's spec lists no signature headers or instruction for these, yet its server answers 401
# without a signature; crossmargin signs them with the instruction named here.
SIGNED_DESPITE_SPEC: Final = {
    ("/api/v1/borrowLend/position/liquidationPrice", "get"): "borrowLendPositionLiquidationPrice",
}
SIGNED: Final[list[dict[str, list[str]]]] = [{"apiKey": [], "signature": [], "timestamp": []}]
OPERATOR: Final[list[dict[str, list[str]]]] = [{"operatorToken": []}]
SENT_STATUSES: Final = ("200", "204", "400", "401", "404", "409", "500")
# The one operation that answers 409: creating a withdrawal delay that exists (Backpack lists 409 elsewhere too).
CONFLICT_OPERATIONS: Final = {("/wapi/v1/capital/withdrawals/delay", "post")}
ERROR_DESCRIPTIONS: Final = {
    "400": "Bad request: malformed input, or a refusal of the engine (the code says which).",
    "401": "Unauthorized: signature headers missing, malformed, stale, replayed or wrong, or an unknown API key.",
    "404": "Not found.",
    "409": "Conflict: what the request would create exists already.",
    "500": "Internal server error.",
}

Document = dict[str, Any]

DESCRIPTION: Final = """\
crossmargin speaks Backpack Exchange's REST API for borrowing and lending: the paths, parameters, \
request and response schemas and error codes below are taken from Backpack's published OpenAPI \
spec, for the routes this server answers, plus the operator API under `/admin/v1`.

**Signed requests** carry `X-API-Key`, `X-Signature`, `X-Timestamp` and optionally `X-Window`. \
Sign `instruction=<instruction>&<parameters sorted by key as k=v>&timestamp=<ms>&window=<ms>` with the \
subaccount's ED25519 secret; the parameters are the query (GET) or the JSON body. Each operation's \
description names its instruction. A signature is accepted once.

**The operator API** (`/admin/v1/...`) takes `Authorization: Bearer <token>`.

**Errors** always have the shape `{"code", "message"}`, `code` from Backpack's `ApiErrorCode`. \
Amounts are decimal strings."""

SECURITY_SCHEMES: Final = {
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Base64 ED25519 public key of the subaccount (from `POST /admin/v1/accounts`).",
    },
    "signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "Base64 ED25519 signature of `instruction=<instruction>&<parameters sorted by key, k=v>"
        "&timestamp=<X-Timestamp>&window=<X-Window>`, parameters from the query (GET) or the JSON body. "
        "Each operation names its instruction.",
    },
    "timestamp": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Timestamp",
        "description": "Unix time of the request in milliseconds; each signature is accepted once within its window.",
    },
    "operatorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator token: `CROSSMARGIN_ADMIN_TOKEN`, or the one `crossmargin serve` prints at start.",
    },
}

WINDOW_PARAMETER: Final = {
    "name": "X-Window",
    "in": "header",
    "required": False,
    "description": "Time the request is valid for in milliseconds (default `5000`, maximum `60000`).",
    "schema": {"type": "integer", "format": "uint64", "minimum": 1, "maximum": 60000},
}


def _object(properties: dict[str, Any], required: list[str], description: str = "") -> Document:
    schema: Document = {"type": "object", "required": required, "properties": properties}
    if description:
        schema["description"] = description
    return schema


_ID: Final = {"type": "integer", "format": "uint32", "minimum": 1}
_DECIMAL: Final = {"type": "string", "format": "decimal"}
_SYMBOL: Final = {"type": "string", "description": "A listed asset, e.g. `USDC`."}

OPERATOR_SCHEMAS: Final[dict[str, Document]] = {
    "AdminCredentials": _object(
        {
            "accountId": _ID,
            "subaccountId": _ID,
            "apiKey": {"type": "string", "description": "Base64 ED25519 public key: send it as X-API-Key."},
            "apiSecret": {"type": "string", "description": "Base64 32-byte ED25519 seed; shown once, never stored."},
        },
        ["accountId", "subaccountId", "apiKey", "apiSecret"],
        "A new subaccount and its key pair.",
    ),
    "AdminCreateAccountRequest": {"type": "object", "description": "Empty: `{}`.", "properties": {}},
    "AdminCreateSubaccountRequest": _object({"accountId": _ID}, ["accountId"]),
    "AdminSubaccounts": {
        "type": "array",
        "description": "Every subaccount but the insurance fund (subaccount 0), by id.",
        "items": _object(
            {
                "subaccountId": _ID,
                "accountId": _ID,
                "apiKeyCount": {"type": "integer", "minimum": 0, "description": "How many API keys sign for it."},
                "liquidating": {"type": "boolean", "description": "Whether a liquidation is under way."},
            },
            ["subaccountId", "accountId", "apiKeyCount", "liquidating"],
        ),
    },
    "AdminDepositRequest": _object(
        {"subaccountId": _ID, "symbol": _SYMBOL, "quantity": _DECIMAL}, ["subaccountId", "symbol", "quantity"]
    ),
    "AdminDeposit": _object(
        {"subaccountId": _ID, "symbol": _SYMBOL, "quantity": _DECIMAL}, ["subaccountId", "symbol", "quantity"]
    ),
    "AdminTransferRequest": _object(
        {"fromSubaccountId": _ID, "toSubaccountId": _ID, "symbol": _SYMBOL, "quantity": _DECIMAL},
        ["fromSubaccountId", "toSubaccountId", "symbol", "quantity"],
    ),
    "AdminTransfer": _object({"symbol": _SYMBOL, "quantity": _DECIMAL}, ["symbol", "quantity"]),
    "AdminPrices": _object(
        {
            "prices": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": _DECIMAL,
                "description": 'Index price in USD per asset symbol, e.g. `{"BTC": "65000"}`.',
            }
        },
        ["prices"],
    ),
    "AdminAccountLimitsRequest": {
        **_object(
            {
                "borrowLimit": {
                    **_DECIMAL,
                    "description": "The most the subaccount may owe, in USD (each debt at its mark).",
                },
                "positionLimit": {
                    **_DECIMAL,
                    "description": "The most perp notional the subaccount may hold, in USD (at the marks).",
                },
            },
            [],
            "Give one or both limits; a voluntary action that ends above a limit and raises the figure is "
            "refused with BORROW_LIMIT or POSITION_LIMIT.",
        ),
        "minProperties": 1,
        "additionalProperties": False,
    },
    "AdminClockAdvanceRequest": _object(
        {"seconds": {"type": "integer", "minimum": 0, "maximum": 366 * 24 * 3600}}, ["seconds"]
    ),
    "AdminClock": _object(
        {"now": {"type": "integer", "format": "int64", "description": "Engine time in ms."}}, ["now"]
    ),
    "AdminInsuranceFund": _object(
        {
            "subaccountId": {"type": "integer", "enum": [0], "description": "The fund is subaccount 0."},
            "value": {**_DECIMAL, "description": "USD: holdings at mark - debts at mark + unsettled perp amounts."},
            "unsettledEquity": {**_DECIMAL, "description": "USD: perp PnL, fees and funding not yet settled."},
            "balances": {
                "type": "array",
                "description": "Per asset held or owed; `value` (USD, at `markPrice`) sums with `unsettledEquity` "
                "to `value`.",
                "items": _object(
                    {
                        "symbol": _SYMBOL,
                        "available": {
                            **_DECIMAL,
                            "description": "Spot balance (negative: a settlement left it short).",
                        },
                        "locked": _DECIMAL,
                        "lent": _DECIMAL,
                        "owed": _DECIMAL,
                        "markPrice": _DECIMAL,
                        "value": _DECIMAL,
                    },
                    ["symbol", "available", "locked", "lent", "owed", "markPrice", "value"],
                ),
            },
            "perpPositions": {
                "type": "array",
                "description": "Perp positions taken over and still held.",
                "items": _object(
                    {
                        "symbol": {"type": "string"},
                        "netQuantity": _DECIMAL,
                        "entryPrice": _DECIMAL,
                        "markPrice": _DECIMAL,
                        "pnlUnrealized": _DECIMAL,
                    },
                    ["symbol", "netQuantity", "entryPrice", "markPrice", "pnlUnrealized"],
                ),
            },
            "liquidationFees": {
                "type": "array",
                "description": "Liquidation fees received since the start, per asset.",
                "items": _object({"symbol": _SYMBOL, "quantity": _DECIMAL}, ["symbol", "quantity"]),
            },
            "backstopCount": {"type": "integer", "minimum": 0},
            "backstops": {
                "type": "array",
                "description": "Takeovers, newest first (at most 100): the account, its net equity then, what moved.",
                "items": _object(
                    {
                        "subaccountId": _ID,
                        "netEquity": _DECIMAL,
                        "holdings": {
                            "type": "array",
                            "items": _object(
                                {"symbol": _SYMBOL, "available": _DECIMAL, "lent": _DECIMAL, "owed": _DECIMAL},
                                ["symbol", "available", "lent", "owed"],
                            ),
                        },
                        "perpPositions": {
                            "type": "array",
                            "items": _object(
                                {"symbol": {"type": "string"}, "netQuantity": _DECIMAL}, ["symbol", "netQuantity"]
                            ),
                        },
                        "timestamp": {"type": "string", "format": "naive-date-time"},
                    },
                    ["subaccountId", "netEquity", "holdings", "perpPositions", "timestamp"],
                ),
            },
            "autoDeleverageCount": {"type": "integer", "minimum": 0},
            "autoDeleverages": {
                "type": "array",
                "description": "ADL closes of the fund's perp positions, newest first (at most 100); `loss` is the "
                "counterparty's share, in the quote asset.",
                "items": _object(
                    {
                        "symbol": {"type": "string"},
                        "counterpartySubaccountId": _ID,
                        "quantity": _DECIMAL,
                        "quoteQuantity": _DECIMAL,
                        "loss": _DECIMAL,
                        "timestamp": {"type": "string", "format": "naive-date-time"},
                    },
                    ["symbol", "counterpartySubaccountId", "quantity", "quoteQuantity", "loss", "timestamp"],
                ),
            },
            "lendIndexCutCount": {"type": "integer", "minimum": 0},
            "lendIndexCuts": {
                "type": "array",
                "description": "Losses borne by a pool's lenders, newest first (at most 100); indices at 27 decimals.",
                "items": _object(
                    {
                        "symbol": _SYMBOL,
                        "lendIndexBefore": _DECIMAL,
                        "lendIndexAfter": _DECIMAL,
                        "loss": _DECIMAL,
                        "debtForgiven": _DECIMAL,
                        "timestamp": {"type": "string", "format": "naive-date-time"},
                    },
                    ["symbol", "lendIndexBefore", "lendIndexAfter", "loss", "debtForgiven", "timestamp"],
                ),
            },
        },
        [
            "subaccountId",
            "value",
            "unsettledEquity",
            "balances",
            "perpPositions",
            "liquidationFees",
            "backstopCount",
            "backstops",
            "autoDeleverageCount",
            "autoDeleverages",
            "lendIndexCutCount",
            "lendIndexCuts",
        ],
        "The insurance fund: its value, holdings and perp positions, the fees it received, the accounts it took "
        "over and the losses it shared.",
    ),
    "AdminStateDigest": _object(
        {
            "sequence": {"type": "integer", "format": "int64", "description": "The journal sequence of the state."},
            "sha256": {"type": "string", "description": "SHA-256 (hex) of the canonical state text at `sequence`."},
        },
        ["sequence", "sha256"],
    ),
    "AdminPromoteRequest": {
        "type": "object",
        "properties": {
            "fenceDatabaseUrl": {
                "type": "string",
                "maxLength": 2048,  # admin_inputs.FENCE_URL_MAX_CHARS
                "description": "The old primary's PostgreSQL URL, fenced so that no sequencer writes it again "
                "(INV-FENCE-1).",
            }
        },
    },
    "AdminPromotion": _object(
        {
            "sequence": {
                "type": "integer",
                "format": "int64",
                "description": "The journal sequence the new sequencer starts from.",
            },
            "term": {"type": "integer", "format": "int64", "description": "The new writer term."},
            "fenced": {"type": "string", "description": "What was fenced, in words."},
            "tookMs": {"type": "integer", "format": "int64", "description": "How long the takeover took, in ms."},
        },
        ["sequence", "term", "fenced", "tookMs"],
    ),
    "AdminAudit": _object(
        {
            "ok": {"type": "boolean"},
            "checks": {
                "type": "array",
                "items": _object(
                    {"invariant": {"type": "string"}, "ok": {"type": "boolean"}, "detail": {"type": "string"}},
                    ["invariant", "ok", "detail"],
                ),
            },
        },
        ["ok", "checks"],
    ),
}


def _error(code: str) -> Document:
    return {"description": ERROR_DESCRIPTIONS[code], "content": {JSON: {"schema": ERROR_REF}}}


def _ref(name: str) -> Document:
    return {"$ref": f"#/components/schemas/{name}"}


def _operator(
    operation_id: str, summary: str, response: str, request: str | None = None, *, not_found: bool = False
) -> Document:
    operation: Document = {
        "tags": ["Operator"],
        "summary": summary,
        "operationId": operation_id,
        "security": OPERATOR,
        "responses": {"200": {"description": "Success.", "content": {JSON: {"schema": _ref(response)}}}},
    }
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(request)}}}
    codes = ["400", "401", "404", "500"] if not_found else ["400", "401", "500"]
    operation["responses"] |= {code: _error(code) for code in codes}
    return operation


def _promote_operation() -> Document:
    """Describe a read replica's takeover: its body is optional and it can be refused with 409."""
    operation = _operator(
        "admin_promote_replica",
        "Served by a read replica only (`crossmargin serve --replica`): take over as the sequencer after "
        "PostgreSQL promoted its standby (docs/REPLICATION.md).",
        "AdminPromotion",
        "AdminPromoteRequest",
    )
    operation["requestBody"]["required"] = False
    operation["responses"]["409"] = {
        "description": "PRECONDITION_FAILED: PostgreSQL has not promoted the standby yet, or the replica took over.",
        "content": {JSON: {"schema": ERROR_REF}},
    }
    operation["x-served-by"] = "replica"
    return operation


OPERATOR_OPERATIONS: Final[dict[tuple[str, str], Document]] = {
    ("/admin/v1/accounts", "post"): _operator(
        "admin_create_account",
        "Create an account with one subaccount and its key pair.",
        "AdminCredentials",
        "AdminCreateAccountRequest",
    ),
    ("/admin/v1/subaccounts", "post"): _operator(
        "admin_create_subaccount",
        "Add a subaccount, with its own key pair, to an account.",
        "AdminCredentials",
        "AdminCreateSubaccountRequest",
        not_found=True,
    ),
    ("/admin/v1/subaccounts", "get"): _operator(
        "admin_list_subaccounts", "List the subaccounts (the insurance fund left out).", "AdminSubaccounts"
    ),
    ("/admin/v1/subaccounts/{subaccountId}/apiKeys", "post"): {
        **_operator(
            "admin_add_api_key",
            "Add a fresh key pair to an existing subaccount (its other keys keep working).",
            "AdminCredentials",
            "AdminCreateAccountRequest",
            not_found=True,
        ),
        "parameters": [
            {
                "name": "subaccountId",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "format": "uint32", "minimum": 1},
            }
        ],
    },
    ("/admin/v1/subaccounts/{subaccountId}/limits", "patch"): {
        **_operator(
            "admin_set_account_limits",
            "Set a subaccount's account-wide borrow and position limits (USD); answers with its account summary.",
            "AccountSummary",
            "AdminAccountLimitsRequest",
            not_found=True,
        ),
        "parameters": [
            {
                "name": "subaccountId",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "format": "uint32", "minimum": 1},
            }
        ],
    },
    ("/admin/v1/deposits", "post"): _operator(
        "admin_deposit", "Credit an on-chain deposit.", "AdminDeposit", "AdminDepositRequest", not_found=True
    ),
    ("/admin/v1/transfers", "post"): _operator(
        "admin_transfer",
        "Transfer between two subaccounts of one account (margin-checked on the sender).",
        "AdminTransfer",
        "AdminTransferRequest",
        not_found=True,
    ),
    ("/admin/v1/prices", "post"): _operator(
        "admin_set_prices", "Set index prices of assets (marks follow).", "AdminPrices", "AdminPrices"
    ),
    ("/admin/v1/clock/advance", "post"): _operator(
        "admin_advance_clock",
        "Advance the manual clock, running everything that falls due.",
        "AdminClock",
        "AdminClockAdvanceRequest",
    ),
    ("/admin/v1/clock", "get"): _operator("admin_get_clock", "Get the engine time.", "AdminClock"),
    ("/admin/v1/audit", "get"): _operator("admin_audit", "Check every invariant on the live state.", "AdminAudit"),
    ("/admin/v1/state/digest", "get"): _operator(
        "admin_state_digest",
        "The journal sequence and the SHA-256 of the state there: a primary and its replicas agree (INV-REPLAY-1).",
        "AdminStateDigest",
    ),
    ("/admin/v1/replica/promote", "post"): _promote_operation(),
    ("/admin/v1/insurance-fund", "get"): _operator(
        "admin_insurance_fund",
        "Show the insurance fund: value, balances, perp positions, fees, takeovers, ADL closes and lend-index cuts.",
        "AdminInsuranceFund",
    ),
    ("/metrics", "get"): {
        "tags": ["Operator"],
        "summary": "The operator's metrics in Prometheus's text format (docs/OPERATIONS.md lists them).",
        "operationId": "admin_metrics",
        "security": OPERATOR,
        "responses": {
            "200": {
                "description": "Success.",
                "content": {"text/plain; version=1.0.0; charset=utf-8": {"schema": {"type": "string"}}},
            },
            "401": _error("401"),
        },
    },
}

DOCUMENTATION_OPERATIONS: Final[dict[tuple[str, str], Document]] = {
    ("/openapi.json", "get"): {
        "tags": ["Documentation"],
        "summary": "This OpenAPI description.",
        "operationId": "get_openapi",
        "responses": {
            "200": {"description": "Success.", "content": {"application/json": {"schema": {"type": "object"}}}}
        },
    },
    ("/docs", "get"): {
        "tags": ["Documentation"],
        "summary": "A page listing the operations of this description.",
        "operationId": "get_docs",
        "responses": {
            "200": {"description": "Success.", "content": {"text/html; charset=utf-8": {"schema": {"type": "string"}}}}
        },
    },
}

_EXPLAINED_BORROW: Final = _object(
    {
        "symbol": _SYMBOL,
        "quantity": _DECIMAL,
        "source": {"$ref": "#/components/schemas/BorrowLendSource"},
        "positionId": {"type": "string"},
        "timestamp": {"type": "string", "format": "naive-date-time"},
        "entryFee": _DECIMAL,
        "settlements": {
            "type": "array",
            "description": "For `Reconciliation`: the settled rows of that instant (signed, + is credit).",
            "items": _object(
                {"symbol": {"type": "string"}, "source": {"type": "string"}, "quantity": _DECIMAL},
                ["symbol", "source", "quantity"],
            ),
        },
        "shortfall": {
            "type": "object",
            "nullable": True,
            "description": "For `Reconciliation`: how short the balance was and how it was covered, in order.",
            "properties": {
                "symbol": _SYMBOL,
                "short": _DECIMAL,
                "redeemedLend": _DECIMAL,
                "borrowed": _DECIMAL,
                "converted": {"type": "array", "items": {"type": "object"}},
                "uncovered": _DECIMAL,
                "autoBorrowSettlements": {"type": "boolean"},
            },
        },
        "orders": {
            "type": "array",
            "description": "For `SpotMargin`: the orders placed with `autoBorrow` at the borrow's instant.",
            "items": {"type": "object"},
        },
    },
    ["symbol", "quantity", "source", "positionId", "timestamp", "entryFee", "settlements", "shortfall", "orders"],
    "One borrow and what caused it.",
)

_SQRT_FUNCTION: Final = _object(
    {"type": {"type": "string", "enum": ["sqrt"]}, "base": _DECIMAL, "factor": _DECIMAL},
    ["type", "base", "factor"],
    "max(base, factor * sqrt(notional in USD)).",
)

_TIME_MS: Final = {"type": "integer", "format": "int64", "minimum": 0, "description": "Milliseconds since 1970."}
_STATEMENT_ROW: Final = _object(
    {
        "timestamp": {"type": "string", "format": "naive-date-time"},
        "type": {
            "type": "string",
            "enum": [
                "Deposit",
                "Withdrawal",
                "Transfer",
                "BorrowLend",
                "Interest",
                "Trade",
                "Settlement",
                "LiquidationFee",
                "LiquidationBackstop",
            ],
        },
        "cause": {"type": "string", "description": "Why: e.g. `Borrow (Manual)`, `EntryFee`, `Bid SOL_USDC`."},
        "reference": {"type": "string", "description": "The record behind it: `position 3`, `order 7, trade 2`."},
        "balanceChange": {**_DECIMAL, "description": "Change of the balance (spot + locked)."},
        "positionChange": {**_DECIMAL, "description": "Change of the borrow-lend position's value (+lend, -debt)."},
        "change": {**_DECIMAL, "description": "balanceChange + positionChange."},
        "runningTotal": {**_DECIMAL, "description": "The opening plus every change up to this row."},
    },
    ["timestamp", "type", "cause", "reference", "balanceChange", "positionChange", "change", "runningTotal"],
    "One movement of the asset.",
)

_API_KEY: Final[Document] = {"type": "string", "description": "A base64 ED25519 public key (32 bytes)."}
EXTENSION_SCHEMAS: Final[dict[str, Document]] = {
    "ApiKeys": _object(
        {"subaccountId": _ID, "apiKeys": {"type": "array", "items": _API_KEY}},
        ["subaccountId", "apiKeys"],
        "The keys that sign for the calling subaccount.",
    ),
    "ApiKeyRequest": _object({"publicKey": _API_KEY}, ["publicKey"], "The key to register or revoke."),
    "ApiKey": _object(
        {"subaccountId": _ID, "apiKey": _API_KEY}, ["subaccountId", "apiKey"], "The key and whom it signed for."
    ),
    "ExplainedBorrows": {"type": "array", "items": _EXPLAINED_BORROW},
    "Statement": {
        "type": "array",
        "items": _object(
            {
                "subaccountId": _ID,
                "symbol": _SYMBOL,
                "opening": {**_DECIMAL, "description": "What the rows before `from` add up to (0 without `from`)."},
                "closing": {**_DECIMAL, "description": "opening + the changes of the rows shown."},
                "balance": {**_DECIMAL, "description": "Without `to`: spot + locked now."},
                "position": {**_DECIMAL, "description": "Without `to`: the position's value now (+lend, -debt)."},
                "rows": {"type": "array", "items": _STATEMENT_ROW, "description": "Oldest first."},
            },
            ["subaccountId", "symbol", "opening", "closing", "rows"],
            "One asset's statement; without `to`, closing = balance + position exactly (INV-STATEMENT-1).",
        ),
    },
    "MarginModel": _object(
        {
            "symbol": _SYMBOL,
            "imfFunction": _SQRT_FUNCTION,
            "points": {
                "type": "array",
                "description": "40 points per decade, notional $10 to $1,000,000,000 (10^(k/40) to 4 significant "
                "digits).",
                "items": _object(
                    {
                        "notional": {**_DECIMAL, "description": "Borrow notional in USD."},
                        "imf": {**_DECIMAL, "description": "Initial margin fraction at that notional."},
                        "maxLeverage": {
                            **_DECIMAL,
                            "nullable": True,
                            "description": "1 / imf, rounded down to 4 decimals (null for an IMF of 0).",
                        },
                    },
                    ["notional", "imf", "maxLeverage"],
                ),
            },
        },
        ["symbol", "imfFunction", "points"],
        "Max initial leverage against a borrow's notional, by the engine's own IMF function.",
    ),
    "InterestRateModel": _object(
        {
            "symbol": _SYMBOL,
            "utilization": {**_DECIMAL, "description": "The pool's utilization now."},
            "borrowInterestRate": {**_DECIMAL, "description": "Borrow APR now."},
            "lendInterestRate": {**_DECIMAL, "description": "Lend APR now."},
            "optimalUtilization": _DECIMAL,
            "maxUtilization": _DECIMAL,
            "fee": _DECIMAL,
            "points": {
                "type": "array",
                "description": "101 points, utilization 0.00 to 1.00.",
                "items": _object(
                    {"utilization": _DECIMAL, "borrowInterestRate": _DECIMAL, "lendInterestRate": _DECIMAL},
                    ["utilization", "borrowInterestRate", "lendInterestRate"],
                ),
            },
        },
        [
            "symbol",
            "utilization",
            "borrowInterestRate",
            "lendInterestRate",
            "optimalUtilization",
            "maxUtilization",
            "fee",
            "points",
        ],
        "Borrow and lend APR against utilization, by the engine's own rate functions.",
    ),
    "BorrowLendPreview": _object(
        {
            "symbol": _SYMBOL,
            "side": {"$ref": "#/components/schemas/BorrowLendSide"},
            "quantity": _DECIMAL,
            "action": {
                "type": "string",
                "enum": ["Borrow", "Repay", "Lend", "Redeem"],
                "description": "What the side does to the position: Lend on a debt repays it, Borrow on a lend "
                "redeems it.",
            },
            "accepted": {"type": "boolean", "description": "Whether `POST /api/v1/borrowLend` would accept it."},
            "code": {"type": "string", "nullable": True, "description": "The refusal's error code, if refused."},
            "message": {"type": "string", "nullable": True, "description": "The refusal's message, if refused."},
            "entryFee": {**_DECIMAL, "description": "Charged at once on a new borrow (interest to the next hour)."},
            "hourlyInterest": {**_DECIMAL, "description": "The debt's interest in the next full hour after it."},
            "hourlyLendInterest": {**_DECIMAL, "description": "The lend's interest in the next full hour after it."},
            "borrowInterestRate": {**_DECIMAL, "description": "The pool's borrow APR after it."},
            "lendInterestRate": {**_DECIMAL, "description": "The pool's lend APR after it."},
            "netQuantityAfter": {**_DECIMAL, "description": "The position after it (negative: a debt)."},
            "netEquityAvailable": _DECIMAL,
            "netEquityAvailableAfter": _DECIMAL,
            "marginFraction": {**_DECIMAL, "nullable": True, "description": "Net equity / exposure (null: none)."},
            "marginFractionAfter": {**_DECIMAL, "nullable": True},
            "maxBorrowQuantity": {**_DECIMAL, "description": "The most a manual borrow could take now."},
            "availableQuantity": {**_DECIMAL, "description": "The free spot balance of the asset now."},
            "estLiquidationPriceAfter": {
                **_DECIMAL,
                "nullable": True,
                "description": "The asset's price at which the subaccount would become liquidatable (null: none).",
            },
        },
        [
            "symbol",
            "side",
            "quantity",
            "action",
            "accepted",
            "code",
            "message",
            "entryFee",
            "hourlyInterest",
            "hourlyLendInterest",
            "borrowInterestRate",
            "lendInterestRate",
            "netQuantityAfter",
            "netEquityAvailable",
            "netEquityAvailableAfter",
            "marginFraction",
            "marginFractionAfter",
            "maxBorrowQuantity",
            "availableQuantity",
            "estLiquidationPriceAfter",
        ],
        "What `POST /api/v1/borrowLend` would do, computed by the engine and dropped.",
    ),
}


_COLLATERAL_LIQUIDATION_PRICE: Final = {
    **_DECIMAL,
    "description": "crossmargin extension: the price of this asset, every other price fixed, at which the "
    "subaccount is liquidated (MMR 100%), by the engine's own margin rules, rounded to 9 significant digits "
    "towards the mark; `0` when no price within reach liquidates it.",
}

EXTENDED_FIELDS: Final[dict[str, dict[str, tuple[Document, bool]]]] = {
    "BorrowLendExecutePayload": {
        "wholePosition": (
            {
                "type": "boolean",
                "description": "crossmargin extension: `true` in place of `quantity` takes the whole position the "
                "side nets against, measured when the engine runs the command (with `Lend`, repay the whole borrow, "
                "interest included, to the atom). Send `quantity` or `wholePosition`, not both.",
            },
            False,
        )
    },
    "AccountSummary": {
        "marketFees": (
            {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["makerFee", "takerFee"],
                    "properties": {
                        "makerFee": {**_DECIMAL, "description": "Maker fee in basis points."},
                        "takerFee": {**_DECIMAL, "description": "Taker fee in basis points."},
                    },
                },
                "description": "crossmargin extension: the markets whose fees differ from their kind's figure "
                "(`spotMakerFee` / `spotTakerFee`, `futuresMakerFee` / `futuresTakerFee`: the fees most markets of "
                "the kind charge), by symbol, in basis points. Empty when every market charges its kind's figure.",
            },
            True,
        )
    },
    "Collateral": {"collateralLiquidationPrice": (_COLLATERAL_LIQUIDATION_PRICE, True)},
    "MarginAccountSummary": {
        "initialMarginRatio": (
            {
                **_DECIMAL,
                "description": "crossmargin extension: the initial margin ratio, `netEquityLocked` / `netEquity`, "
                "rounded up at 18 decimals; absent while net equity is not positive.",
            },
            False,
        ),
        "maintenanceMarginRatio": (
            {
                **_DECIMAL,
                "description": "crossmargin extension: the maintenance margin ratio, the sum of each borrow's and "
                "perp position's MMF times its notional over `netEquity`, rounded up at 18 decimals; the subaccount "
                "is liquidated at 1 (100%). Absent while net equity is not positive.",
            },
            False,
        ),
    },
    "BorrowLendPositionWithMargin": {
        "collateralLiquidationPrice": (
            {
                **_COLLATERAL_LIQUIDATION_PRICE,
                "description": _COLLATERAL_LIQUIDATION_PRICE["description"]
                + " Sent on the row of an asset held as collateral (spot, locked or lent).",
            },
            False,
        )
    },
}
"""crossmargin's extra fields on Backpack's own schemas: schema -> field -> (its schema, always sent)."""


def with_extensions(name: str, schema: Document) -> Document:
    """Return Backpack's schema `name` with crossmargin's extra fields (`EXTENDED_FIELDS`) declared."""
    fields = EXTENDED_FIELDS.get(name)
    if not fields:
        return schema
    extended = copy.deepcopy(schema)
    extended["properties"] = {**extended.get("properties", {}), **{field: body for field, (body, _) in fields.items()}}
    required = [field for field, (_, always) in fields.items() if always]
    if required:
        extended["required"] = [*extended.get("required", []), *required]
    return extended


def _model(operation_id: str, summary: str, description: str, schema: str) -> Document:
    return {
        "tags": ["Models"],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "parameters": [{"name": "symbol", "in": "query", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref(schema)}}},
            **{code: _error(code) for code in ("400", "500")},
        },
    }


def _api_key_write(operation_id: str, summary: str, description: str) -> Document:
    return {
        "tags": ["API keys"],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "security": SIGNED,
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("ApiKeyRequest")}}},
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref("ApiKey")}}},
            **{code: _error(code) for code in ("400", "401", "404", "500")},
        },
    }


EXTENSION_OPERATIONS: Final[dict[tuple[str, str], Document]] = {
    ("/wapi/v1/apiKeys", "get"): {
        "tags": ["API keys"],
        "summary": "The API keys of your subaccount (a crossmargin extension).",
        "description": "**Instruction:** `apiKeyQueryAll`\n\nEvery ED25519 public key that signs for the calling "
        "subaccount, oldest first.",
        "operationId": "get_api_keys",
        "security": SIGNED,
        "parameters": [WINDOW_PARAMETER],
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref("ApiKeys")}}},
            **{code: _error(code) for code in ("400", "401", "500")},
        },
    },
    ("/wapi/v1/apiKeys", "post"): _api_key_write(
        "add_api_key",
        "Register one more API key for your subaccount (a crossmargin extension).",
        "**Instruction:** `apiKeyCreate`\n\nLets `publicKey` sign for the calling subaccount too; its other keys "
        "keep working. A key signs for one subaccount only, and a subaccount holds at most 32 keys (400). The web "
        "page registers its non-extractable browser key this way.",
    ),
    ("/wapi/v1/apiKeys", "delete"): _api_key_write(
        "revoke_api_key",
        "Revoke one of your subaccount's API keys (a crossmargin extension).",
        "**Instruction:** `apiKeyRevoke`\n\nStops `publicKey` from signing; requests signed with it are then "
        "refused (401). Any key of the subaccount may revoke any other, or itself, but never the last one (400); a "
        "key that does not sign for the subaccount is a 404.",
    ),
    ("/api/v1/explain/borrows", "get"): {
        "tags": ["Explanations"],
        "summary": "Why each borrow exists (a crossmargin extension).",
        "description": "**Instruction:** `borrowExplanationQuery`\n\nEach borrow, newest first, with the records that "
        "caused it: the settlement and its shortfall (`Reconciliation`), the orders (`SpotMargin`).",
        "operationId": "get_borrow_explanations",
        "security": SIGNED,
        "parameters": [
            {"name": "symbol", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            WINDOW_PARAMETER,
        ],
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref("ExplainedBorrows")}}},
            **{code: _error(code) for code in ("400", "401", "404", "500")},
        },
    },
    ("/api/v1/borrowLend/preview", "get"): {
        "tags": ["Borrow Lend"],
        "summary": "Preview a borrow, repay, lend or redeem (a crossmargin extension).",
        "description": "**Instruction:** `borrowLendPreview`\n\nRuns what `POST /api/v1/borrowLend` would do with "
        "the same parameters in a transaction that is never committed: its refusal (`accepted: false`, with the "
        "code and message the POST would answer) or its entry fee, next hour's interest, the pool's rates and the "
        "margin figures after it. Malformed input is a 400 as for the POST.",
        "operationId": "get_borrow_lend_preview",
        "security": SIGNED,
        "parameters": [
            {"name": "symbol", "in": "query", "required": True, "schema": {"type": "string"}},
            {
                "name": "side",
                "in": "query",
                "required": True,
                "schema": {"$ref": "#/components/schemas/BorrowLendSide"},
            },
            {"name": "quantity", "in": "query", "required": True, "schema": _DECIMAL},
            WINDOW_PARAMETER,
        ],
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref("BorrowLendPreview")}}},
            **{code: _error(code) for code in ("400", "401", "404", "500")},
        },
    },
    ("/wapi/v1/statement", "get"): {
        "tags": ["Statements"],
        "summary": "Every movement of your assets, from opening to closing (a crossmargin extension).",
        "description": "**Instruction:** `statementQuery`\n\nPer asset (sorted by symbol; `symbol` for one, else "
        "every asset the subaccount ever had): the `opening` (the rows before `from` added up), every row with "
        "`from <= timestamp < to`, oldest first, with its change of the balance, of the borrow-lend position and "
        "of both and the running total, and the `closing`. Without `to`, also the `balance` and `position` now, "
        "which add up to the closing exactly. The closing of one window is the opening of the next. Times are "
        "milliseconds since 1970; a window of more than 10,000 rows is refused (400).",
        "operationId": "get_statement",
        "security": SIGNED,
        "parameters": [
            {"name": "symbol", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "from", "in": "query", "required": False, "schema": _TIME_MS},
            {"name": "to", "in": "query", "required": False, "schema": _TIME_MS},
            WINDOW_PARAMETER,
        ],
        "responses": {
            "200": {"description": "Success.", "content": {JSON: {"schema": _ref("Statement")}}},
            **{code: _error(code) for code in ("400", "401", "404", "500")},
        },
    },
    ("/api/v1/openInterest/history", "get"): {
        "tags": ["Markets"],
        "summary": "Open interest over time (a crossmargin extension).",
        "description": "A perpetual market's open interest, newest first: one row per minute in which it changed, "
        "with the value and time of that minute's last change, in the shape of `GET /api/v1/openInterest`. The "
        "latest 1,000 such minutes are kept. Paged with `limit` (at most 1,000) and `offset`.",
        "operationId": "get_open_interest_history",
        "parameters": [
            {"name": "symbol", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
        ],
        "responses": {
            "200": {
                "description": "Success.",
                "content": {JSON: {"schema": {"type": "array", "items": _ref("OpenInterest")}}},
            },
            **{code: _error(code) for code in ("400", "500")},
        },
    },
    ("/api/v1/models/margin", "get"): _model(
        "get_margin_model",
        "Max initial leverage against borrow size (a crossmargin extension).",
        "For a listed asset, the initial margin fraction of a borrow-lend position and 1 / IMF at notionals "
        "from $10 to $1,000,000,000, computed by the engine's margin function.",
        "MarginModel",
    ),
    ("/api/v1/models/interestRate", "get"): _model(
        "get_interest_rate_model",
        "Borrow and lend APR against utilization (a crossmargin extension).",
        "For a listed asset, the pool's borrow APR (its rate curve) and lend APR (borrow APR x utilization x "
        "(1 - fee), rounded down) at utilizations 0.00 to 1.00, and the pool's utilization and rates now.",
        "InterestRateModel",
    ),
}

OUR_TAGS: Final = [
    {
        "name": "Operator",
        "description": "The operator API: accounts, deposits, transfers, prices, clock, audit, insurance fund.",
    },
    {"name": "Documentation", "description": "This description and its reading page."},
    {"name": "Explanations", "description": "crossmargin extensions that say why the engine did something."},
    {"name": "Models", "description": "crossmargin extensions: the margin and interest-rate curves of each asset."},
    {"name": "Statements", "description": "crossmargin extensions: statements that reconcile to the atom."},
    {"name": "API keys", "description": "crossmargin extensions: a subaccount registers and revokes its own keys."},
    {"name": "Web page", "description": "The web page's HTML shell, served at each of its paths."},
]


def page_operation(path: str) -> Document:
    """Return the description of one path of the web page (each serves the same HTML shell)."""
    return {
        "tags": ["Web page"],
        "summary": f"The web page at {path} (one HTML shell; the page routes itself).",
        "operationId": "get_page" + path.replace("/", "_").rstrip("_"),
        "responses": {
            "200": {"description": "Success.", "content": {"text/html; charset=utf-8": {"schema": {"type": "string"}}}}
        },
    }


def page_operations() -> dict[tuple[str, str], Document]:
    """Return the operations of every path the web page serves its shell at (its files are a Mount, not listed)."""
    from crossmargin.api.routes.web import PAGE_PATHS  # noqa: PLC0415 -- only when building

    return {(path, "get"): page_operation(path) for path in PAGE_PATHS}


def served_routes() -> list[tuple[str, str]]:
    """Return (path, lower-case method) of every route the application serves, HEAD left out.

    A read replica serves one route more, its promotion (`replica_routes`); its test checks that a
    replica's routes are all described.
    """
    from crossmargin.adapters.memory_journal import MemoryJournal  # noqa: PLC0415 -- only when building
    from crossmargin.api.app import create_app  # noqa: PLC0415
    from crossmargin.api.replica_guard import PROMOTE_PATH  # noqa: PLC0415
    from crossmargin.app.clock import ManualClock  # noqa: PLC0415
    from crossmargin.app.service import Service  # noqa: PLC0415
    from crossmargin.asset_config import load_asset_specs  # noqa: PLC0415

    service = Service.open(MemoryJournal(), ManualClock(0), load_asset_specs())
    try:
        app = create_app(service, "build-openapi")
        found = []
        for route in app.routes:
            path = getattr(route, "path", None)
            methods = getattr(route, "methods", None) or ()
            found += [(path, method.lower()) for method in sorted(methods) if method != "HEAD" and path]
        return [*found, (PROMOTE_PATH, "post")]
    finally:
        service.close()


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _backpack_operation(spec: Document, path: str, method: str) -> Document:
    try:
        operation: Document = copy.deepcopy(spec["paths"][path][method])
    except KeyError:
        raise SystemExit(f"{method.upper()} {path} is served but is neither in Backpack's spec nor ours") from None
    parameters = operation.get("parameters", [])
    signed = any(parameter["name"].upper() in SIGNATURE_HEADERS for parameter in parameters)
    instruction = SIGNED_DESPITE_SPEC.get((path, method))
    if instruction is not None:
        signed = True
        operation["description"] = f"{operation.get('description', '')}\n\n**Instruction:** `{instruction}`".strip()
    kept = [
        parameter
        for parameter in parameters
        if parameter["name"].upper() not in (*SIGNATURE_HEADERS, "X-WINDOW")
        and not (parameter.get("in") == "header" and parameter["name"].lower() == "authorization")
    ]
    if signed:
        operation["security"] = SIGNED
        kept = [*kept, WINDOW_PARAMETER]
    if kept:
        operation["parameters"] = kept
    else:
        operation.pop("parameters", None)
    takes_input = bool(kept) or "requestBody" in operation
    responses = {
        code: body
        for code, body in operation["responses"].items()
        if code in SENT_STATUSES and (code != "409" or (path, method) in CONFLICT_OPERATIONS)
    }
    # Backpack leaves some error responses without a body (PATCH withdrawals/delay's 404); ours has its shape.
    responses |= {code: _error(code) for code, body in responses.items() if code[0] in "45" and "content" not in body}
    if takes_input:
        responses.setdefault("400", _error("400"))
    if signed:
        responses.setdefault("401", _error("401"))
    if path not in {"/api/v1/ping", "/api/v1/time", "/api/v1/status"}:
        responses.setdefault("500", _error("500"))
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def build(spec: Document, routes: list[tuple[str, str]]) -> Document:
    """Return our description for the served routes, from Backpack's spec and our own operations."""
    paths: dict[str, Document] = {}
    pages = page_operations()
    for path, method in routes:
        ours = (
            OPERATOR_OPERATIONS.get((path, method))
            or DOCUMENTATION_OPERATIONS.get((path, method))
            or EXTENSION_OPERATIONS.get((path, method))
            or pages.get((path, method))
        )
        operation = copy.deepcopy(ours) if ours is not None else _backpack_operation(spec, path, method)
        paths.setdefault(path, {})[method] = operation
    served = set(routes)
    for key in (*OPERATOR_OPERATIONS, *DOCUMENTATION_OPERATIONS, *EXTENSION_OPERATIONS, *pages):
        if key not in served:
            raise SystemExit(f"{key[1].upper()} {key[0]} is described here but not served")

    backpack_schemas: Document = spec["components"]["schemas"]
    schemas: Document = {}
    pending = sorted(set(_refs(paths)) | {"ApiErrorResponse"})
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        if name in OPERATOR_SCHEMAS or name in EXTENSION_SCHEMAS:
            schemas[name] = copy.deepcopy((OPERATOR_SCHEMAS | EXTENSION_SCHEMAS)[name])
        else:
            schemas[name] = with_extensions(name, copy.deepcopy(backpack_schemas[name]))
        pending += [ref for ref in _refs(schemas[name]) if ref not in schemas]

    used_tags = {tag for item in paths.values() for operation in item.values() for tag in operation.get("tags", [])}
    tags = [tag for tag in spec.get("tags", []) if tag["name"] in used_tags]
    tags += [tag for tag in OUR_TAGS if tag["name"] in used_tags]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "crossmargin API",
            "version": importlib.metadata.version("crossmargin"),
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: Document) -> str:
    """Return the description as the committed file's text."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def build_text(spec_path: Path = SPEC_PATH) -> str:
    """Return the text the committed file should have, built from the spec at `spec_path`."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    return render(build(spec, served_routes()))


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the committed description."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="Backpack's openapi.yml")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is out of date")
    arguments = parser.parse_args(argv)
    if not arguments.spec.exists():
        sys.stderr.write(f"Backpack's spec is not at {arguments.spec}\n")
        return 2
    text = build_text(arguments.spec)
    current = arguments.output.read_text(encoding="utf-8") if arguments.output.exists() else None
    if arguments.check:
        if current != text:
            sys.stderr.write(f"{arguments.output} is out of date: run python scripts/build_openapi.py\n")
            return 1
        return 0
    if current != text:
        arguments.output.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {arguments.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
