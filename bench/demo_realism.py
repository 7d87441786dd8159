"""How lifelike the demo market is: spreads, depth, trades, funding and volatility over simulated hours.

Runs the demo in-process (the service on a memory journal and a manual clock, seeded as
`crossmargin serve --demo` seeds it), with the demo market maker quoting each book as the
shipped markets file says and the demo taker's random market orders, while the index of BTC,
ETH and SOL follows a seeded random walk (`simulation/price_paths.py`). Every `--step` seconds of
engine time the clock moves on, the new prices are set (`SetMarkPrices`), the maker requotes, the
taker places what fell due and the maker refills; then each book is measured. The hourly funding
runs as the clock passes each hour, from the book's premium over the index (`core/perp_funding.py`).

Printed per market: median and mean spread (bps of the mid), median depth within 1% of the mid
(both sides, USD), fills per hour, and for perps the hourly funding rate's min / max / mean (bps)
and how many hours it was not 0; per asset, the annualised realised volatility of the index.
Run `python -m bench.demo_realism [--hours 24] [--seed 1] [--step 30] [--volatility 0.6]`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.demo_taker import DemoTaker, ensure_demo_taker
from crossmargin.app.market_maker import MarketMaker, ensure_market_maker, index_price_wad
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.cli.serve import DEMO_PRICES, seed_demo
from crossmargin.core.commands import SetMarkPrices
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.state import EngineState
from crossmargin.maker_config import parse_demo_trading
from crossmargin.market_config import parse_market_specs
from crossmargin.simulation.price_paths import MS_PER_YEAR, random_walk

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MOVING = ("BTC", "ETH", "SOL")
DEPTH_BAND_WAD = WAD // 100  # within 1% of the mid


@dataclass(slots=True)
class BookSamples:
    """What was measured of one market's book after each step."""

    spreads_bps: list[float] = field(default_factory=list)
    depths_usd: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Demo:
    """The running demo: the service, its clock, the market maker and the taker."""

    service: Service
    clock: ManualClock
    maker: MarketMaker
    taker: DemoTaker


def open_demo(seed: int) -> Demo:
    """Open a fresh in-memory exchange seeded as the demo, with its maker and taker configured from the file."""
    document = load_document()
    specs = parse_asset_specs(document)
    clock = ManualClock(START_MS)
    service = Service.open(MemoryJournal(), clock, specs, parse_market_specs(document, specs))
    seed_demo(service)
    trading = parse_demo_trading(document)
    maker = MarketMaker(service, ensure_market_maker(service)[0], ladders=trading.ladders)
    taker = DemoTaker(service, ensure_demo_taker(service)[0], clock, trading.flows, seed=seed)
    return Demo(service, clock, maker, taker)


def step(demo: Demo, at_ms: int, prices_wad: Sequence[tuple[str, int]]) -> None:
    """Move the clock to `at_ms`, set the prices, requote, let the taker trade, and refill."""
    demo.clock.advance_to(at_ms)
    result = demo.service.execute(SetMarkPrices(tuple(prices_wad)))
    assert isinstance(result, Accepted), result
    demo.maker.requote_due()
    demo.taker.trade_due()
    demo.maker.requote_due()


def measure_books(state: EngineState) -> dict[str, tuple[float, float] | None]:
    """Return each market's spread (bps of the mid) and depth within 1% of the mid (USD), None if one-sided."""
    measured: dict[str, tuple[float, float] | None] = {}
    for symbol, spec in sorted(state.markets.items()):
        book = state.books[symbol]
        bid, ask = book.bids.best_price(), book.asks.best_price()
        if bid is None or ask is None:
            measured[symbol] = None
            continue
        mid = (bid + ask) / 2
        band = mid * DEPTH_BAND_WAD / WAD
        quote_usd = state.mark_prices_wad.get(spec.quote, WAD) / WAD
        depth = 0.0
        for side in (book.bids, book.asks):
            for price, order_ids in side.iter_levels():
                if abs(price - mid) > band:
                    break
                left = sum(state.orders[order_id].remaining_atoms for order_id in order_ids)
                depth += left / spec.base_unit_atoms * price / WAD * quote_usd
        measured[symbol] = ((ask - bid) / mid * 10_000, depth)
    return measured


