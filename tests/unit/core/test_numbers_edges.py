"""Edges of the exact number helpers that the property tests also reach, pinned here so coverage never rests on chance."""

from __future__ import annotations

import pytest

from crossmargin.core.numbers import WAD, Ratio, parse_decimal


def test_a_ratio_applies_down_and_up() -> None:
    third = Ratio(WAD // 3)
    assert third.apply_down(10) == 3
    assert third.apply_up(10) == 4


def test_parse_decimal_refuses_what_is_not_a_string_or_not_ascii_digits() -> None:
    with pytest.raises(TypeError, match="as a string"):
        parse_decimal(1.5, 18)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_decimal("١٢", 18)  # Arabic-Indic digits: str.isdigit() says yes


def test_parse_decimal_takes_trailing_zeros_beyond_the_scale_and_refuses_digits() -> None:
    assert parse_decimal("1.50000", 2) == 150
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        parse_decimal("1.505", 2)
