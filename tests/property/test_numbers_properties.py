"""Properties of scaled-integer arithmetic: every rounding has the direction its name says."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from tests.strategies import atoms, scales

from crossmargin.core.numbers import (
    WAD,
    Ratio,
    format_scaled,
    mul_div_down,
    mul_div_up,
    parse_decimal,
    sqrt_wad_down,
    sqrt_wad_up,
)

operands = atoms(10**40)
divisors = st.one_of(st.integers(1, 1_000), st.integers(1, 10**40))


@given(a=operands, b=operands, c=divisors)
@example(a=10, b=1, c=3)
@example(a=0, b=5, c=7)
def test_mul_div_down_and_up_bracket_the_exact_quotient_within_one(a: int, b: int, c: int) -> None:
    exact = Fraction(a * b, c)
    down, up = mul_div_down(a, b, c), mul_div_up(a, b, c)
    assert down <= exact <= up
    assert up - down == (0 if exact.denominator == 1 else 1)


@given(a=operands, b=operands, c=divisors)
def test_mul_div_rounds_to_the_nearest_integer_in_its_direction(a: int, b: int, c: int) -> None:
    exact = Fraction(a * b, c)
    assert mul_div_down(a, b, c) == math.floor(exact)
    assert mul_div_up(a, b, c) == math.ceil(exact)


@given(x_wad=atoms(10**45))
@example(x_wad=WAD)
@example(x_wad=2 * WAD)
@example(x_wad=0)
def test_sqrt_wad_down_and_up_bracket_the_exact_root(x_wad: int) -> None:
    square = x_wad * WAD  # the exact root, WAD-scaled, is sqrt(x_wad * WAD)
    down, up = sqrt_wad_down(x_wad), sqrt_wad_up(x_wad)
    assert down * down <= square < (down + 1) * (down + 1)
    assert square <= up * up
    assert up == 0 or (up - 1) * (up - 1) < square
    assert up - down == (0 if down * down == square else 1)


def test_sqrt_wad_of_a_perfect_square_is_exact_both_ways() -> None:
    assert sqrt_wad_down(4 * WAD) == sqrt_wad_up(4 * WAD) == 2 * WAD
    assert sqrt_wad_up(2 * WAD) == sqrt_wad_down(2 * WAD) + 1


@given(value=st.integers(-(10**40), 10**40), scale=scales())
@example(value=0, scale=0)
@example(value=-1, scale=18)
@example(value=10**18, scale=18)
def test_format_then_parse_returns_the_same_scaled_integer(value: int, scale: int) -> None:
    text = format_scaled(value, scale)
    assert parse_decimal(text, scale) == value
    assert Fraction(Decimal(text)) == Fraction(value, 10**scale)


@given(value=st.integers(-(10**40), 10**40), scale=scales())
def test_formatted_decimals_carry_no_trailing_zeros_or_exponent(value: int, scale: int) -> None:
    text = format_scaled(value, scale)
    assert "e" not in text.lower()
    if "." in text:
        assert not text.endswith("0")
        assert len(text.partition(".")[2]) <= scale


@given(
    whole=st.integers(0, 10**30),
    fraction=st.text(alphabet="0123456789", min_size=1, max_size=27),
    scale=scales(),
    negative=st.booleans(),
)
def test_parse_decimal_is_exact_or_refuses_excess_precision(
    whole: int, fraction: str, scale: int, negative: bool
) -> None:
    text = f"{'-' if negative else ''}{whole}.{fraction}"
    significant = fraction.rstrip("0")
    if len(significant) > scale:
        with pytest.raises(ValueError, match="decimal places"):
            parse_decimal(text, scale)
        return
    parsed = parse_decimal(text, scale)
    assert Fraction(parsed, 10**scale) == Fraction(Decimal(text))


@pytest.mark.parametrize(
    "text",
    [
        "1e5",
        "1E5",
        "1.5e-3",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "-inf",
        "",
        " ",
        ".5",
        "1.",
        "+1",
        "--1",
        "1_000",
        "1,5",
        "0x10",
        "1.2.3",
        "١٢",  # Arabic-Indic digits pass str.isdigit but are not plain decimals
        "²",
    ],
)
def test_parse_decimal_refuses_anything_but_a_plain_decimal(text: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_decimal(text, 18)


@given(
    text=st.one_of(
        st.from_regex(r"\A-?[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+\Z"),
        st.sampled_from(["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"]),
    ),
    scale=scales(),
)
def test_parse_decimal_refuses_exponents_and_special_values(text: str, scale: int) -> None:
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_decimal(text, scale)


def test_parse_decimal_refuses_a_non_string() -> None:
    with pytest.raises(TypeError):
        parse_decimal(1.5, 2)  # type: ignore[arg-type]


@given(wad=st.integers(0, 10**30))
def test_ratio_parse_round_trips_its_string(wad: int) -> None:
    assert Ratio.parse(str(Ratio(wad))) == Ratio(wad)


@given(wad=st.integers(0, 10 * WAD), value=atoms(10**30))
def test_ratio_apply_down_and_up_bracket_the_exact_product(wad: int, value: int) -> None:
    exact = Fraction(value * wad, WAD)
    ratio = Ratio(wad)
    assert ratio.apply_down(value) <= exact <= ratio.apply_up(value)
    assert ratio.apply_up(value) - ratio.apply_down(value) <= 1


@given(a=operands, b=operands, c=divisors, extra=st.integers(1, 10**20))
def test_mul_div_is_monotone_in_the_numerator(a: int, b: int, c: int, extra: int) -> None:
    assume(b > 0)
    assert mul_div_down(a, b, c) <= mul_div_down(a + extra, b, c)
    assert mul_div_up(a, b, c) <= mul_div_up(a + extra, b, c)
