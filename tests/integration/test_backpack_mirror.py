"""`--prices backpack` against a local fake of Backpack's public API: exact prices, our assets only,
bad answers survived, and a feed that drops or stalls lets the stale guard refuse new risk until it is back.

The service tests do what the price feed does: ask `prices_at` on the engine clock and submit
what it returns as one `SetMarkPrices`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fake_backpack import FakeBackpack

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.price_sources.backpack import BackpackOptions, BackpackPriceSource, backpack_source
from crossmargin.app.price_sources.backpack_quotes import RESPONSE_BYTES_MAX
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import (
    BorrowLendSide,
    ConfigureOracle,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SeedDemo,
    SetMarkPrices,
)
from crossmargin.core.engine import Accepted, Rejected
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.core.rejections import RejectReason
from crossmargin.market_config import parse_market_specs

ASSETS = ("BTC", "ETH", "SOL", "USDC", "USDT", "XYZ")  # XYZ: ours, but Backpack lists no market for it
MIRRORED = {
    "BTC": 118_333_186_431_950_000_000_000,  # "118333.18643195", the recorded sample
    "ETH": 3_612_500_000_000_000_000_000,
    "SOL": 187_234_500_000_000_000_000,
    "USDT": 1_000_200_000_000_000_000,  # USDT_USDC's last price: Backpack lists no USDT perp
    "USDC": WAD,
}
START_MS = 1_767_225_600_000
WAIT_SECONDS = 20.0


@pytest.fixture
def fake() -> Iterator[FakeBackpack]:
    server = FakeBackpack().start()
    try:
        yield server
    finally:
        server.stop()


def _options(fake: FakeBackpack, *, stream: bool, poll_seconds: float) -> BackpackOptions:
    return BackpackOptions(
        rest_url=fake.rest_url,
        ws_url=fake.ws_url if stream else None,
        poll_seconds=poll_seconds,
        request_timeout_seconds=1.0,
        stream_idle_seconds=1.0,
        backoff_first_seconds=0.05,
        backoff_max_seconds=0.2,
    )


@pytest.fixture
def started() -> Iterator[list[BackpackPriceSource]]:
    sources: list[BackpackPriceSource] = []
    yield sources
    for source in sources:
        source.close()


def _source(
    started: list[BackpackPriceSource],
    fake: FakeBackpack,
    assets: tuple[str, ...] = ASSETS,
    *,
    stream: bool = True,
    poll_seconds: float = 0.2,
) -> BackpackPriceSource:
    source = backpack_source(assets, _options(fake, stream=stream, poll_seconds=poll_seconds))
    started.append(source)
    assert source.wait_for_markets(WAIT_SECONDS), "the first poll maps the markets"
    return source


def _next_prices(source: BackpackPriceSource, now_ms: int = START_MS, *, until: str | None = None) -> dict[str, int]:
    """Wait for `prices_at` to bring something (with `until`: a price of that asset); return all it brought."""
    deadline = time.monotonic() + WAIT_SECONDS
    brought: dict[str, int] = {}
    while time.monotonic() < deadline:
        brought.update(source.prices_at(now_ms) or {})
        if brought and (until is None or until in brought):
            return brought
        time.sleep(0.02)
    raise AssertionError(f"no prices from {source.name} within {WAIT_SECONDS} s (got {brought})")


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {WAIT_SECONDS} s"
        time.sleep(0.02)


def _nothing_for(source: BackpackPriceSource, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert source.prices_at(START_MS) is None, "a feed that is down brings nothing"
        time.sleep(0.05)


def test_prices_are_mirrored_exactly_and_only_for_our_assets(
    fake: FakeBackpack, started: list[BackpackPriceSource]
) -> None:
    source = _source(started, fake, stream=False, poll_seconds=60)
    assert source.prices_at(START_MS) == MIRRORED, "index of each perp, USDT's spot last price, USDC at 1"
    assert source.prices_at(START_MS) is None, "nothing new until the next poll"
    assert source.market_map.unmirrored == ("XYZ",)
    assert fake.requests == {"/api/v1/markPrices": 1, "/api/v1/tickers": 1}


def test_tickers_are_not_asked_for_when_every_asset_has_a_perp(
    fake: FakeBackpack, started: list[BackpackPriceSource]
) -> None:
    source = _source(started, fake, ("BTC", "SOL"), stream=False, poll_seconds=60)
    assert source.prices_at(START_MS) == {"BTC": MIRRORED["BTC"], "SOL": MIRRORED["SOL"]}, "no USDC: not ours here"
    assert fake.requests == {"/api/v1/markPrices": 1}


def test_the_stream_brings_a_change_between_polls(fake: FakeBackpack, started: list[BackpackPriceSource]) -> None:
    source = _source(started, fake, poll_seconds=60)
    _next_prices(source)
    fake.set_index("BTC_USDC_PERP", "120000.000000000000000001")
    fake.set_last("USDT_USDC", "0.9998")
    fake.set_index("DOGE_USDC_PERP", "9")  # not ours: never subscribed
    assert _next_prices(source, until="BTC")["BTC"] == 120_000 * WAD + 1
    assert _next_prices(source, until="USDT")["USDT"] == 999_800_000_000_000_000
    assert fake.requests["/api/v1/markPrices"] == 1, "the change came by the stream, not by a poll"
    assert fake.subscriptions == [
        ["markPrice.BTC_USDC_PERP", "markPrice.ETH_USDC_PERP", "markPrice.SOL_USDC_PERP", "ticker.USDT_USDC"]
    ]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"code":"INTERNAL_ERROR","message":"try again"}'),
        (200, b"<html>bad gateway</html>"),
        (200, b'{"symbol": "BTC_USDC_PERP", "indexPrice": "1"}'),
        (200, b"[" + b" " * RESPONSE_BYTES_MAX + b"]"),
        (200, b"[" * 50_000),
    ],
    ids=["error-status", "not-json", "not-an-array", "oversized", "too-deep"],
)
def test_a_bad_answer_is_skipped_and_the_mirror_carries_on(
    fake: FakeBackpack, started: list[BackpackPriceSource], status: int, body: bytes
) -> None:
    source = _source(started, fake, stream=False)
    _next_prices(source)
    fake.raw_rest("/api/v1/markPrices", status, body)
    polled = fake.requests["/api/v1/markPrices"]
    _wait_until(lambda: fake.requests["/api/v1/markPrices"] >= polled + 3, "three polls meet the bad answer")
    source.prices_at(START_MS)  # drop what a poll before the bad answer may have brought
    _nothing_for(source, 0.5)
    fake.clear_raw_rest()
    assert _next_prices(source) == MIRRORED


def test_a_server_that_trickles_its_answer_cannot_hold_the_poller(
    fake: FakeBackpack, started: list[BackpackPriceSource]
) -> None:
    source = _source(started, fake, stream=False)
    _next_prices(source)
    fake.trickle(0.25)  # each byte within the 1 s read timeout; the whole body would take minutes
    polled = fake.requests["/api/v1/markPrices"]
    _wait_until(lambda: fake.requests["/api/v1/markPrices"] >= polled + 3, "the poller gives up and asks again")
    fake.trickle(None)
    source.prices_at(START_MS)  # drop what a poll before the trickle may have brought
    assert _next_prices(source) == MIRRORED


def test_a_malformed_row_costs_only_its_own_asset(fake: FakeBackpack, started: list[BackpackPriceSource]) -> None:
    fake.set_index("BTC_USDC_PERP", "1.2e5")
    fake.set_index("DOGE_USDC_PERP", "not even a number")  # not ours: never read
    source = _source(started, fake, stream=False, poll_seconds=60)
    assert source.prices_at(START_MS) == {asset: wad for asset, wad in MIRRORED.items() if asset != "BTC"}


def test_a_malformed_stream_message_is_skipped_and_the_stream_carries_on(
    fake: FakeBackpack, started: list[BackpackPriceSource]
) -> None:
    source = _source(started, fake, poll_seconds=60)
    _next_prices(source)
    fake.raw_stream('{"stream": "markPrice.BTC_USDC_PERP", "data": {"s": "BTC_USDC_PERP", "i": 1.5}}')
    fake.raw_stream("not json")
    fake.set_index("BTC_USDC_PERP", "118400")
    assert _next_prices(source, until="BTC")["BTC"] == 118_400 * WAD
    assert fake.connections == 1, "the same connection"


def _open_service() -> tuple[Service, ManualClock]:
    document = load_document()
    specs = parse_asset_specs(document)
    clock = ManualClock(START_MS)
    return Service.open(MemoryJournal(), clock, specs, parse_market_specs(document, specs)), clock


def _accept(service: Service, command: object) -> Accepted:
    result = service.execute(command)  # type: ignore[arg-type]
    assert isinstance(result, Accepted), result
    return result


def _feed(service: Service, source: BackpackPriceSource, clock: ManualClock) -> None:
    """What the price feed does with a source: one `SetMarkPrices` of what it brought."""
    prices = _next_prices(source, clock.now_ms())
    _accept(service, SetMarkPrices(tuple(sorted(prices.items()))))


def _borrow(service: Service, borrower: SubaccountId) -> Accepted | Rejected:
    return service.execute(ExecuteBorrowLend(borrower, "USDC", BorrowLendSide.BORROW, 100 * 10**6))


@pytest.mark.parametrize("how", ["stopped", "stalled"])
def test_a_dropped_feed_goes_stale_refuses_new_risk_and_recovers_when_backpack_is_back(
    fake: FakeBackpack, started: list[BackpackPriceSource], how: str
) -> None:
    service, clock = _open_service()
    try:
        source = _source(started, fake)
        _accept(service, ConfigureOracle(price_max_age_ms=60_000, price_jump_band=Ratio(WAD // 2)))
        specs = service.read(lambda state: dict(state.specs))
        first = _next_prices(source, clock.now_ms())
        ours = tuple(sorted((asset, wad) for asset, wad in first.items() if asset in specs))
        liquidity = (("USDC", 1_000_000 * 10 ** specs["USDC"].decimals),)
        _accept(service, SeedDemo(prices_wad=ours, liquidity_atoms=liquidity))  # seeded at Backpack's prices
        assert service.read(lambda state: state.mark_prices_wad["BTC"]) == MIRRORED["BTC"]
        created = _accept(service, CreateAccount())
        borrower = next(event.subaccount_id for event in created.events if isinstance(event, AccountCreated))
        _accept(service, Deposit(borrower, "BTC", 10 ** specs["BTC"].decimals))
        assert isinstance(_borrow(service, borrower), Accepted)

        connections = fake.connections
        if how == "stopped":
            fake.stop()
        else:
            fake.stall()
        source.prices_at(clock.now_ms())  # what arrived before the drop
        _nothing_for(source, 1.5)
        clock.advance(61)
        refused = _borrow(service, borrower)
        assert isinstance(refused, Rejected)
        assert refused.rejection.reason is RejectReason.PRICE_STALE
        assert "BTC" in refused.rejection.message

        if how == "stopped":
            fake.start()
        else:
            fake.resume()
        fake.set_index("BTC_USDC_PERP", "118500")
        _feed(service, source, clock)
        _wait_until(lambda: fake.connections > connections, "the stream connects again")
        assert isinstance(_borrow(service, borrower), Accepted)
        assert service.read(lambda state: state.mark_prices_wad["BTC"]) == 118_500 * WAD
        assert all(check.ok for check in service.audit())
    finally:
        service.close()


def test_close_stops_the_threads_and_the_source_says_nothing_more(fake: FakeBackpack) -> None:
    source = backpack_source(ASSETS, _options(fake, stream=True, poll_seconds=0.1))
    _next_prices(source)
    _wait_until(lambda: fake.connections > 0, "the stream connects")
    source.close()
    assert source.prices_at(START_MS) is None
    assert not [thread for thread in source._threads if thread.is_alive()], "both threads end"
