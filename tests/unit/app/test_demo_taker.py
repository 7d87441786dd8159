"""The demo taker: random small market orders on the engine clock, reproducible per seed, moving funding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.demo_taker import (
    DEMO_TAKER_API_KEY,
    DEMO_TAKER_FUNDS,
    MAX_CATCH_UP,
    DemoTaker,
    TakerFlow,
    buy_probability,
    ensure_demo_taker,
    find_demo_taker,
)
from crossmargin.app.market_maker import MarketMaker, ensure_market_maker
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import SetMarkPrices, Withdraw
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.maker_config import parse_demo_trading
from crossmargin.market_config import parse_market_specs
from crossmargin.simulation.price_paths import random_walk

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}
FAST = {"BTC_USDC_PERP": TakerFlow(mean_interval_ms=20_000, max_notional=50_000)}


class Demo:
    """A fresh exchange with prices, the configured market maker and a taker, on a manual clock."""

    def __init__(self, seed: int, flows: dict[str, TakerFlow] | None = None, journal: MemoryJournal | None = None):
        document = load_document()
        specs = parse_asset_specs(document)
        self.clock = ManualClock(START_MS)
        self.journal = journal or MemoryJournal()
        self.service = Service.open(self.journal, self.clock, specs, parse_market_specs(document, specs))
        self.prices(PRICES)
        trading = parse_demo_trading(document)
        self.maker = MarketMaker(self.service, ensure_market_maker(self.service)[0], ladders=trading.ladders)
        self.taker = DemoTaker(
            self.service,
            ensure_demo_taker(self.service)[0],
            self.clock,
            trading.flows if flows is None else flows,
            seed=seed,
        )
        self.maker.requote_due()

    def prices(self, prices: dict[str, str] | dict[str, int]) -> None:
        wads = tuple((s, p if isinstance(p, int) else parse_decimal(p, 18)) for s, p in prices.items())
        result = self.service.execute(SetMarkPrices(wads))
        assert isinstance(result, Accepted), result

    def run(self, seconds: int, step_seconds: int) -> None:
        """Move the clock in steps; at each, the taker trades what fell due and the maker refills."""
        for _ in range(seconds // step_seconds):
            self.clock.advance(step_seconds)
            self.taker.trade_due()
            self.maker.requote_due()

    def taker_fills(self) -> list[tuple[int, str, str, int, int]]:
        taker = self.taker.subaccount_id
        return self.service.read(
            lambda state: [
                (f.at_ms, f.market, f.taker_side.value, f.quantity_atoms, f.price_wad)
                for f in state.fills
                if f.taker_subaccount_id == taker
            ]
        )


@pytest.fixture
def demo() -> Iterator[Demo]:
    opened = Demo(seed=7)
    try:
        yield opened
        assert all(check.ok for check in opened.service.audit())
    finally:
        opened.service.close()


def test_the_taker_is_an_ordinary_subaccount_created_once_and_found_after_a_restart() -> None:
    first = Demo(seed=1)
    taker = first.taker.subaccount_id
    assert taker != first.maker.subaccount_id
    assert ensure_demo_taker(first.service) == (taker, False)
    first.service.close()
    document = load_document()
    specs = parse_asset_specs(document)
    reopened = Service.open(first.journal.reopen(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    try:
        assert reopened.read(find_demo_taker) == taker
        assert ensure_demo_taker(reopened) == (taker, False)
        assert reopened.read(lambda state: state.subaccounts[taker].api_keys) == (DEMO_TAKER_API_KEY,)
        usdc = reopened.read(lambda state: state.specs["USDC"].decimals)
        deposits = reopened.read(lambda state: [d for d in state.deposits if d.subaccount_id == taker])
        assert any(d.symbol == "USDC" and d.quantity_atoms == parse_decimal("20000000", usdc) for d in deposits)
    finally:
        reopened.close()


def test_the_taker_trades_only_as_engine_time_passes(demo: Demo) -> None:
    assert demo.taker.trade_due() == 0, "the first look only schedules"
    assert demo.taker.trade_due() == 0, "the clock has not moved"
    demo.run(seconds=600, step_seconds=5)
    fills = demo.taker_fills()
    assert {market for _, market, _, _, _ in fills} == set(parse_demo_trading(load_document()).flows)
    assert {side for _, _, side, _, _ in fills} == {"Bid", "Ask"}
    assert len({at for at, _, _, _, _ in fills}) > 10, "at many different times"
    assert demo.taker.refusals == []
    notional = [q * p // (WAD * 10**8) for _, market, _, q, p in fills if market == "BTC_USDC_PERP"]
    assert max(notional) <= 50_000, "never more than takerMaxNotional"


def test_a_clock_jump_costs_at_most_a_few_orders_per_market() -> None:
    demo = Demo(seed=3, flows=FAST)
    try:
        demo.taker.trade_due()
        demo.clock.advance(24 * 3600)
        assert demo.taker.trade_due() == MAX_CATCH_UP, "a day at once: not 4,320 orders"
        assert demo.taker.trade_due() == 0, "the schedule restarted from now"
    finally:
        demo.service.close()


def test_the_same_seed_gives_the_same_orders_and_another_seed_others() -> None:
    runs = []
    for seed in (5, 5, 6):
        demo = Demo(seed=seed)
        try:
            demo.run(seconds=1800, step_seconds=10)
            runs.append(demo.taker_fills())
        finally:
            demo.service.close()
    assert runs[0] == runs[1]
    assert len(runs[0]) > 50
    assert runs[0] != runs[2]


def test_the_taker_leans_against_the_premium() -> None:
    index = 100 * WAD
    assert buy_probability(index, 99 * WAD, 101 * WAD) == 0.5
    assert buy_probability(index, 98 * WAD, 100 * WAD) == pytest.approx(0.8), "mid below the index: buy more"
    assert buy_probability(index, 100 * WAD, 102 * WAD) == pytest.approx(0.2), "above: sell more"
    assert buy_probability(index, 110 * WAD, 112 * WAD) == pytest.approx(0.2), "bounded"
    assert buy_probability(index, None, 101 * WAD) == 0.5, "a one-sided book: no lean"


def test_demo_flow_makes_hourly_funding_non_zero_and_within_the_bound() -> None:
    demo = Demo(seed=11)
    try:
        path = random_walk(
            {s: parse_decimal(p, 18) for s, p in PRICES.items()},
            ("BTC", "ETH", "SOL"),
            seed=11,
            steps=4 * 60,
            interval_ms=60_000,
            volatility=0.6,
            start_ms=START_MS,
        )
        for point in path[1:]:
            demo.clock.advance_to(point.at_ms)
            demo.prices({s: point.price(s) for s in ("BTC", "ETH", "SOL")})
            demo.maker.requote_due()
            demo.taker.trade_due()
            demo.maker.requote_due()
        demo.clock.advance(1)
        demo.prices({"USDC": WAD})
        rates = demo.service.read(
            lambda state: {(p.market, p.interval_end_ms): p.rate_wad for p in state.funding_payments}
        )
        markets = demo.service.read(lambda state: {s: m for s, m in state.markets.items() if m.is_perp})
        hours = [START_MS + hour * 3_600_000 for hour in range(1, 5)]
        for symbol, spec in markets.items():
            charged = [rates[(symbol, hour)] for hour in hours if (symbol, hour) in rates]
            assert len(charged) >= 3, (symbol, charged)
            assert all(abs(rate) <= spec.funding_bound.wad for rate in charged), (symbol, charged)
            # Quoting on the tick moves the mid off the index by under half a tick; only the skew moves it further.
            tick_share = spec.tick_size_wad * WAD // (parse_decimal(PRICES[spec.base], 18) * 2)
            assert max(abs(rate) for rate in charged) > 2 * tick_share, (symbol, charged)
        assert all(check.ok for check in demo.service.audit())
    finally:
        demo.service.close()


def test_a_taker_order_the_engine_refuses_is_recorded_and_skipped() -> None:
    demo = Demo(seed=2, flows={"SOL_USDC": TakerFlow(mean_interval_ms=1_000, max_notional=8_000)})
    try:
        taker = demo.taker.subaccount_id
        all_sol = parse_decimal(DEMO_TAKER_FUNDS["SOL"], 8)
        assert isinstance(demo.service.execute(Withdraw(taker, "SOL", all_sol)), Accepted)
        demo.taker.trade_due()
        for _ in range(20):
            demo.clock.advance(1)
            demo.taker.trade_due()
            demo.maker.requote_due()
        assert demo.taker.refusals, "a sell of SOL it does not have is refused and recorded"
        assert "Bid" in {side for _, _, side, _, _ in demo.taker_fills()}, "and it goes on trading"
        assert all("SOL_USDC" in refusal and "Ask" in refusal for refusal in demo.taker.refusals)
    finally:
        demo.service.close()
