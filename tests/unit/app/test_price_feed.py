"""The price feed submits what its source says as one SetMarkPrices, through the oracle guards, and goes on.

Method: a real service on a manual clock (in-memory journal, the demo assets and markets); the feed
is polled by hand, so each poll's engine time is known. A replayed CSV moves the index prices
exactly as the file says and the perp marks follow; a refusal of the jump guard or a broken
source is counted and the next poll submits again; prices caught in a journal fault are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.views.perps import view_mark_prices
from crossmargin.app.clock import AcceleratedClock, ManualClock
from crossmargin.app.faults import ServiceUnavailableError
from crossmargin.app.market_history import PriceKind
from crossmargin.app.market_maker import MarketMaker, ensure_market_maker
from crossmargin.app.price_feed import UPDATES_PER_WALL_SECOND_MAX, PriceFeed, engine_interval_ms
from crossmargin.app.price_sources import PriceSourceError, SourceSettings, open_price_source
from crossmargin.app.price_sources.demo import DemoPriceSource
from crossmargin.app.price_sources.file import FileReplay
from crossmargin.app.service import BatchCommitted, Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import ConfigureOracle, SetMarkPrices
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000
PRICES = (("USDC", WAD), ("USDT", WAD), ("BTC", 60_000 * WAD), ("ETH", 3_000 * WAD), ("SOL", 150 * WAD))
LISTED = frozenset(symbol for symbol, _ in PRICES)


@pytest.fixture
def service() -> Iterator[Service]:
    document = load_document()
    specs = parse_asset_specs(document)
    opened = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    try:
        assert isinstance(opened.execute(SetMarkPrices(PRICES)), Accepted)
        assert isinstance(opened.execute(ConfigureOracle(None, Ratio(WAD // 2))), Accepted)
        yield opened
    finally:
        opened.close()


def advance_to(service: Service, now_ms: int) -> None:
    clock = service.clock
    assert isinstance(clock, ManualClock)
    clock.advance_to(now_ms)


class Scripted:
    """A source that says, at each call, the next of its answers (an exception is raised)."""

    name = "scripted"

    def __init__(self, *answers: dict[str, int] | Exception | None) -> None:
        self.answers = list(answers)
        self.asked_at: list[int] = []

    def prices_at(self, now_ms: int) -> dict[str, int] | None:
        self.asked_at.append(now_ms)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        self.answers = []


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("timestamp,symbol,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_replayed_file_moves_index_prices_as_it_says_and_perp_marks_follow(service: Service, tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "prices.csv",
        [
            "2024-03-01T00:00:00Z,BTC,61000",
            "2024-03-01T00:00:00Z,ETH,3100",
            "2024-03-01T00:00:30Z,BTC,61500.5",
            "2024-03-01T00:01:00Z,SOL,155",
        ],
    )
    start = service.now_ms()
    replay = FileReplay.open(file, LISTED, start_ms=start, absolute=False)
    feed = PriceFeed(service, replay)
    assert feed.poll(), "the first row applies at the start"
    marks = service.read(lambda state: dict(state.mark_prices_wad))
    assert (marks["BTC"], marks["ETH"], marks["SOL"]) == (61_000 * WAD, 3_100 * WAD, 150 * WAD)
    advance_to(service, start + 29_999)
    assert not feed.poll(), "nothing falls due before the file's next time"
    advance_to(service, start + 60_000)
    assert feed.poll()
    marks = service.read(lambda state: dict(state.mark_prices_wad))
    assert (marks["BTC"], marks["SOL"]) == (61_500_500_000_000_000_000_000, 155 * WAD), "both rows due, latest each"
    perp = service.read(lambda state: state.perp_marks_wad["BTC_USDC_PERP"])
    assert perp == 61_500_500_000_000_000_000_000, "an empty book's perp mark follows the index"
    assert replay.rows_left == 0
    advance_to(service, start + 3_600_000)
    assert not feed.poll(), "after the last row prices stay where the file left them"
    assert feed.updates_accepted == 2
    assert feed.updates_refused == 0


def test_absolute_file_times_apply_rows_when_the_engine_reaches_them(tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "prices.csv",
        [f"{START_MS - 1000},BTC,59000", f"{START_MS},BTC,59500", f"{START_MS + 5000},BTC,60500"],
    )
    replay = FileReplay.open(file, LISTED, start_ms=START_MS, absolute=True)
    assert replay.name == "file prices.csv (absolute times)"
    assert replay.prices_at(START_MS) == {"BTC": 59_500 * WAD}, "rows already past apply at once, the latest"
    assert replay.prices_at(START_MS + 4_999) is None
    assert replay.prices_at(START_MS + 5_000) == {"BTC": 60_500 * WAD}
    relative = FileReplay.open(file, LISTED, start_ms=10 * START_MS, absolute=False)
    assert relative.prices_at(10 * START_MS) == {"BTC": 59_000 * WAD}, "relative: the first row at the start"
    relative.close()
    assert relative.prices_at(20 * START_MS) is None


def test_the_feed_keeps_going_after_the_jump_guard_refuses_an_update(service: Service) -> None:
    source = Scripted({"BTC": 120_000 * WAD}, {"BTC": 61_000 * WAD})
    feed = PriceFeed(service, source)
    assert feed.poll()
    assert feed.updates_refused == 1
    assert service.read(lambda state: state.mark_prices_wad["BTC"]) == 60_000 * WAD, "a refused update changes nothing"
    assert feed.poll()
    assert feed.updates_accepted == 1
    assert service.read(lambda state: state.mark_prices_wad["BTC"]) == 61_000 * WAD


def test_a_broken_source_is_counted_and_asked_again(service: Service) -> None:
    source = Scripted(RuntimeError("venue down"), {"ETH": 3_010 * WAD})
    feed = PriceFeed(service, source)
    assert not feed.poll()
    assert feed.source_errors == 1
    assert feed.poll()
    assert service.read(lambda state: state.mark_prices_wad["ETH"]) == 3_010 * WAD


def test_prices_caught_in_a_journal_fault_are_submitted_with_fresher_ones_after_it(service: Service) -> None:
    class Faulty:
        """The service, except that the first command meets a journal fault."""

        clock = service.clock
        calls = 0

        def now_ms(self) -> int:
            return service.now_ms()

        def execute(self, command: SetMarkPrices) -> object:
            self.calls += 1
            if self.calls == 1:
                raise ServiceUnavailableError("journal unreachable")
            self.sent = command
            return service.execute(command)

    faulty = Faulty()
    feed = PriceFeed(faulty, Scripted({"BTC": 60_500 * WAD, "ETH": 3_010 * WAD}, {"BTC": 60_600 * WAD}))  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailableError):
        feed.poll()
    assert feed.poll()
    assert faulty.sent == SetMarkPrices((("BTC", 60_600 * WAD), ("ETH", 3_010 * WAD)))


def test_the_feed_thread_submits_the_demo_walk_on_an_accelerated_clock() -> None:
    document = load_document()
    specs = parse_asset_specs(document)
    clock = AcceleratedClock(3_600, START_MS)
    with Service.open(MemoryJournal(), clock, specs) as service:
        assert isinstance(service.execute(SetMarkPrices(PRICES)), Accepted)
        source = DemoPriceSource(dict(PRICES), seed=5, start_ms=service.now_ms())
        feed = PriceFeed(service, source)
        assert feed.engine_interval_ms == 3_600 * 1_000 // UPDATES_PER_WALL_SECOND_MAX, "4 updates a wall second"
        moved: Future[int] = Future()

        def listen(batch: BatchCommitted) -> None:
            if not moved.done():
                moved.set_result(batch.state.mark_prices_wad["BTC"])

        service.add_listener(listen)
        feed.start()
        try:
            assert moved.result(timeout=20) != 60_000 * WAD
        finally:
            feed.stop()
        assert source.prices_at(START_MS * 2) is None, "a closed source says nothing"
    assert engine_interval_ms(1.0) == 1_000, "on the wall clock: every second"


def test_prices_choices_name_a_source_none_or_a_file_and_refuse_others(tmp_path: Path) -> None:
    settings = SourceSettings(listed=LISTED, start_prices=dict(PRICES), start_ms=START_MS, seed=9)
    assert open_price_source("none", settings) is None
    assert open_price_source("OFF", settings) is None
    demo = open_price_source("demo", settings)
    assert demo is not None
    assert demo.name == "demo (seed 9)"
    with pytest.raises(PriceSourceError, match="no such file; write backpack, demo, none, or the path of a price CSV"):
        open_price_source(str(tmp_path / "missing.csv"), settings)
    bad = write_csv(tmp_path / "bad.csv", ["2024-03-01T00:00:00Z,DOGE,0.1"])
    with pytest.raises(PriceSourceError, match="line 2: unknown asset 'DOGE'"):
        open_price_source(str(bad), settings)
    good = write_csv(tmp_path / "good.csv", ["2024-03-01T00:00:00Z,BTC,61000"])
    replay = open_price_source(str(good), settings)
    assert replay is not None
    assert replay.name == "file good.csv (relative times)"


def test_a_replayed_file_moves_index_klines_and_the_funding_estimate_exactly_as_it_says(
    service: Service, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "prices.csv", ["0,BTC,61000", "60000,BTC,61500.5", "120000,BTC,60900"])
    start = service.now_ms()
    feed = PriceFeed(service, FileReplay.open(file, LISTED, start_ms=start, absolute=False))
    assert feed.poll()
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()  # quotes around 61,000, and is not asked again: the book stays where it was
    estimates: list[dict[str, Any]] = []
    for offset in (60_000, 120_000):
        advance_to(service, start + offset)
        assert feed.poll()
        (perp,) = service.read(lambda state: view_mark_prices(state, "BTC_USDC_PERP"))
        assert isinstance(perp, dict)
        estimates.append(perp)
    index_1m = service.read(lambda state: service.market_history.markets["BTC_USDC_PERP"].series(PriceKind.INDEX, "1m"))
    closes = [(candle.start_ms - start // 60_000 * 60_000, candle.close_wad) for candle in index_1m][-3:]
    assert closes == [(0, 61_000 * WAD), (60_000, 61_500_500_000_000_000_000_000), (120_000, 60_900 * WAD)]
    bid, ask = service.read(
        lambda state: (state.books["BTC_USDC_PERP"].bids.best_price(), state.books["BTC_USDC_PERP"].asks.best_price())
    )
    assert bid is not None
    assert ask is not None
    for estimate, index in zip(estimates, ("61500.5", "60900"), strict=True):
        premium = (Decimal(bid + ask) / 2 / WAD - Decimal(index)) / Decimal(index)
        assert estimate["indexPrice"] == index
        expected = max(Decimal("-0.01"), min(Decimal("0.01"), premium))
        assert abs(Decimal(estimate["fundingRate"]) - expected) < Decimal("1e-17"), (
            "the book's premium over the file's index"
        )
    assert Decimal(estimates[0]["fundingRate"]) < 0 < Decimal(estimates[1]["fundingRate"])
