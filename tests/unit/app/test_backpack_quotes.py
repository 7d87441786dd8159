"""Reading Backpack's public prices: exact decimals, our assets only, bad input refused by name."""

from __future__ import annotations

import json

import pytest

from crossmargin.app.price_sources.backpack import (
    BACKPACK_PRICE_MAX_AGE_MS,
    DEFAULT_REST_URL,
    DEFAULT_WS_URL,
    BackpackOptions,
    backpack_options,
    serve_price_max_age_ms,
)
from crossmargin.app.price_sources.backpack_quotes import (
    MESSAGE_BYTES_MAX,
    ROWS_MAX,
    MarketMap,
    QuoteError,
    decode_json,
    listed_symbols,
    parse_price,
    plan_markets,
    read_rows,
    read_stream_message,
)
from crossmargin.core.numbers import PRICE_WAD_MAX, WAD

# GET /api/v1/markPrices, one element as recorded in Backpack's reference samples.
BTC_ROW = {
    "fundingRate": "0.0001",
    "indexPrice": "118333.18643195",
    "markPrice": "118343.51853741",
    "nextFundingTimestamp": 1753113600000,
    "symbol": "BTC_USDC_PERP",
}
OURS = ("BTC", "ETH", "SOL", "USDC", "USDT")
MAP = MarketMap({"BTC": "BTC_USDC_PERP"}, {"USDT": "USDT_USDC"})


def test_an_index_price_is_read_to_the_last_decimal() -> None:
    quotes = read_rows([BTC_ROW], {"BTC": "BTC_USDC_PERP"}, "indexPrice", "markPrices")
    assert quotes.prices == {"BTC": 118_333_186_431_950_000_000_000}
    assert quotes.problems == []


def test_an_asset_maps_to_its_perp_else_its_spot_market_and_usdc_is_one() -> None:
    market_map = plan_markets(
        OURS, ["BTC_USDC_PERP", "ETH_USDC_PERP", "DOGE_USDC_PERP"], ["BTC_USDC", "USDT_USDC", "AAVE_USDC"]
    )
    assert market_map.perps == {"BTC": "BTC_USDC_PERP", "ETH": "ETH_USDC_PERP"}
    assert market_map.spots == {"USDT": "USDT_USDC"}, "BTC's perp wins over its spot market"
    assert market_map.unmirrored == ("SOL",)
    assert market_map.asset_of("DOGE_USDC_PERP") is None
    assert market_map.asset_of("BTC_USDC") is None
    assert market_map.streams() == ["markPrice.BTC_USDC_PERP", "markPrice.ETH_USDC_PERP", "ticker.USDT_USDC"]
    assert market_map.describe() == (
        "BTC <- BTC_USDC_PERP index; ETH <- ETH_USDC_PERP index; USDT <- USDT_USDC last; not listed on Backpack: SOL"
    )


def test_rows_of_markets_we_do_not_mirror_are_not_even_read() -> None:
    garbage = {"symbol": "DOGE_USDC_PERP", "indexPrice": {"not": "a price"}}
    quotes = read_rows([garbage, 7, {"symbol": 3}, BTC_ROW], {"BTC": "BTC_USDC_PERP"}, "indexPrice", "markPrices")
    assert quotes.prices == {"BTC": 118_333_186_431_950_000_000_000}
    assert quotes.problems == []
    assert listed_symbols([garbage, 7, {"symbol": 3}, BTC_ROW], "markPrices") == {"DOGE_USDC_PERP", "BTC_USDC_PERP"}


def test_a_malformed_row_of_a_mirrored_market_is_skipped_and_named() -> None:
    bad = {**BTC_ROW, "indexPrice": "1.2e5"}
    eth = {**BTC_ROW, "symbol": "ETH_USDC_PERP", "indexPrice": "3612.5"}
    quotes = read_rows([bad, eth], {"BTC": "BTC_USDC_PERP", "ETH": "ETH_USDC_PERP"}, "indexPrice", "markPrices")
    assert quotes.prices == {"ETH": 3612 * WAD + WAD // 2}
    assert quotes.problems == [
        "markPrices BTC_USDC_PERP indexPrice: '1.2e5' is not a plain decimal with at most 18 decimals"
    ]


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (118333.18, "must be a decimal string"),
        (None, "must be a decimal string"),
        ("1" * 65, "must be a decimal string of at most 64 characters"),
        ("NaN", "is not a plain decimal"),
        ("1e5", "is not a plain decimal"),
        ("0.0000000000000000001", "at most 18 decimals"),
        ("0", "is not a price above 0"),
        ("-1", "is not a price above 0"),
        ("1000000000001", "is not a price above 0 and at most 1000000000000"),
    ],
)
def test_a_price_that_is_not_an_exact_positive_decimal_is_refused(value: object, complaint: str) -> None:
    with pytest.raises(QuoteError, match=complaint):
        parse_price(value, "markPrices BTC_USDC_PERP indexPrice")


def test_the_largest_price_and_the_smallest_step_are_read_exactly() -> None:
    assert parse_price("1000000000000", "x") == PRICE_WAD_MAX
    assert parse_price("0.000000000000000001", "x") == 1


