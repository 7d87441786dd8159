"""Price paths: what the simulation replays, one `PriceStep` (a time and every asset's price) at a time.

A path comes from a CSV file of `timestamp,symbol,price` rows (timestamps in milliseconds since the
epoch or ISO-8601; rows of one timestamp form one step; an asset keeps its last price until a row
changes it), from a seeded geometric random walk, or is flat; `apply_shock` then bends it with a
scenario such as BTC -30% over ten minutes. Prices are exact WAD integers (USD per unit); the
random walk draws floats and rounds each price once to 1e-8 USD. Step 0 is the starting point.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from crossmargin.core.numbers import WAD, parse_decimal

MS_PER_YEAR: Final = 365 * 24 * 3_600_000
PRICE_QUANTUM_WAD: Final = 10**10
"""Random-walk prices are rounded to 1e-8 USD, so the path reads the same wherever it is generated."""
CSV_HEADER: Final = ("timestamp", "symbol", "price")


class PricePathError(ValueError):
    """A price path that cannot be used, with a message that says where and why."""


@dataclass(frozen=True, slots=True)
class PriceStep:
    """One step of a path: a time and the price (USD per unit, WAD) of every asset it covers."""

    at_ms: int
    prices_wad: tuple[tuple[str, int], ...]

    def price(self, symbol: str) -> int:
        """Return one asset's price at this step (0 when the path does not cover it)."""
        return dict(self.prices_wad).get(symbol, 0)


@dataclass(frozen=True, slots=True)
class Shock:
    """A scenario: `symbol` moves by `change_wad` (e.g. -0.3 WAD for -30%), linearly over a duration."""

    symbol: str
    change_wad: int


def flat_path(start: Mapping[str, int], steps: int, interval_ms: int, start_ms: int) -> list[PriceStep]:
    """Return `steps` steps after a starting point, every price unchanged."""
    prices = tuple(sorted(start.items()))
    return [PriceStep(start_ms + index * interval_ms, prices) for index in range(steps + 1)]


def random_walk(
    start: Mapping[str, int],
    moving: Iterable[str],
    *,
    seed: int,
    steps: int,
    interval_ms: int,
    volatility: float,
    start_ms: int,
) -> list[PriceStep]:
    """Return a seeded geometric random walk: each `moving` asset with annual volatility `volatility`.

    Each step multiplies a price by exp(-sigma^2 / 2 + sigma * Z) with sigma = volatility x
    sqrt(interval / year) and Z standard normal, one independent draw per asset and step (assets
    in name order, so the same seed always gives the same path). The others stay where they start.
    """
    if volatility < 0 or not math.isfinite(volatility):
        raise PricePathError(f"volatility must be a finite number >= 0, not {volatility}")
    rng = random.Random(seed)  # noqa: S311 -- a seeded, reproducible path, not a secret
    sigma = volatility * math.sqrt(interval_ms / MS_PER_YEAR)
    walking = sorted(set(moving) & set(start))
    levels = {symbol: start[symbol] / WAD for symbol in walking}
    prices = dict(start)
    path = [PriceStep(start_ms, tuple(sorted(prices.items())))]
    for index in range(1, steps + 1):
        for symbol in walking:
            levels[symbol] *= math.exp(-sigma * sigma / 2 + sigma * rng.gauss(0.0, 1.0))
            prices[symbol] = quantize_price(levels[symbol])
        path.append(PriceStep(start_ms + index * interval_ms, tuple(sorted(prices.items()))))
    return path


def quantize_price(level: float) -> int:
    """Return a float price (USD per unit) as a WAD rounded to 1e-8 USD, never below 1e-8."""
    return max(round(level * WAD / PRICE_QUANTUM_WAD), 1) * PRICE_QUANTUM_WAD


def parse_shock(text: str) -> Shock:
    """Parse `SYMBOL=CHANGE` such as `BTC=-30%` or `ETH=+15%` (a percentage, more than -100%)."""
    symbol, equals, change = text.partition("=")
    if not equals or not symbol.strip() or not change.strip().endswith("%"):
        raise PricePathError(f"{text!r} is not a shock: write SYMBOL=CHANGE%, e.g. BTC=-30% or ETH=+15%")
    number = change.strip().removesuffix("%").removeprefix("+")
    try:
        change_wad = parse_decimal(number, 16)  # p% is p x 1e16 in WAD
    except ValueError:
        raise PricePathError(f"{text!r}: {change.strip()!r} is not a percentage such as -30% or +15%") from None
    if change_wad <= -WAD:
        raise PricePathError(f"{text!r}: a price cannot fall by 100% or more")
    return Shock(symbol.strip().upper(), change_wad)


