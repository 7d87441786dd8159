"""The trading commands parse what a person types into Backpack's order payloads."""

from __future__ import annotations

import pytest

from crossmargin.cli.context import CommandError
from crossmargin.cli.main import build_parser
from crossmargin.cli.trading import order_body


def test_a_limit_order_with_flags_becomes_backpack_s_payload() -> None:
    arguments = build_parser().parse_args(
        ["order", "place", "btc_usdc", "sell", "0.5", "--price", "65000", "--tif", "IOC", "--auto-borrow"]
    )
    assert arguments.handler_module == "crossmargin.cli.trading"
    assert order_body(arguments) == {
        "symbol": "BTC_USDC",
        "side": "Ask",
        "orderType": "Limit",
        "quantity": "0.5",
        "price": "65000",
        "timeInForce": "IOC",
        "autoBorrow": True,
    }


def test_no_price_means_a_market_order() -> None:
    arguments = build_parser().parse_args(["order", "place", "BTC_USDC_PERP", "buy", "0.1", "--reduce-only"])
    assert order_body(arguments) == {
        "symbol": "BTC_USDC_PERP",
        "side": "Bid",
        "orderType": "Market",
        "quantity": "0.1",
        "reduceOnly": True,
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (["BTC_USDC", "up", "1"], "is not a side"),
        (["BTC_USDC", "buy", "1e3"], "is not a positive decimal quantity"),
        (["BTC_USDC", "buy", "1", "--price", "0"], "is not a positive decimal price"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(typed: list[str], message: str) -> None:
    arguments = build_parser().parse_args(["order", "place", *typed])
    with pytest.raises(CommandError, match=message):
        order_body(arguments)


def test_serve_runs_the_market_maker_unless_told_not_to() -> None:
    assert build_parser().parse_args(["serve"]).market_maker is True
    assert build_parser().parse_args(["serve", "--no-market-maker"]).market_maker is False
    assert build_parser().parse_args(["explain", "borrows", "usdc"]).handler == "explain_borrows"
