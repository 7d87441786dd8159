"""The pure parts of the WebSocket streams: message shapes, the 24-hour window, requests, fan-out."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from nacl.signing import SigningKey

from crossmargin.api.stream_messages import (
    DepthUpdate,
    MarkPrice,
    PositionContext,
    TickerStats,
    depth_data,
    mark_price_data,
    position_data,
    position_event_type,
    ticker_data,
)
from crossmargin.api.stream_requests import (
    Method,
    StreamRequestError,
    check_stream,
    parse_request,
    verify_subscription,
)
from crossmargin.api.stream_ticker import WINDOW_MS, TickerWindow
from crossmargin.app.broadcast import Broadcaster
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.perps import PerpPosition
from crossmargin.market_config import parse_market_specs

MARKETS = {spec.symbol: spec for spec in parse_market_specs(load_document(), parse_asset_specs(load_document()))}


def spec(symbol: str) -> MarketSpec:
    return MARKETS[symbol]


def test_depth_data_prints_levels_exactly_with_their_ids() -> None:
    update = DepthUpdate(((60_000 * WAD + WAD // 10, 0),), ((59_999 * WAD, 123_456_000),), 8, 11, 1_000)

    assert depth_data(spec("BTC_USDC"), update) == {
        "e": "depth",
        "E": 1_000_000,
        "s": "BTC_USDC",
        "a": [["60000.1", "0"]],
        "b": [["59999", "1.23456"]],
        "U": 8,
        "u": 11,
        "T": 1_000_000,
    }


def test_ticker_and_mark_price_data_use_backpacks_letters() -> None:
    stats = TickerStats(59_000 * WAD, 61_000 * WAD, 62_000 * WAD, 58_000 * WAD, 10**8, 60_000 * 10**6, 3)
    mark = MarkPrice("BTC_USDC_PERP", 60_010 * WAD, 60_000 * WAD, -WAD // 10_000, 3_600_000, 5)

    assert ticker_data(spec("BTC_USDC"), stats, 5) == {
        "e": "ticker",
        "E": 5_000,
        "s": "BTC_USDC",
        "o": "59000",
        "c": "61000",
        "h": "62000",
        "l": "58000",
        "v": "1",
        "V": "60000",
        "n": 3,
    }
    assert mark_price_data(mark) == {
        "e": "markPrice",
        "E": 5_000,
        "s": "BTC_USDC_PERP",
        "p": "60010",
        "f": "-0.0001",
        "i": "60000",
        "n": 3_600_000,  # next funding in ms, as Backpack sends it
        "T": 5_000,
    }


def test_a_short_positions_data_reports_signed_and_absolute_sizes() -> None:
    short = PerpPosition(
        PositionId(4),
        SubaccountId(2),
        "BTC_USDC_PERP",
        quantity_atoms=-50_000_000,
        basis_atoms=-30_000_000_000,
        entry_cost_atoms=-30_000_000_000,
        realized_pnl_atoms=-1_500_000,
    )

    data = position_data(spec("BTC_USDC_PERP"), "positionAdjusted", short, PositionContext(61_000 * WAD, 0, 1))

    assert (data["q"], data["Q"], data["B"], data["M"], data["n"]) == ("-0.5", "0.5", "60000", "61000", "30500")
    assert (data["p"], data["P"], data["i"]) == ("-1.5", "-500", 4), "a short loses when the mark rises"


@pytest.mark.parametrize(
    ("before", "after", "event_type"),
    [(0, 5, "positionOpened"), (5, 7, "positionAdjusted"), (5, -2, "positionAdjusted"), (5, 0, "positionClosed")],
)
def test_position_event_types(before: int, after: int, event_type: str) -> None:
    assert position_event_type(before, after) == event_type


def test_ticker_window_rolls_its_high_low_and_volumes_over_24_hours() -> None:
    window = TickerWindow()
    assert window.stats() is None
    window.add(0, 100, 1, 100)
    window.add(10, 300, 2, 600)
    window.add(20, 200, 3, 600)
    window.add(30, 50, 4, 200)

    window.expire(WINDOW_MS + 10)  # the fills at 0 and 10 are a day old
    stats = window.stats()

    assert stats == TickerStats(200, 50, 200, 50, 7, 800, 2)
    window.expire(WINDOW_MS + 30)
    assert window.stats() is None


def test_requests_parse_or_are_refused_with_a_reason() -> None:
    request = parse_request(b'{"method":"subscribe","params":["depth.BTC_USDC"],"id":3}')

    assert (request.method, request.streams, request.request_id, request.signature) == (
        Method.SUBSCRIBE,
        ("depth.BTC_USDC",),
        3,
        None,
    )
    with pytest.raises(StreamRequestError, match="not JSON"):
        parse_request("{")
    with pytest.raises(StreamRequestError, match="must be an object"):
        parse_request("[1]")


def test_stream_names_must_be_served_ones_on_listed_markets() -> None:
    markets, perps = {"BTC_USDC", "BTC_USDC_PERP"}, {"BTC_USDC_PERP"}
    served = ["depth.BTC_USDC", "markPrice.BTC_USDC_PERP", "account.orderUpdate.BTC_USDC", "account.rfqUpdate"]
    served += ["bookTicker.BTC_USDC", "depth.200ms.BTC_USDC", "depth.1000ms.BTC_USDC_PERP", "liquidation"]
    served += ["kline.1m.BTC_USDC", "kline.1month.BTC_USDC_PERP"]
    for name in (*served, "depth.600ms.BTC_USDC", "openInterest.BTC_USDC_PERP"):
        check_stream(name, markets, perps)
    unknown = ("depth.ETH_USDC", "kline.7m.BTC_USDC", "kline.1m.ETH_USDC", "kline.BTC_USDC", "depth", "depth.200ms")
    for name in (*unknown, "account.balanceUpdate.BTC_USDC", "depth.100ms.BTC_USDC", "openInterest.BTC_USDC"):
        with pytest.raises(StreamRequestError, match="Invalid stream") as refused:
            check_stream(name, markets, perps)
        assert refused.value.code == 4006
    with pytest.raises(StreamRequestError, match="Invalid stream"):
        check_stream("liquidation.BTC_USDC", markets, perps)


def test_a_subscription_signature_is_checked_like_a_request_signature() -> None:
    key = SigningKey.generate()
    api_key = base64.b64encode(bytes(key.verify_key)).decode()
    now = int(time.time() * 1000)
    signed = key.sign(f"instruction=subscribe&timestamp={now}&window=5000".encode()).signature

    assert verify_subscription((api_key, base64.b64encode(signed).decode(), str(now), "5000"), now) == api_key
    with pytest.raises(StreamRequestError, match="Invalid signature"):
        verify_subscription((api_key, base64.b64encode(signed).decode(), str(now), "6000"), now)
    with pytest.raises(StreamRequestError, match="X-Timestamp must be a whole number"):
        verify_subscription((api_key, base64.b64encode(signed).decode(), "soon", "5000"), now)


def test_a_full_queue_drops_its_subscriber_and_no_one_else() -> None:
    async def scenario() -> tuple[list[str], bool, str, frozenset[str]]:
        broadcaster = Broadcaster(queue_size=2)
        slow, fast = broadcaster.connect(), broadcaster.connect()
        for subscriber in (slow, fast):
            broadcaster.subscribe(subscriber, "depth.BTC_USDC")
        received = []
        for number in range(4):
            broadcaster.publish("depth.BTC_USDC", str(number))
            received.append(await fast.queue.get())
        return received, slow.dropped.is_set(), slow.drop_reason, broadcaster.active

    received, dropped, reason, active = asyncio.run(scenario())

    assert received == ["0", "1", "2", "3"], "the reading subscriber got every message"
    assert dropped, "the subscriber with 2 unread messages was dropped at the third"
    assert reason.startswith("Slow consumer")
    assert active == frozenset({"depth.BTC_USDC"}), "the topic stays active for the other subscriber"


def test_unsubscribing_the_last_follower_deactivates_a_topic() -> None:
    async def scenario() -> tuple[frozenset[str], int]:
        broadcaster = Broadcaster()
        subscriber = broadcaster.connect()
        broadcaster.subscribe(subscriber, "trade.BTC_USDC")
        broadcaster.unsubscribe(subscriber, "trade.BTC_USDC")
        broadcaster.publish("trade.BTC_USDC", "x")
        return broadcaster.active, subscriber.queue.qsize()

    assert asyncio.run(scenario()) == (frozenset(), 0)
