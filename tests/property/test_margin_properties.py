"""Properties of cross margin: monotone in prices, quantities, weights and penalties; floors hold."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from hypothesis import assume, example, given
from hypothesis import strategies as st
from tests.strategies import (
    DEMO_PRICES_WAD,
    DEMO_SPECS,
    DEMO_SYMBOLS,
    atoms,
    demo_specs_with_haircuts,
    haircut_functions,
    holdings_by_symbol,
    leverage_limits,
    prices_wad,
    sqrt_functions,
)

from crossmargin.core.assets import AssetSpec, HaircutFunction, HaircutKind, SqrtFunction
from crossmargin.core.collateral import compute_collateral_value, compute_collateral_weight
from crossmargin.core.margin import (
    Holding,
    compute_asset_margin,
    compute_margin,
    compute_margin_fraction,
    leverage_floor_wad,
)
from crossmargin.core.numbers import WAD, Ratio

notionals_wad = atoms(10**12 * WAD)


def _identity(specs: dict[str, AssetSpec]) -> dict[str, AssetSpec]:
    return {
        symbol: replace(spec, haircut=HaircutFunction(weight=spec.haircut.weight)) for symbol, spec in specs.items()
    }


def _equity_at(
    specs: dict[str, AssetSpec], holdings: dict[str, Holding], leverage: Ratio, symbol: str, price_wad: int
) -> int:
    prices = {**DEMO_PRICES_WAD, symbol: price_wad}
    return compute_margin(specs, prices, holdings, leverage).net_equity_wad


@given(
    holdings=holdings_by_symbol(),
    symbol=st.sampled_from(DEMO_SYMBOLS),
    quantity=atoms(10**20),
    low=prices_wad(),
    high=prices_wad(),
    leverage=leverage_limits(),
)
def test_net_equity_does_not_fall_when_an_asset_only_held_rises_in_price(
    holdings: dict[str, Holding], symbol: str, quantity: int, low: int, high: int, leverage: Ratio
) -> None:
    # Identity haircuts: the weight does not depend on size (inverseSqrt is tested below).
    specs = _identity(DEMO_SPECS)
    low, high = min(low, high), max(low, high)
    holdings = {**holdings, symbol: Holding(spot_atoms=quantity // 2, lend_atoms=quantity - quantity // 2)}
    assert _equity_at(specs, holdings, leverage, symbol, low) <= _equity_at(specs, holdings, leverage, symbol, high)


@given(
    specs=demo_specs_with_haircuts(),
    holdings=holdings_by_symbol(),
    symbol=st.sampled_from(DEMO_SYMBOLS),
    debt=atoms(10**20),
    low=prices_wad(),
    high=prices_wad(),
    leverage=leverage_limits(),
)
def test_net_equity_does_not_rise_when_an_asset_only_owed_rises_in_price(
    specs: dict[str, AssetSpec],
    holdings: dict[str, Holding],
    symbol: str,
    debt: int,
    low: int,
    high: int,
    leverage: Ratio,
) -> None:
    low, high = min(low, high), max(low, high)
    holdings = {**holdings, symbol: Holding(debt_atoms=debt)}
    assert _equity_at(specs, holdings, leverage, symbol, low) >= _equity_at(specs, holdings, leverage, symbol, high)


@given(haircut=haircut_functions(), low=notionals_wad, high=notionals_wad)
def test_collateral_value_does_not_fall_as_the_notional_grows(haircut: HaircutFunction, low: int, high: int) -> None:
    # Exact arithmetic: notional * weight(notional) grows with the notional for both kinds
    # (for inverseSqrt, N * b / (1 + p * sqrt(N)) has derivative b * (1 + p * sqrt(N) / 2) /
    # (1 + p * sqrt(N))^2 > 0), and the core rounds the exact value down once, so it holds exactly.
    low, high = min(low, high), max(low, high)
    assert compute_collateral_value(haircut, low) <= compute_collateral_value(haircut, high)


@given(
    spec_symbol=st.sampled_from(DEMO_SYMBOLS),
    haircut=haircut_functions(),
    price=prices_wad(),
    low=atoms(10**20),
    high=atoms(10**20),
)
def test_collateral_value_does_not_fall_as_the_quantity_grows(
    spec_symbol: str, haircut: HaircutFunction, price: int, low: int, high: int
) -> None:
    spec = replace(DEMO_SPECS[spec_symbol], haircut=haircut)
    low, high = min(low, high), max(low, high)
    smaller = compute_asset_margin(spec, Holding(spot_atoms=low), price, WAD // 10)
    larger = compute_asset_margin(spec, Holding(spot_atoms=high), price, WAD // 10)
    assert smaller.collateral_value_wad <= larger.collateral_value_wad


@given(
    specs=demo_specs_with_haircuts(),
    holdings=holdings_by_symbol(),
    symbol=st.sampled_from(DEMO_SYMBOLS),
    quantity=atoms(10**20),
    low=prices_wad(),
    high=prices_wad(),
    leverage=leverage_limits(),
)
def test_net_equity_does_not_fall_when_a_held_asset_rises_with_any_haircut(
    specs: dict[str, AssetSpec],
    holdings: dict[str, Holding],
    symbol: str,
    quantity: int,
    low: int,
    high: int,
    leverage: Ratio,
) -> None:
    low, high = min(low, high), max(low, high)
    holdings = {**holdings, symbol: Holding(spot_atoms=quantity)}
    assert _equity_at(specs, holdings, leverage, symbol, low) <= _equity_at(specs, holdings, leverage, symbol, high)


# Regression, found by the property tests above: the inverseSqrt weight used to be rounded to a
# whole wei *before* it multiplied the notional, so one more wei of notional could lower the value
# by about notional / 1e18 (here ~1e-12 USD). The core now rounds the exact value once.
SOL_NOTIONAL_AT_WEIGHT_STEP_WAD = 2_254_258_977_024_578_899_667_951


def test_sol_collateral_value_does_not_fall_when_the_notional_grows_by_one_wei() -> None:
    haircut = DEMO_SPECS["SOL"].haircut
    before = compute_collateral_value(haircut, SOL_NOTIONAL_AT_WEIGHT_STEP_WAD)
    after = compute_collateral_value(haircut, SOL_NOTIONAL_AT_WEIGHT_STEP_WAD + 1)
    assert before <= after, f"value fell by {before - after} wei"


def test_net_equity_of_6666_sol_does_not_fall_when_the_price_rises_by_one_wei() -> None:
    holdings = {"SOL": Holding(spot_atoms=6_666 * 10**8)}
    price = 150_000_000_000_000_001_172  # 150.000000000000001172 USD, just below a weight step
    before = compute_margin(DEMO_SPECS, {"SOL": price}, holdings, Ratio(10 * WAD)).net_equity_wad
    after = compute_margin(DEMO_SPECS, {"SOL": price + 1}, holdings, Ratio(10 * WAD)).net_equity_wad
    assert before <= after, f"net equity fell by {before - after} wei"


@given(haircut=haircut_functions(), notional=notionals_wad, raised=st.integers(0, WAD))
def test_collateral_value_does_not_fall_as_the_weight_or_curve_base_grows(
    haircut: HaircutFunction, notional: int, raised: int
) -> None:
    higher_weight = replace(haircut, weight=Ratio(max(haircut.weight.wad, raised)))
    higher_base = replace(haircut, base=Ratio(max(haircut.base.wad, raised)))
    value = compute_collateral_value(haircut, notional)
    assert value <= compute_collateral_value(higher_weight, notional)
    assert value <= compute_collateral_value(higher_base, notional)


@given(haircut=haircut_functions(), notional=notionals_wad)
def test_collateral_weight_never_exceeds_the_configured_weight_and_value_never_the_notional(
    haircut: HaircutFunction, notional: int
) -> None:
    weight = compute_collateral_weight(haircut, notional)
    assert 0 <= weight <= haircut.weight.wad
    value = compute_collateral_value(haircut, notional)
    assert value <= Fraction(notional * haircut.weight.wad, WAD)


@given(
    specs=demo_specs_with_haircuts(),
    holdings=holdings_by_symbol(),
    symbol=st.sampled_from(DEMO_SYMBOLS),
    penalty_low=st.integers(0, WAD // 100),
    penalty_high=st.integers(0, WAD // 100),
    leverage=leverage_limits(),
)
def test_available_margin_does_not_rise_as_the_haircut_penalty_grows(
    specs: dict[str, AssetSpec],
    holdings: dict[str, Holding],
    symbol: str,
    penalty_low: int,
    penalty_high: int,
    leverage: Ratio,
) -> None:
    penalty_low, penalty_high = min(penalty_low, penalty_high), max(penalty_low, penalty_high)
    base = specs[symbol].haircut

    def available_with(penalty: int) -> int:
        haircut = HaircutFunction(
            weight=base.weight,
            kind=HaircutKind.INVERSE_SQRT,
            base=base.weight,
            positive_curve_penalty=Ratio(penalty),
        )
        adjusted = {**specs, symbol: replace(specs[symbol], haircut=haircut)}
        return compute_margin(adjusted, DEMO_PRICES_WAD, holdings, leverage).available_wad

    assert available_with(penalty_low) >= available_with(penalty_high)


@given(function=sqrt_functions(), low=notionals_wad, high=notionals_wad, floor=st.integers(0, WAD))
@example(function=DEMO_SPECS["SOL"].imf, low=227 * 10**14, high=227 * 10**14, floor=0)
def test_margin_fraction_does_not_fall_as_the_notional_grows(
    function: SqrtFunction, low: int, high: int, floor: int
) -> None:
    low, high = min(low, high), max(low, high)
    assert compute_margin_fraction(function, low, floor) <= compute_margin_fraction(function, high, floor)


@given(function=sqrt_functions(), notional=notionals_wad, floor=st.integers(0, WAD))
def test_margin_fraction_is_at_least_its_base_its_floor_and_its_exact_curve(
    function: SqrtFunction, notional: int, floor: int
) -> None:
    fraction = compute_margin_fraction(function, notional, floor)
    assert fraction >= max(floor, function.base.wad)
    # factor * sqrt(notional in USD), exactly: compare squares to stay in rationals.
    curve_exact_squared = Fraction(function.factor.wad, WAD) ** 2 * Fraction(notional, WAD)
    assert Fraction(fraction, WAD) ** 2 >= curve_exact_squared


def test_sol_borrow_margin_fraction_matches_backpacks_published_figure() -> None:
    # DESIGN.md: a SOL borrow-lend position of notional 0.0227 has an IMF of 0.1.
    notional = Fraction("0.0227") * WAD
    assert compute_margin_fraction(DEMO_SPECS["SOL"].imf, int(notional), 0) == WAD // 10


@given(leverage=leverage_limits())
def test_leverage_floor_is_one_over_the_leverage_limit_rounded_up(leverage: Ratio) -> None:
    floor = leverage_floor_wad(leverage)
    exact = Fraction(WAD * WAD, leverage.wad)
    assert exact <= floor < exact + 1


@given(
    specs=demo_specs_with_haircuts(),
    holdings=holdings_by_symbol(),
    leverage=leverage_limits(),
    prices=st.fixed_dictionaries({symbol: prices_wad() for symbol in DEMO_SYMBOLS}),
)
def test_every_borrow_locks_at_least_its_leverage_floor_and_maintenance_never_exceeds_initial(
    specs: dict[str, AssetSpec], holdings: dict[str, Holding], leverage: Ratio, prices: dict[str, int]
) -> None:
    summary = compute_margin(specs, prices, holdings, leverage)
    floor = leverage_floor_wad(leverage)
    for line in summary.assets:
        if line.debt_atoms:
            assert line.imf_wad >= max(floor, specs[line.symbol].imf.base.wad)
            assert line.mmf_wad <= line.imf_wad
    assert summary.locked_wad >= Fraction(summary.borrow_liability_wad * floor, WAD)
    assert summary.maintenance_wad <= summary.locked_wad


@given(
    specs=demo_specs_with_haircuts(),
    holdings=holdings_by_symbol(),
    low=leverage_limits(),
    high=leverage_limits(),
)
def test_available_margin_does_not_fall_as_the_leverage_limit_rises(
    specs: dict[str, AssetSpec], holdings: dict[str, Holding], low: Ratio, high: Ratio
) -> None:
    low, high = min(low, high), max(low, high)
    assume(any(holding.debt_atoms for holding in holdings.values()))
    at_low = compute_margin(specs, DEMO_PRICES_WAD, holdings, low)
    at_high = compute_margin(specs, DEMO_PRICES_WAD, holdings, high)
    assert at_low.available_wad <= at_high.available_wad
    assert at_low.net_equity_wad == at_high.net_equity_wad