def realised_volatility(prices: Sequence[float], interval_ms: int) -> float:
    """Return the annualised standard deviation of log returns between consecutive prices."""
    returns = [math.log(after / before) for before, after in itertools.pairwise(prices)]
    if len(returns) < 2:
        return 0.0
    return statistics.pstdev(returns) * math.sqrt(MS_PER_YEAR / interval_ms)


def funding_rates_bps(state: EngineState) -> dict[str, dict[int, float]]:
    """Return each perp market's funding rate per hour charged (bps), from the funding payments."""
    rates: dict[str, dict[int, float]] = {}
    for payment in state.funding_payments:
        rates.setdefault(payment.market, {})[payment.interval_end_ms] = payment.rate_wad / WAD * 10_000
    return rates


def run(hours: float, seed: int, step_seconds: int, volatility: float) -> str:
    """Run the demo for `hours` of engine time and return the figures as a table."""
    demo = open_demo(seed)
    start = {symbol: parse_decimal(price, 18) for symbol, price in DEMO_PRICES.items()}
    steps = round(hours * 3600 / step_seconds)
    path = random_walk(
        start, MOVING, seed=seed, steps=steps, interval_ms=step_seconds * 1000, volatility=volatility, start_ms=START_MS
    )
    samples: dict[str, BookSamples] = {}
    started = time.perf_counter()
    for point in path[1:]:
        step(demo, point.at_ms, [(symbol, point.price(symbol)) for symbol in MOVING])
        for symbol, figures in demo.service.read(measure_books).items():
            if figures is not None:
                samples.setdefault(symbol, BookSamples()).spreads_bps.append(figures[0])
                samples[symbol].depths_usd.append(figures[1])
    elapsed = time.perf_counter() - started
    state_figures = demo.service.read(lambda state: (_fills_per_market(state), funding_rates_bps(state)))
    indexes = {symbol: [point.price(symbol) / WAD for point in path] for symbol in MOVING}
    ticker = demo.service.read(lambda state: {s: index_price_wad(state, spec) for s, spec in state.markets.items()})
    demo.service.close()
    lines = [
        (
            f"demo realism: {hours:g} h of engine time, seed {seed}, a step every {step_seconds} s, "
            f"random-walk volatility {volatility:.0%}/yr; {elapsed:.0f} s wall, "
            f"{demo.taker.placed} taker orders, {len(demo.taker.refusals)} refused, {demo.maker.requotes} requotes"
        ),
        f"{'market':<15}{'spread bps':>18}{'depth ±1% USD':>16}{'fills/h':>9}  {'funding bps/h min/max/mean (hours ≠ 0)':<40}",
    ]
    fills, funding = state_figures
    for symbol, sampled in sorted(samples.items()):
        spread = f"{statistics.median(sampled.spreads_bps):.2f} / {statistics.fmean(sampled.spreads_bps):.2f}"
        depth = f"{statistics.median(sampled.depths_usd):,.0f}"
        rates = list(funding.get(symbol, {}).values())
        paid = (
            f"{min(rates):+.3f} / {max(rates):+.3f} / {statistics.fmean(rates):+.3f} "
            f"({sum(1 for rate in rates if rate)}/{len(rates)})"
            if rates
            else ("none charged" if symbol.endswith("_PERP") else "")
        )
        lines.append(f"{symbol:<15}{spread:>18}{depth:>16}{fills.get(symbol, 0) / hours:>9.1f}  {paid}")
    lines.append(
        "realised volatility of the index (annualised): "
        + ", ".join(f"{symbol} {realised_volatility(indexes[symbol], step_seconds * 1000):.1%}" for symbol in MOVING)
    )
    lines.append(
        "index at the end: "
        + ", ".join(f"{symbol} {price / WAD:,.2f}" for symbol, price in sorted(ticker.items()) if price is not None)
    )
    return "\n".join(lines)


def _fills_per_market(state: EngineState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fill in state.fills:
        counts[fill.market] = counts.get(fill.market, 0) + 1
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run the demo and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.demo_realism", description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="engine hours to simulate (default 24)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random walk and the taker (default 1)")
    parser.add_argument("--step", type=int, default=30, help="engine seconds between steps (default 30)")
    parser.add_argument("--volatility", type=float, default=0.6, help="annual volatility of the walk (default 0.6)")
    arguments = parser.parse_args(argv)
    if arguments.hours <= 0 or arguments.step <= 0:
        parser.error("--hours and --step must be greater than zero")
    print(run(arguments.hours, arguments.seed, arguments.step, arguments.volatility))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