def test_a_response_that_is_too_large_not_json_too_deep_or_not_an_array_is_refused_whole() -> None:
    with pytest.raises(QuoteError, match="more than the 10 allowed"):
        decode_json(b"[" + b" " * 10 + b"]", 10, "markPrices")
    with pytest.raises(QuoteError, match="not JSON"):
        decode_json(b"<html>502</html>", 1000, "markPrices")
    with pytest.raises(QuoteError, match="not JSON"):
        decode_json(b"\xff\xfe", 1000, "markPrices")
    with pytest.raises(QuoteError, match="not JSON"):
        decode_json(b"[" * 100_000, 200_000, "markPrices")
    with pytest.raises(QuoteError, match="expected a JSON array"):
        read_rows({"symbol": "BTC_USDC_PERP"}, {"BTC": "BTC_USDC_PERP"}, "indexPrice", "markPrices")
    with pytest.raises(QuoteError, match=f"more than the {ROWS_MAX} allowed"):
        listed_symbols([{}] * (ROWS_MAX + 1), "tickers")


def _message(stream: str, **data: object) -> str:
    return json.dumps({"stream": stream, "data": data})


def test_a_mark_price_message_gives_the_index_and_a_ticker_message_the_last_price() -> None:
    mark = _message(
        "markPrice.BTC_USDC_PERP", e="markPrice", s="BTC_USDC_PERP", p="118343.5", i="118333.25", f="0.0001"
    )
    assert read_stream_message(mark, MAP) == ("BTC", 118_333_250_000_000_000_000_000)
    ticker = _message("ticker.USDT_USDC", e="ticker", s="USDT_USDC", c="1.0002", o="1")
    assert read_stream_message(ticker, MAP) == ("USDT", 1_000_200_000_000_000_000)


def test_messages_that_carry_no_price_we_mirror_are_passed_over() -> None:
    assert read_stream_message(json.dumps({"id": None, "result": None}), MAP) is None
    assert read_stream_message("[1, 2]", MAP) is None
    assert read_stream_message(_message("markPrice.DOGE_USDC_PERP", s="DOGE_USDC_PERP", i="0.2"), MAP) is None
    assert read_stream_message(_message("depth.BTC_USDC_PERP", s="BTC_USDC_PERP", i="1"), MAP) is None
    assert read_stream_message(_message("ticker.BTC_USDC_PERP", s="BTC_USDC_PERP", c="1"), MAP) is None, (
        "BTC is priced by its perp's index, not by a ticker"
    )
    assert read_stream_message(_message("markPrice.USDT_USDC", s="USDT_USDC", i="1"), MAP) is None


def test_a_malformed_message_of_a_mirrored_stream_is_refused_by_name() -> None:
    with pytest.raises(QuoteError, match="binary message"):
        read_stream_message(b"{}", MAP)
    with pytest.raises(QuoteError, match="must be an object for symbol BTC_USDC_PERP"):
        read_stream_message(_message("markPrice.BTC_USDC_PERP", s="ETH_USDC_PERP", i="3000"), MAP)
    with pytest.raises(QuoteError, match="must be an object"):
        read_stream_message(json.dumps({"stream": "markPrice.BTC_USDC_PERP", "data": "118000"}), MAP)
    with pytest.raises(QuoteError, match=r"stream markPrice\.BTC_USDC_PERP i"):
        read_stream_message(_message("markPrice.BTC_USDC_PERP", s="BTC_USDC_PERP", p="118000"), MAP)
    with pytest.raises(QuoteError, match="more than the"):
        read_stream_message("[" + " " * MESSAGE_BYTES_MAX + "]", MAP)


def test_urls_come_from_flags_then_the_environment_then_backpack() -> None:
    assert backpack_options({}) == BackpackOptions(rest_url=DEFAULT_REST_URL, ws_url=DEFAULT_WS_URL)
    environment = {"CROSSMARGIN_BACKPACK_URL": "http://127.0.0.1:9/", "CROSSMARGIN_BACKPACK_WS_URL": "off"}
    from_environment = backpack_options(environment)
    assert (from_environment.rest_url, from_environment.ws_url) == ("http://127.0.0.1:9", None)
    flagged = backpack_options(environment, rest_url="http://localhost:8", ws_url="ws://localhost:8")
    assert (flagged.rest_url, flagged.ws_url) == ("http://localhost:8", "ws://localhost:8")


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"rest_url": "ftp://x"}, "must start with http:// or https://"),
        ({"ws_url": "http://x"}, "must start with ws:// or wss://"),
        ({"poll_seconds": 0}, "poll_seconds must be greater than zero"),
        ({"backoff_first_seconds": 5, "backoff_max_seconds": 1}, "at least backoff_first_seconds"),
    ],
)
def test_options_that_cannot_work_are_refused(arguments: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        BackpackOptions(**arguments)  # type: ignore[arg-type]


def test_serve_guards_mirrored_prices_by_age_unless_told_otherwise() -> None:
    assert serve_price_max_age_ms(None, wall_clock=True) == BACKPACK_PRICE_MAX_AGE_MS == 60_000
    assert serve_price_max_age_ms(5_000, wall_clock=True) == 5_000
    assert serve_price_max_age_ms(None, wall_clock=False) is None, "a manual clock jumps by hours"
