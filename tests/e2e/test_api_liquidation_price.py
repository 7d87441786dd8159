"""GET /api/v1/borrowLend/position/liquidationPrice end to end (in-process ASGI), and estLiquidationPrice.

The what-if is signed (instruction `borrowLendPositionLiquidationPrice`), takes the planned borrow
as base64 JSON, changes nothing, and agrees with the estimate the positions show once the borrow
is really made. Malformed input and refusals come back in Backpack's error shape.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Final

import httpx
from signing_client import Exchange, Keys
from tests.e2e.trading_exchange import funded, placed, trading_exchange

PATH: Final = "/api/v1/borrowLend/position/liquidationPrice"
INSTRUCTION: Final = "borrowLendPositionLiquidationPrice"


def _encoded(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _what_if(exchange: Exchange, keys: Keys, **parameters: object) -> httpx.Response:
    return exchange.signed(keys, "GET", PATH, INSTRUCTION, parameters)


def _plan(symbol: str, side: str, quantity: str) -> str:
    return _encoded({"symbol": symbol, "side": side, "quantity": quantity})


def _lender(exchange: Exchange) -> None:
    keys = exchange.new_account()
    for symbol, quantity in (("USDC", "1000000"), ("BTC", "10")):
        exchange.deposit(keys, symbol, quantity)
        body = {"symbol": symbol, "side": "Lend", "quantity": quantity}
        response = exchange.signed(keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", body)
        assert response.status_code == 200, response.text


def _borrower(exchange: Exchange) -> Keys:
    _lender(exchange)
    keys = exchange.new_account()
    exchange.deposit(keys, "USDC", "10000")
    return keys


def _positions(exchange: Exchange, keys: Keys) -> list[dict[str, str]]:
    response = exchange.signed(keys, "GET", "/api/v1/borrowLend/positions", "borrowLendPositionQuery")
    assert response.status_code == 200, response.text
    rows: list[dict[str, str]] = response.json()
    return rows


def test_a_planned_borrow_gets_the_estimate_its_position_shows_once_made(exchange: Exchange) -> None:
    keys = _borrower(exchange)

    response = _what_if(exchange, keys, borrow=_plan("BTC", "Borrow", "0.1"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"liquidationPrice", "markPrice"}
    assert body["markPrice"] == "60000"
    assert Decimal(body["liquidationPrice"]) > Decimal(60000), "a BTC borrow is liquidated as BTC rises"
    assert _positions(exchange, keys) == [], "the what-if borrows nothing"
    borrowed = exchange.signed(
        keys, "POST", "/api/v1/borrowLend", "borrowLendExecute", {"symbol": "BTC", "side": "Borrow", "quantity": "0.1"}
    )
    assert borrowed.status_code == 200, borrowed.text
    (position,) = _positions(exchange, keys)
    assert position["estLiquidationPrice"] == body["liquidationPrice"]


def test_a_planned_lend_without_debt_has_no_liquidation_price(exchange: Exchange) -> None:
    keys = _borrower(exchange)

    response = _what_if(exchange, keys, borrow=_plan("USDC", "Lend", "500"), subaccountId=keys.subaccount_id)

    assert response.status_code == 200, response.text
    assert response.json() == {"liquidationPrice": "0", "markPrice": "1"}


def test_a_borrow_the_engine_would_refuse_gets_its_refusal(exchange: Exchange) -> None:
    keys = _borrower(exchange)

    response = _what_if(exchange, keys, borrow=_plan("BTC", "Borrow", "1"))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INSUFFICIENT_MARGIN"
    assert "max borrowable is" in body["message"]


def test_malformed_plans_are_refused_naming_the_field(exchange: Exchange) -> None:
    keys = _borrower(exchange)
    cases = {
        "not base64!": ("INVALID_CLIENT_REQUEST", "borrow must be standard base64"),
        base64.b64encode(b"{oops").decode(): ("INVALID_CLIENT_REQUEST", "borrow must encode JSON"),
        _encoded(["BTC"]): ("INVALID_CLIENT_REQUEST", "borrow must encode a JSON object"),
        _plan("DOGE", "Borrow", "1"): ("INVALID_ASSET", "symbol 'DOGE' is not a listed asset"),
        _plan("BTC", "Short", "1"): ("INVALID_CLIENT_REQUEST", "side 'Short' must be one of Borrow, Lend"),
        _plan("BTC", "Borrow", "0.000000001"): ("INVALID_CLIENT_REQUEST", "quantity '0.000000001' has more decimals"),
    }
    for encoded, (code, message) in cases.items():
        response = _what_if(exchange, keys, borrow=encoded)
        assert response.status_code == 400, (encoded, response.text)
        assert response.json()["code"] == code, (encoded, response.text)
        assert response.json()["message"].startswith(message), (encoded, response.text)
    missing = _what_if(exchange, keys)
    assert missing.status_code == 400
    assert missing.json()["message"] == "borrow is required"


def test_another_subaccount_is_refused(exchange: Exchange) -> None:
    keys = _borrower(exchange)
    other = exchange.new_account()

    response = _what_if(exchange, keys, borrow=_plan("BTC", "Borrow", "0.1"), subaccountId=other.subaccount_id)

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"subaccountId {other.subaccount_id} is not this API key's")


def test_an_unsigned_request_is_unauthorized(exchange: Exchange) -> None:
    response = exchange.client.get(PATH, params={"borrow": _plan("BTC", "Borrow", "0.1")})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


def test_a_perp_position_shows_where_it_would_be_liquidated() -> None:
    with trading_exchange() as exchange:  # markets listed before prices, so perp marks exist
        seller = funded(exchange, USDC="100000")
        placed(exchange, seller, symbol="BTC_USDC_PERP", side="Ask", orderType="Limit", quantity="1", price="60000")
        trader = funded(exchange, USDC="6100")
        placed(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="1")

        response = exchange.signed(trader, "GET", "/api/v1/position", "positionQuery")

        assert response.status_code == 200, response.text
        (position,) = response.json()
        # 6100 USDC behind a 1 BTC long at 60000, with its small maintenance: liquidated near 54270.
        assert Decimal(54250) < Decimal(position["estLiquidationPrice"]) < Decimal(54300)
