"""The market history end to end: Mark and Index K-lines, the trade history, open interest over time, listing times.

Each test runs the whole application over a service on a manual clock (as `trading_exchange`
does) and reads what a client reads. The restart tests close the service, which snapshots the
state and the market history together, and open a new one on the same journal: everything a
client reads must be the same, and the same again when the history is rebuilt from the whole
journal instead of the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from signing_client import ADMIN_TOKEN, Exchange
from starlette.testclient import TestClient
from tests.e2e.trading_exchange import PRICES, START_MS, advance, funded, placed

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.app import create_app
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import decode_snapshot, encode_state
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.market_config import parse_market_specs

START_S = START_MS // 1000


@contextmanager
def exchange_on(journal: MemoryJournal, clock: ManualClock) -> Iterator[tuple[Service, Exchange]]:
    """Open the service on `journal` with the demo assets and markets, serve it, audit and close it at the end."""
    document = load_document()
    specs = parse_asset_specs(document)
    service = Service.open(journal, clock, specs, parse_market_specs(document, specs))
    try:
        with TestClient(create_app(service, ADMIN_TOKEN), raise_server_exceptions=False) as client:
            exchange = Exchange(client)
            yield service, exchange
            audit = exchange.admin("GET", "/admin/v1/audit").json()
            assert audit["ok"], audit
    finally:
        service.close()


def _prices(exchange: Exchange, **changed: str) -> None:
    response = exchange.admin("POST", "/admin/v1/prices", {"prices": {**PRICES, **changed}})
    assert response.status_code == 200, response.text


def _klines(exchange: Exchange, symbol: str, interval: str, price_type: str | None = None, **query: str) -> Any:
    params = {"symbol": symbol, "interval": interval, "startTime": str(START_S), **query}
    if price_type is not None:
        params["priceType"] = price_type
    response = exchange.client.get("/api/v1/klines", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ohlc(rows: Any) -> list[tuple[str, str, str, str, str]]:
    return [(row["start"][11:], row["open"], row["high"], row["low"], row["close"]) for row in rows]


def _trade_perp(exchange: Exchange) -> int:
    """Quote the BTC perp around 60,150 and buy 0.5 of it: its mark leaves the index and open interest appears.

    Return the time of the trade.
    """
    maker = funded(exchange, USDC="10000000")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Bid", orderType="Limit", quantity="1", price="60100")
    placed(exchange, maker, symbol="BTC_USDC_PERP", side="Ask", orderType="Limit", quantity="1", price="60200")
    trader = funded(exchange, USDC="100000")
    bought = placed(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="0.5")
    return int(str(bought["createdAt"]))


def _scenario(exchange: Exchange) -> int:
    """Prices at 00:00, a move at 00:01, another at 00:01:30, a perp book and trade at 00:03, spot trades.

    Return the time of the perp trade (00:03 and a few milliseconds: each command at its own).
    """
    _prices(exchange)
    advance(exchange, 60)
    _prices(exchange, BTC="61000")
    advance(exchange, 30)
    _prices(exchange, BTC="60500")
    advance(exchange, 90)
    _prices(exchange, BTC="60000")
    perp_trade_ms = _trade_perp(exchange)
    seller = funded(exchange, BTC="1")
    buyer = funded(exchange, USDC="100000")
    for price in ("59990", "60000", "60010"):
        placed(exchange, seller, symbol="BTC_USDC", side="Ask", orderType="Limit", quantity="0.01", price=price)
        placed(exchange, buyer, symbol="BTC_USDC", side="Bid", orderType="Market", quantity="0.01")
    advance(exchange, 60)
    return perp_trade_ms


def test_index_and_mark_klines_move_exactly_as_prices_and_marks_are_set() -> None:
    with exchange_on(MemoryJournal(), ManualClock(START_MS)) as (_, exchange):
        _scenario(exchange)
        index = _klines(exchange, "BTC_USDC_PERP", "1m", "Index")
        mark = _klines(exchange, "BTC_USDC_PERP", "1m", "Mark")
        spot_mark = _klines(exchange, "BTC_USDC", "1m", "Mark")
        spot_index = _klines(exchange, "BTC_USDC", "1m", "Index")
        hours = _klines(exchange, "BTC_USDC_PERP", "1h", "Index")
        window = _klines(
            exchange, "BTC_USDC_PERP", "1m", "Index", startTime=str(START_S + 90), endTime=str(START_S + 150)
        )

    assert _ohlc(index) == [
        ("00:00:00", "60000", "60000", "60000", "60000"),
        ("00:01:00", "60000", "61000", "60000", "60500"),
        ("00:02:00", "60500", "60500", "60500", "60500"),
        ("00:03:00", "60500", "60500", "60000", "60000"),
        ("00:04:00", "60000", "60000", "60000", "60000"),
    ], "a candle opens where the last closed; a minute without a move is flat"
    assert _ohlc(mark)[:3] == _ohlc(index)[:3], "without a two-sided book the perp's mark is its index"
    assert _ohlc(mark)[3:] == [
        ("00:03:00", "60500", "60500", "60000", "60100"),
        ("00:04:00", "60100", "60100", "60100", "60100"),
    ], "then the median of index 60000, bid 60100 and ask 60200"
    assert spot_mark == spot_index, "a spot market's mark is its index"
    assert _ohlc(spot_index) == _ohlc(index)
    assert {(row["volume"], row["quoteVolume"], row["trades"]) for row in index + mark} == {("0", "0", "0")}
    assert _ohlc(hours) == [("00:00:00", "60000", "61000", "60000", "60000")]
    assert [row["start"] for row in window] == [
        "2026-01-01 00:01:00",
        "2026-01-01 00:02:00",
    ], "the candles that overlap 00:01:30 to 00:02:30"


def test_last_klines_come_from_the_trades_and_skip_minutes_without_one() -> None:
    with exchange_on(MemoryJournal(), ManualClock(START_MS)) as (_, exchange):
        _scenario(exchange)
        last = _klines(exchange, "BTC_USDC", "1m")
        default = _klines(exchange, "BTC_USDC", "1m", "Last")

    assert last == default, "priceType defaults to Last"
    assert [(row["start"][11:], row["open"], row["close"], row["volume"], row["trades"]) for row in last] == [
        ("00:03:00", "59990", "60010", "0.03", "3")
    ]


def test_trade_history_pages_back_from_the_newest_trade() -> None:
    with exchange_on(MemoryJournal(), ManualClock(START_MS)) as (_, exchange):
        _scenario(exchange)

        def history(**query: str) -> Any:
            return exchange.client.get("/api/v1/trades/history", params={"symbol": "BTC_USDC", **query})

        everything = history().json()
        newest = history(limit="2").json()
        oldest = history(limit="2", offset="2").json()
        beyond = history(offset="3").json()
        recent = exchange.client.get("/api/v1/trades", params={"symbol": "BTC_USDC"}).json()
        refusals = [history(limit="0"), history(limit="1001"), history(offset="-1"), history(limit="x")]
        unknown = exchange.client.get("/api/v1/trades/history", params={"symbol": "DOGE_USDC"})
        missing = exchange.client.get("/api/v1/trades/history")

    assert [row["price"] for row in everything] == ["60010", "60000", "59990"], "newest first"
    assert everything == recent[::-1], "the same trades /api/v1/trades lists oldest first"
    assert [row["id"] for row in newest] == [row["id"] for row in everything[:2]]
    assert oldest == everything[2:]
    assert beyond == []
    assert set(everything[0]) == {"id", "price", "quantity", "quoteQuantity", "timestamp", "isBuyerMaker"}
    assert [(response.status_code, response.json()["message"]) for response in refusals] == [
        (400, "limit must be between 1 and 1000, not 0"),
        (400, "limit must be between 1 and 1000, not 1001"),
        (400, "offset must be a whole number of at least 0"),
        (400, "limit must be a whole number of at least 0"),
    ]
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_MARKET")
    assert missing.json() == {"code": "INVALID_CLIENT_REQUEST", "message": "symbol is required"}


def test_open_interest_history_samples_each_minute_it_changed() -> None:
    with exchange_on(MemoryJournal(), ManualClock(START_MS)) as (_, exchange):
        perp_trade_ms = _scenario(exchange)
        trader = funded(exchange, USDC="100000")
        placed(exchange, trader, symbol="BTC_USDC_PERP", side="Bid", orderType="Market", quantity="0.25")
        advance(exchange, 30)
        second = placed(exchange, trader, symbol="BTC_USDC_PERP", side="Ask", orderType="Market", quantity="0.1")
        advance(exchange, 120)
        third = placed(exchange, trader, symbol="BTC_USDC_PERP", side="Ask", orderType="Market", quantity="0.15")
        rows = exchange.client.get("/api/v1/openInterest/history", params={"symbol": "BTC_USDC_PERP"}).json()
        (now,) = exchange.client.get("/api/v1/openInterest", params={"symbol": "BTC_USDC_PERP"}).json()
        spot = exchange.client.get("/api/v1/openInterest/history", params={"symbol": "BTC_USDC"})
        paged = exchange.client.get("/api/v1/openInterest/history", params={"symbol": "BTC_USDC_PERP", "limit": "1"})

    assert [(row["openInterest"], row["timestamp"]) for row in rows] == [
        ("0.5", third["createdAt"]),
        ("0.65", second["createdAt"]),
        ("0.5", perp_trade_ms),
    ], "newest first, one row per minute that changed: 00:04 went to 0.75 and then 0.65, its last value"
    assert [(row["timestamp"] - START_MS) // 30_000 for row in rows] == [13, 9, 6], "at 00:06:30, 00:04:30, 00:03"
    assert {row["symbol"] for row in rows} == {"BTC_USDC_PERP"}
    assert rows[0]["openInterest"] == now["openInterest"]
    assert (spot.status_code, spot.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert paged.json() == rows[:1]
    assert paged.headers["X-TOTAL"] == "3"


def _reads(exchange: Exchange) -> dict[str, Any]:
    """Everything the market history answers, as a client reads it."""
    reads: dict[str, Any] = {}
    for symbol in ("BTC_USDC", "BTC_USDC_PERP"):
        for price_type in ("Last", "Index", "Mark"):
            for interval in ("1s", "1m", "1h", "1w", "1month"):
                reads[f"{symbol} {price_type} {interval}"] = _klines(exchange, symbol, interval, price_type)
        reads[f"{symbol} trades"] = exchange.client.get("/api/v1/trades/history", params={"symbol": symbol}).json()
    history = exchange.client.get("/api/v1/openInterest/history", params={"symbol": "BTC_USDC_PERP"})
    reads["open interest"] = history.json()
    reads["markets"] = exchange.client.get("/api/v1/markets").json()
    return reads


def test_the_market_history_and_listing_times_are_the_same_after_a_restart() -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS + 1)
    with exchange_on(journal, clock) as (service, exchange):
        _scenario(exchange)
        before = _reads(exchange)
        kept = service.read(lambda _: service.market_history.encode())
    clock.advance(3600)
    with exchange_on(journal.reopen(), clock) as (service, exchange):
        after = _reads(exchange)
        restored = service.read(lambda _: service.market_history.encode())
    sequence = max(journal.snapshots)
    state, _ = decode_snapshot(journal.snapshots[sequence])
    journal.reopen().save_snapshot(sequence, encode_state(state))  # as an older release wrote it: no history
    with exchange_on(journal.reopen(), clock) as (service, exchange):
        replayed = _reads(exchange)
        rebuilt = service.read(lambda _: service.market_history.encode())

    # The assets listed at the clock's START_MS + 1, the markets 1 ms after, the manual clock's rule.
    assert {market["createdAt"] for market in before["markets"]} == {"2026-01-01T00:00:00.002"}
    assert after == before
    assert replayed == before
    assert restored == kept
    assert rebuilt == kept, "the history rebuilt from the whole journal is the one kept live"
    assert before["BTC_USDC Last 1m"], "the scenario traded"
