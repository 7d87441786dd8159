"""Every number and string at the edge is bounded: over its limit, a field gets a 400 naming the field and the limit.

Before, a `1` followed by 4,000 zeros was a 200 as an operator deposit or price; digit strings
past Python's 4,300-digit limit were a 500 wherever an integer was read (`clientId`, `orderId`,
`limit`, `offset`, operator ids, `seconds`); withdrawal addresses and client ids of any length, or
arrays as client ids, were kept forever. Each case here sends one over-limit field through the
route that reads it and checks the refusal and that nothing was run (the service's sequence and
clock are where they were).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from signing_client import ADMIN_TOKEN, Exchange, Keys, signed_headers
from starlette.testclient import TestClient

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, format_scaled
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000
HUGE = "1" + "0" * 4_000
DIGITS = "1" * 5_000
INT64_MAX = "9223372036854775807"
USDC_MAX = format_scaled(AMOUNT_ATOMS_MAX, 6)
BTC_MAX = format_scaled(AMOUNT_ATOMS_MAX, 8)
DECIMAL_64 = "at most 64 characters"


@dataclass
class Edge:
    """An exchange over a service the test can watch, with one funded account."""

    exchange: Exchange
    service: Service
    keys: Keys

    def signed(
        self, method: str, path: str, instruction: str, parameters: dict[str, object] | None = None
    ) -> httpx.Response:
        return self.exchange.signed(self.keys, method, path, instruction, parameters or {})

    def admin(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        return self.exchange.admin(method, path, body)

    def public(self, path: str, query: dict[str, str]) -> httpx.Response:
        response: httpx.Response = self.exchange.client.get(path, params=query)
        return response

    def with_header(self, name: str, value: str) -> httpx.Response:
        """A signed account query with one signature header replaced."""
        headers = signed_headers(self.keys.api_key, self.keys.api_secret, "accountQuery", {}, int(time.time() * 1000))
        response: httpx.Response = self.exchange.client.get("/api/v1/account", headers={**headers, name: value})
        return response


@pytest.fixture
def edge() -> Iterator[Edge]:
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            prices = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
            assert exchange.admin("POST", "/admin/v1/prices", {"prices": prices}).status_code == 200
            keys = exchange.new_account()
            exchange.deposit(keys, "USDC", "10000")
            yield Edge(exchange, service, keys)
    finally:
        service.close()


def _order(**fields: object) -> dict[str, object]:
    return {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Limit", "quantity": "0.001", "price": "60000", **fields}


def _withdrawal(**fields: object) -> dict[str, object]:
    return {"symbol": "USDC", "quantity": "1", "address": "0xabc", "blockchain": "Ethereum", **fields}


def _borrow(quantity: str) -> str:
    return base64.b64encode(f'{{"quantity":"{quantity}","side":"Borrow","symbol":"USDC"}}'.encode()).decode()


Send = Callable[[Edge], httpx.Response]
W = "/wapi/v1/capital/withdrawals"
CASES: list[tuple[str, Send, str, str]] = [
    # Decimal strings: bounded in length before parsing, then by the engine's own maxima.
    (
        "borrowLend quantity digits",
        lambda e: e.signed(
            "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "USDC", "side": "Lend", "quantity": HUGE}
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be a decimal string of {DECIMAL_64}",
    ),
    (
        "borrowLend quantity value",
        lambda e: e.signed(
            "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "USDC", "side": "Lend", "quantity": "9" * 60}
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be at most {USDC_MAX}",
    ),
    (
        "order price digits",
        lambda e: e.signed("POST", "/api/v1/order", "orderExecute", _order(price=HUGE)),
        "INVALID_PRICE",
        f"price must be a decimal string of {DECIMAL_64}",
    ),
    (
        "order price value",
        lambda e: e.signed("POST", "/api/v1/order", "orderExecute", _order(price="2000000000000")),
        "INVALID_PRICE",
        "price must be at most 1000000000000",
    ),
    (
        "order quantity value",
        lambda e: e.signed("POST", "/api/v1/order", "orderExecute", _order(quantity="9" * 60)),
        "INVALID_QUANTITY",
        f"quantity must be at most {BTC_MAX}",
    ),
    (
        "order quoteQuantity digits",
        lambda e: e.signed(
            "POST",
            "/api/v1/order",
            "orderExecute",
            {"symbol": "BTC_USDC", "side": "Bid", "orderType": "Market", "quoteQuantity": HUGE},
        ),
        "INVALID_QUANTITY",
        f"quoteQuantity must be a decimal string of {DECIMAL_64}",
    ),
    (
        "account leverageLimit digits",
        lambda e: e.signed("PATCH", "/api/v1/account", "accountUpdate", {"leverageLimit": HUGE}),
        "INVALID_CLIENT_REQUEST",
        f"leverageLimit must be a decimal string of {DECIMAL_64}",
    ),
    (
        "preview quantity digits",
        lambda e: e.signed(
            "GET",
            "/api/v1/borrowLend/preview",
            "borrowLendPreview",
            {"symbol": "USDC", "side": "Borrow", "quantity": HUGE},
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be a decimal string of {DECIMAL_64}",
    ),
    (
        "withdrawal quantity digits",
        lambda e: e.signed("POST", W, "withdraw", _withdrawal(quantity=HUGE)),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be a decimal string of {DECIMAL_64}",
    ),
    # Whole numbers: their digits counted before int() reads them.
    (
        "order clientId digits",
        lambda e: e.signed("POST", "/api/v1/order", "orderExecute", _order(clientId=DIGITS)),
        "INVALID_CLIENT_REQUEST",
        "clientId must be at most 4294967295 (an unsigned 32-bit integer)",
    ),
    (
        "order clientId number",
        lambda e: e.signed("POST", "/api/v1/order", "orderExecute", _order(clientId=2**40)),
        "INVALID_CLIENT_REQUEST",
        "clientId must be at most 4294967295 (an unsigned 32-bit integer)",
    ),
    (
        "cancel orderId digits",
        lambda e: e.signed("DELETE", "/api/v1/order", "orderCancel", {"symbol": "BTC_USDC", "orderId": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"orderId must be at most {INT64_MAX}",
    ),
    (
        "query orderId digits",
        lambda e: e.signed("GET", "/api/v1/order", "orderQuery", {"symbol": "BTC_USDC", "orderId": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"orderId must be at most {INT64_MAX}",
    ),
    (
        "withdrawals limit digits",
        lambda e: e.signed("GET", W, "withdrawalQueryAll", {"limit": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        "limit must be at most 1000",
    ),
    (
        "withdrawals offset digits",
        lambda e: e.signed("GET", W, "withdrawalQueryAll", {"offset": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"offset must be at most {INT64_MAX}",
    ),
    (
        "deposits from digits",
        lambda e: e.signed("GET", "/wapi/v1/capital/deposits", "depositQueryAll", {"from": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"from must be at most {INT64_MAX}",
    ),
    (
        "fills orderId digits",
        lambda e: e.signed("GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"orderId": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"orderId must be at most {INT64_MAX}",
    ),
    (
        "explain limit digits",
        lambda e: e.signed("GET", "/api/v1/explain/borrows", "borrowExplanationQuery", {"limit": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        "limit must be at most 1000",
    ),
    (
        "klines startTime digits",
        lambda e: e.public("/api/v1/klines", {"symbol": "BTC_USDC", "interval": "1h", "startTime": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"startTime must be at most {INT64_MAX}",
    ),
    (
        "depth limit digits",
        lambda e: e.public("/api/v1/depth", {"symbol": "BTC_USDC", "limit": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"limit must be at most {INT64_MAX}",
    ),
    (
        "funding rates offset digits",
        lambda e: e.public("/api/v1/fundingRates", {"symbol": "BTC_USDC_PERP", "offset": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"offset must be at most {INT64_MAX}",
    ),
    # Text: Backpack's own limits where its spec has them, documented ones elsewhere.
    (
        "withdrawal address length",
        lambda e: e.signed("POST", W, "withdraw", _withdrawal(address="a" * 257)),
        "INVALID_CLIENT_REQUEST",
        "address must be at most 256 characters long, not 257",
    ),
    (
        "withdrawal clientId length",
        lambda e: e.signed("POST", W, "withdraw", _withdrawal(clientId="c" * 256)),
        "INVALID_CLIENT_REQUEST",
        "clientId must be at most 255 characters long, not 256",
    ),
    (
        "withdrawal clientId array",
        lambda e: e.signed("POST", W, "withdraw", _withdrawal(clientId=["a", "b"])),
        "INVALID_CLIENT_REQUEST",
        "clientId must be a string, not list",
    ),
    (
        "withdrawal clientId object",
        lambda e: e.signed("POST", W, "withdraw", _withdrawal(clientId={"a": 1})),
        "INVALID_CLIENT_REQUEST",
        "clientId must be a string, not dict",
    ),
    (
        "withdrawals clientId filter length",
        lambda e: e.signed("GET", W, "withdrawalQueryAll", {"clientId": "c" * 256}),
        "INVALID_CLIENT_REQUEST",
        "clientId must be at most 255 characters long",
    ),
    (
        "max borrow symbol length",
        lambda e: e.signed("GET", "/api/v1/account/limits/borrow", "maxBorrowQuantity", {"symbol": "S" * 257}),
        "INVALID_CLIENT_REQUEST",
        "symbol must be at most 256 characters long",
    ),
    (
        "borrow history sources length",
        lambda e: e.signed("GET", "/wapi/v1/history/borrowLend", "borrowHistoryQueryAll", {"sources": "M" * 257}),
        "INVALID_CLIENT_REQUEST",
        "sources must be at most 256 characters long",
    ),
    (
        "liquidation price borrow length",
        lambda e: e.signed(
            "GET",
            "/api/v1/borrowLend/position/liquidationPrice",
            "borrowLendPositionLiquidationPrice",
            {"borrow": _borrow("1" * 1000)},
        ),
        "INVALID_CLIENT_REQUEST",
        "borrow must be at most 1024 characters long",
    ),
    (
        "liquidation price borrow quantity digits",
        lambda e: e.signed(
            "GET",
            "/api/v1/borrowLend/position/liquidationPrice",
            "borrowLendPositionLiquidationPrice",
            {"borrow": _borrow("1" * 65)},
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be a decimal string of {DECIMAL_64}",
    ),
    # Operator routes.
    (
        "deposit quantity digits",
        lambda e: e.admin(
            "POST", "/admin/v1/deposits", {"subaccountId": e.keys.subaccount_id, "symbol": "USDC", "quantity": HUGE}
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be a decimal string of {DECIMAL_64}",
    ),
    (
        "deposit quantity value",
        lambda e: e.admin(
            "POST", "/admin/v1/deposits", {"subaccountId": e.keys.subaccount_id, "symbol": "USDC", "quantity": "9" * 60}
        ),
        "INVALID_CLIENT_REQUEST",
        f"quantity must be at most {USDC_MAX}",
    ),
    (
        "deposit subaccountId digits",
        lambda e: e.admin("POST", "/admin/v1/deposits", {"subaccountId": DIGITS, "symbol": "USDC", "quantity": "1"}),
        "INVALID_CLIENT_REQUEST",
        f"subaccountId must be at most {INT64_MAX}",
    ),
    (
        "subaccount accountId digits",
        lambda e: e.admin("POST", "/admin/v1/subaccounts", {"accountId": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        f"accountId must be at most {INT64_MAX}",
    ),
    (
        "api key path subaccountId digits",
        lambda e: e.admin("POST", f"/admin/v1/subaccounts/{DIGITS}/apiKeys", {}),
        "INVALID_CLIENT_REQUEST",
        f"subaccountId must be at most {INT64_MAX}",
    ),
    (
        "transfer fromSubaccountId digits",
        lambda e: e.admin(
            "POST",
            "/admin/v1/transfers",
            {"fromSubaccountId": DIGITS, "toSubaccountId": 1, "symbol": "USDC", "quantity": "1"},
        ),
        "INVALID_CLIENT_REQUEST",
        f"fromSubaccountId must be at most {INT64_MAX}",
    ),
    (
        "price digits",
        lambda e: e.admin("POST", "/admin/v1/prices", {"prices": {"BTC": HUGE}}),
        "INVALID_CLIENT_REQUEST",
        f"BTC must be a decimal string of {DECIMAL_64}",
    ),
    (
        "price value",
        lambda e: e.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "2000000000000"}}),
        "INVALID_CLIENT_REQUEST",
        "BTC must be at most 1000000000000",
    ),
    (
        "prices count",
        lambda e: e.admin("POST", "/admin/v1/prices", {"prices": {f"A{index}": "1" for index in range(65)}}),
        "INVALID_CLIENT_REQUEST",
        "prices carries 65 parameters; at most 64 are accepted",
    ),
    (
        "clock seconds digits",
        lambda e: e.admin("POST", "/admin/v1/clock/advance", {"seconds": DIGITS}),
        "INVALID_CLIENT_REQUEST",
        "seconds must be at most 31622400 (one year) per call",
    ),
    (
        "clock seconds value",
        lambda e: e.admin("POST", "/admin/v1/clock/advance", {"seconds": 31_622_401}),
        "INVALID_CLIENT_REQUEST",
        "seconds must be at most 31622400 (one year) per call",
    ),
    # Parameter count.
    (
        "signed body parameter count",
        lambda e: e.signed(
            "POST", "/api/v1/borrowLend", "borrowLendExecute", {f"p{index}": "1" for index in range(65)}
        ),
        "INVALID_CLIENT_REQUEST",
        "A request carries 65 parameters; at most 64 are accepted",
    ),
    (
        "signed query parameter count",
        lambda e: e.signed("GET", "/api/v1/account", "accountQuery", {f"p{index}": "1" for index in range(65)}),
        "INVALID_CLIENT_REQUEST",
        "A request carries 65 parameters; at most 64 are accepted",
    ),
]


@pytest.mark.parametrize(("send", "code", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_an_over_limit_field_is_refused_400_naming_field_and_limit_and_nothing_runs(
    edge: Edge, send: Send, code: str, message: str
) -> None:
    sequence, now_ms = edge.service.sequence, edge.service.clock.now_ms()

    response = send(edge)

    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert message in response.json()["message"]
    assert (edge.service.sequence, edge.service.clock.now_ms()) == (sequence, now_ms), "nothing was run"


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("X-Timestamp", DIGITS, "X-Timestamp must be a whole number of milliseconds, at most 16 digits"),
        ("X-Window", DIGITS, "X-Window must be a whole number of milliseconds, at most 16 digits"),
        ("X-API-Key", "K" * 65, "X-API-Key must be a base64 ED25519 public key of at most 64 characters"),
        ("X-Signature", "S" * 129, "X-Signature must be a base64 ED25519 signature of at most 128 characters"),
    ],
)
def test_an_over_long_signature_header_is_refused_401_naming_its_limit(
    edge: Edge, header: str, value: str, message: str
) -> None:
    # Signature problems stay 401, as every other malformed signature header: an unsigned caller learns nothing more.
    response = edge.with_header(header, value)
    assert (response.status_code, response.json()) == (401, {"code": "UNAUTHORIZED", "message": message})


def test_limits_at_their_bound_are_accepted(edge: Edge) -> None:
    # The bounds are not off by one: the largest values they allow go through.
    address, client_id = "a" * 256, "c" * 255
    withdrawn = edge.signed("POST", W, "withdraw", _withdrawal(address=address, clientId=client_id))
    priced = edge.admin("POST", "/admin/v1/prices", {"prices": {"BTC": "1000000000000"}})
    advanced = edge.admin("POST", "/admin/v1/clock/advance", {"seconds": 31_622_400})
    listed = edge.signed("GET", W, "withdrawalQueryAll", {"limit": "1000", "clientId": client_id})

    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["toAddress"], withdrawn.json()["clientId"]) == (address, client_id)
    assert priced.status_code == 200, priced.text
    assert advanced.status_code == 200, advanced.text
    assert [row["clientId"] for row in listed.json()] == [client_id]