def apply_shock(path: Sequence[PriceStep], shock: Shock, start_step: int, duration_steps: int) -> list[PriceStep]:
    """Return the path with `shock` applied: ramping linearly from `start_step` over `duration_steps` steps.

    The multiplier is 1 up to `start_step`, reaches 1 + change at `start_step + duration_steps`
    and stays there; each price is rounded down to the WAD.
    """
    if not any(shock.symbol == symbol for symbol, _ in path[0].prices_wad):
        covered = ", ".join(symbol for symbol, _ in path[0].prices_wad)
        raise PricePathError(f"cannot shock {shock.symbol}: the path covers {covered}")
    duration = max(duration_steps, 1)
    shocked = []
    for index, step in enumerate(path):
        done = min(max(index - start_step, 0), duration)
        numerator = WAD * duration + shock.change_wad * done
        prices = tuple(
            (symbol, max(price * numerator // (WAD * duration), 1) if symbol == shock.symbol else price)
            for symbol, price in step.prices_wad
        )
        shocked.append(PriceStep(step.at_ms, prices))
    return shocked


def load_csv(path: Path, known: Iterable[str], defaults: Mapping[str, int]) -> list[PriceStep]:
    """Read a `timestamp,symbol,price` CSV into steps; refuse the first bad row with its line number.

    Rows must be in time order; rows sharing a timestamp form one step. An asset the file has not
    priced yet keeps its price from `defaults`. A first line `timestamp,symbol,price` is a header.
    """
    prices = dict(defaults)
    steps = []
    for at_ms, changes in read_csv_rows(path, known):
        prices.update(changes)
        steps.append(PriceStep(at_ms, tuple(sorted(prices.items()))))
    return steps


def read_csv_rows(path: Path, known: Iterable[str]) -> list[tuple[int, dict[str, int]]]:
    """Read a `timestamp,symbol,price` CSV into (time, prices its rows set) groups, in time order.

    The rules of `load_csv`; each group holds only the prices its rows set (what a replay submits).
    """
    listed = set(known)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(enumerate(csv.reader(handle), start=1))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PricePathError(f"cannot read {path}: {error}") from None
    groups: list[tuple[int, dict[str, int]]] = []
    for line, row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        if line == 1 and tuple(cell.strip().lower() for cell in row) == CSV_HEADER:
            continue
        at_ms, symbol, price = _parse_row(path, line, row, listed)
        if groups and at_ms < groups[-1][0]:
            raise PricePathError(f"{path} line {line}: time {row[0].strip()} is before the row above; sort by time")
        if not groups or at_ms > groups[-1][0]:
            groups.append((at_ms, {}))
        if symbol in groups[-1][1]:
            raise PricePathError(f"{path} line {line}: {symbol} already has a price at {row[0].strip()}")
        groups[-1][1][symbol] = price
    if not groups:
        raise PricePathError(f"{path}: no price rows; write timestamp,symbol,price lines")
    return groups


def _parse_row(path: Path, line: int, row: list[str], listed: set[str]) -> tuple[int, str, int]:
    where = f"{path} line {line}"
    if len(row) != len(CSV_HEADER):
        raise PricePathError(f"{where}: expected 3 fields timestamp,symbol,price, found {len(row)}")
    stamp, symbol, price = (cell.strip() for cell in row)
    at_ms = parse_timestamp(stamp, where)
    if symbol.upper() not in listed:
        raise PricePathError(f"{where}: unknown asset {symbol!r}; listed: {', '.join(sorted(listed))}")
    try:
        price_wad = parse_decimal(price, 18)
    except ValueError as error:
        raise PricePathError(f"{where}: price {error}") from None
    if price_wad <= 0:
        raise PricePathError(f"{where}: price {price!r} must be above zero")
    return at_ms, symbol.upper(), price_wad


def parse_timestamp(text: str, where: str) -> int:
    """Return milliseconds since the epoch from digits (ms) or ISO-8601 (UTC when no offset is given)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PricePathError(
            f"{where}: {text!r} is not a timestamp; write milliseconds (1767225600000) "
            "or ISO-8601 (2026-01-01T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    if delta.days < 0:
        raise PricePathError(f"{where}: {text!r} is before 1970")
    return (delta.days * 86_400 + delta.seconds) * 1_000 + delta.microseconds // 1_000
