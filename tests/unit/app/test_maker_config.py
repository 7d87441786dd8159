"""The markets file's maker* and taker* fields: per-market ladders and taker flow, and errors naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crossmargin.app.demo_taker import TakerFlow
from crossmargin.app.market_maker import Ladder
from crossmargin.asset_config import AssetConfigError, load_document, parse_asset_specs
from crossmargin.core.numbers import WAD
from crossmargin.maker_config import parse_demo_trading
from crossmargin.market_config import parse_market_specs

BP = WAD // 10_000


def _document(market: str, **fields: object) -> dict[str, Any]:
    """Return the shipped file with some fields of one market replaced (a None value removes the field)."""
    document = copy.deepcopy(load_document())
    body = document["markets"][market]
    for name, value in fields.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return document


def _check(document: dict[str, Any]) -> None:
    parse_market_specs(document, parse_asset_specs(document))


def test_the_shipped_file_quotes_btc_tightest_and_alts_wider() -> None:
    trading = parse_demo_trading(load_document())
    assert sorted(trading.ladders) == sorted(trading.flows) == sorted(load_document()["markets"])
    btc = trading.ladders["BTC_USDC_PERP"]
    assert btc == Ladder(
        levels=10,
        spacing_wad=2 * BP,
        level_notional=100_000,
        half_spread_wad=2 * BP,
        max_skew_wad=BP,
        inventory_limit=500_000,
    )
    assert trading.flows["BTC_USDC_PERP"] == TakerFlow(mean_interval_ms=30_000, max_notional=50_000)
    spreads = {market: ladder.offset_wad(1) * 2 for market, ladder in trading.ladders.items()}
    assert spreads["BTC_USDC_PERP"] < spreads["ETH_USDC_PERP"] < spreads["SOL_USDC_PERP"]
    assert spreads["BTC_USDC"] < spreads["ETH_USDC"] < spreads["SOL_USDC"]
    assert all(spreads[market] < spreads[market.removesuffix("_PERP")] for market in spreads if "PERP" in market)


def test_a_market_without_maker_fields_gets_the_plain_ladder_and_no_taker() -> None:
    removed: dict[str, object] = dict.fromkeys(
        (
            "makerSpreadBps",
            "makerLevels",
            "makerLevelSpacingBps",
            "makerLevelNotional",
            "makerSkewBps",
            "makerInventoryLimit",
            "takerTradesPerHour",
            "takerMaxNotional",
        )
    )
    document = _document("SOL_USDC", **removed)
    _check(document)
    trading = parse_demo_trading(document)
    assert "SOL_USDC" not in trading.ladders
    assert "SOL_USDC" not in trading.flows
    partial = parse_demo_trading(_document("SOL_USDC", **{**removed, "makerLevels": 3}))
    assert partial.ladders["SOL_USDC"] == Ladder(levels=3)


def test_a_fractional_trade_rate_sets_the_mean_gap() -> None:
    flow = parse_demo_trading(_document("ETH_USDC", takerTradesPerHour="0.5")).flows["ETH_USDC"]
    assert flow.mean_interval_ms == 7_200_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"makerSpreadBps": "0"}, "markets.BTC_USDC.makerSpreadBps: must be more than 0 and at most 1000 basis points"),
        ({"makerSpreadBps": "1000.5"}, "makerSpreadBps: must be more than 0 and at most 1000 basis points"),
        ({"makerSpreadBps": 4}, 'markets.BTC_USDC.makerSpreadBps: must be a decimal string such as "0.1", not 4'),
        ({"makerSpreadBps": "-1"}, "markets.BTC_USDC.makerSpreadBps: must not be negative"),
        ({"makerLevels": 0}, "markets.BTC_USDC.makerLevels: must be an integer from 1 to 50"),
        ({"makerLevels": "5"}, "markets.BTC_USDC.makerLevels: must be an integer from 1 to 50"),
        ({"makerLevels": True}, "markets.BTC_USDC.makerLevels: must be an integer from 1 to 50"),
        ({"makerLevelSpacingBps": "0"}, "markets.BTC_USDC.makerLevelSpacingBps: must be more than 0"),
        ({"makerLevelNotional": "0"}, "markets.BTC_USDC.makerLevelNotional: must be greater than zero"),
        ({"makerLevelNotional": "100.5"}, "markets.BTC_USDC.makerLevelNotional: '100.5' has more than 0 decimal"),
        ({"makerSkewBps": "1001"}, "markets.BTC_USDC.makerSkewBps: must be at least 0 and at most 1000 basis points"),
        ({"makerInventoryLimit": None}, "markets.BTC_USDC.makerInventoryLimit: missing (it goes with makerSkewBps)"),
        ({"makerSkewBps": None}, "markets.BTC_USDC.makerSkewBps: missing (it goes with makerInventoryLimit)"),
        ({"takerMaxNotional": None}, "markets.BTC_USDC.takerMaxNotional: missing (it goes with takerTradesPerHour)"),
        ({"takerTradesPerHour": "0"}, "markets.BTC_USDC.takerTradesPerHour: must be more than 0 and at most 3600"),
        ({"takerTradesPerHour": "3601"}, "markets.BTC_USDC.takerTradesPerHour: must be more than 0 and at most 3600"),
        ({"takerMaxNotional": "x"}, "markets.BTC_USDC.takerMaxNotional: 'x' is not a plain decimal number"),
        ({"makerSpread": "4"}, "markets.BTC_USDC.makerSpread: unknown field"),
    ],
)
def test_a_malformed_field_fails_at_start_naming_it(fields: dict[str, object], message: str) -> None:
    document = _document("BTC_USDC", **fields)
    with pytest.raises(AssetConfigError) as raised:
        _check(document)
    assert message in str(raised.value)
    if "unknown field" not in message:
        with pytest.raises(AssetConfigError, match=r"markets\.BTC_USDC"):
            parse_demo_trading(document)
