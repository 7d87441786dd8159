"""Price paths: CSV rows refused with their line number, seeded walks that repeat, shocks that ramp exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossmargin.core.numbers import WAD
from crossmargin.simulation.price_paths import (
    PricePathError,
    apply_shock,
    flat_path,
    load_csv,
    parse_shock,
    parse_timestamp,
    random_walk,
)

LISTED = {"USDC", "USDT", "BTC", "ETH"}
DEFAULTS = {"USDC": WAD, "BTC": 60_000 * WAD, "ETH": 3_000 * WAD}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_of_one_timestamp_form_one_step_and_prices_carry_forward(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,symbol,price\n1767225600000,BTC,61000.5\n1767225600000,eth,3100\n\n2026-01-01T00:01:00Z,BTC,59000\n",
    )
    steps = load_csv(path, LISTED, DEFAULTS)
    assert [step.at_ms for step in steps] == [1_767_225_600_000, 1_767_225_660_000]
    assert steps[0].price("BTC") == 61_000_500_000_000_000_000_000
    assert steps[0].price("ETH") == 3_100 * WAD
    assert steps[0].price("USDC") == WAD, "an asset the file never prices keeps its default"
    assert steps[1].price("BTC") == 59_000 * WAD
    assert steps[1].price("ETH") == 3_100 * WAD, "an asset keeps its last price until a row changes it"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1767225600000,BTC\n", "line 1: expected 3 fields timestamp,symbol,price, found 2"),
        ("1767225600000,BTC,60000\nyesterday,BTC,1\n", "line 2: 'yesterday' is not a timestamp"),
        ("1767225600000,BTC,60000\n1767225600000,DOGE,1\n", "line 2: unknown asset 'DOGE'"),
        ("timestamp,symbol,price\n1767225600000,BTC,6e4\n", "line 2: price '6e4' is not a plain decimal number"),
        ("1767225600000,BTC,60000\n\n1767225600000,ETH,0\n", "line 3: price '0' must be above zero"),
        ("1767225600000,BTC,-1\n", "line 1: price '-1' must be above zero"),
        ("1767225660000,BTC,60000\n1767225600000,BTC,59000\n", "line 2: time 1767225600000 is before the row above"),
        ("1767225600000,BTC,60000\n1767225600000,BTC,59000\n", "line 2: BTC already has a price at 1767225600000"),
        ("1767225600000,BTC,0.0000000000000000001\n", "line 1: price '0.0000000000000000001' has more than 18"),
        ("1960-01-01T00:00:00Z,BTC,1\n", "line 1: '1960-01-01T00:00:00Z' is before 1970"),
        ("timestamp,symbol,price\n\n", "no price rows"),
    ],
)
def test_a_bad_csv_row_is_refused_with_its_line_number(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PricePathError) as raised:
        load_csv(path, LISTED, DEFAULTS)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_csv_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(PricePathError, match=r"cannot read .*missing\.csv"):
        load_csv(tmp_path / "missing.csv", LISTED, DEFAULTS)


def test_iso_timestamps_without_an_offset_are_utc() -> None:
    assert parse_timestamp("2026-01-01T00:00:00", "here") == 1_767_225_600_000
    assert parse_timestamp("2026-01-01T01:00:00+01:00", "here") == 1_767_225_600_000
    assert parse_timestamp("2026-01-01T00:00:00.250Z", "here") == 1_767_225_600_250


def test_the_same_seed_gives_the_same_walk_and_another_seed_another() -> None:
    def walk(seed: int) -> list[tuple[int, tuple[tuple[str, int], ...]]]:
        steps = random_walk(
            DEFAULTS, ["BTC", "ETH"], seed=seed, steps=50, interval_ms=60_000, volatility=0.8, start_ms=0
        )
        return [(step.at_ms, step.prices_wad) for step in steps]

    first = walk(7)
    assert first == walk(7)
    assert first != walk(8)
    assert len(first) == 51
    assert first[0][1] == tuple(sorted(DEFAULTS.items())), "step 0 is the starting point"
    assert {dict(prices)["USDC"] for _, prices in first} == {WAD}, "an asset that does not move stays put"
    assert len({dict(prices)["BTC"] for _, prices in first}) > 40, "a moving asset moves"
    assert all(dict(prices)["BTC"] % 10**10 == 0 for _, prices in first), "prices are rounded to 1e-8 USD"


def test_a_walk_refuses_a_negative_volatility() -> None:
    with pytest.raises(PricePathError, match="volatility must be a finite number >= 0"):
        random_walk(DEFAULTS, ["BTC"], seed=1, steps=2, interval_ms=1, volatility=-0.1, start_ms=0)


def test_a_shock_ramps_linearly_and_then_holds_exactly() -> None:
    path = flat_path(DEFAULTS, steps=10, interval_ms=60_000, start_ms=0)
    shocked = apply_shock(path, parse_shock("BTC=-30%"), start_step=2, duration_steps=4)
    btc = [step.price("BTC") for step in shocked]
    assert btc[:3] == [60_000 * WAD] * 3
    assert btc[3] == 55_500 * WAD, "a quarter of -30% after one of four steps"
    assert btc[6:] == [42_000 * WAD] * 5
    assert [step.price("ETH") for step in shocked] == [3_000 * WAD] * 11, "other assets are untouched"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BTC-30%", "is not a shock"),
        ("BTC=-30", "is not a shock"),
        ("=-30%", "is not a shock"),
        ("BTC=lots%", "is not a percentage"),
        ("BTC=-100%", "cannot fall by 100% or more"),
    ],
)
def test_a_malformed_shock_is_refused_with_an_example(text: str, message: str) -> None:
    with pytest.raises(PricePathError, match=message):
        parse_shock(text)


def test_a_shock_parses_rises_and_lower_case_symbols() -> None:
    assert parse_shock("eth=+15%").symbol == "ETH"
    assert parse_shock("eth=+15%").change_wad == 15 * WAD // 100
    assert parse_shock("BTC=-0.5%").change_wad == -5 * WAD // 1_000


def test_shocking_an_asset_the_path_does_not_cover_is_refused() -> None:
    path = flat_path(DEFAULTS, steps=2, interval_ms=1, start_ms=0)
    with pytest.raises(PricePathError, match="cannot shock SOL: the path covers BTC, ETH, USDC"):
        apply_shock(path, parse_shock("SOL=-10%"), 0, 1)
