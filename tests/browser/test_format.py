"""js/format.js in the browser: exact decimal strings, never floats (huge values, negatives, rounding)."""

from __future__ import annotations

from typing import Any

import pytest
from web_harness import Server

TIMES = "\N{MULTIPLICATION SIGN}"
CASES = [
    ("amount", ["1234567.891"], "1,234,567.891"),
    ("amount", ["1234.5678"], "1,234.5678"),
    ("amount", ["0.000000000000000001"], "0.000000000000000001"),
    ("amount", ["123456789012345678901234567890.123456789"], "123,456,789,012,345,678,901,234,567,890.123456789"),
    ("amount", ["-9876543.21"], "-9,876,543.21"),
    ("amount", ["1.23456789", 4], "1.2345"),
    ("amount", ["-1.99999", 2], "-1.99"),
    ("amount", ["-0.00001", 2], "0"),
    ("amount", ["1.50000000"], "1.5"),
    ("amount", ["007"], "7"),
    ("amount", ["0"], "0"),
    ("amount", ["1e5"], "—"),
    ("amount", [None], "—"),
    ("amount", ["NaN"], "—"),
    ("percent", ["0.0512"], "5.12%"),
    ("percent", ["0.05125"], "5.13%"),
    ("percent", ["0.000001", 4], "0.0001%"),
    ("percent", ["-0.00004"], "0.00%"),
    ("percent", ["-0.125"], "-12.50%"),
    ("percent", ["1"], "100.00%"),
    ("percent", ["0.1234", 0], "12%"),
    ("usd", ["1234.56"], "$1,234.56"),
    ("usd", ["1234.565"], "$1,234.57"),
    ("usd", ["-0.994"], "-$0.99"),
    ("usd", ["-0.004"], "$0.00"),
    ("usd", ["99999999999999999999.995"], "$100,000,000,000,000,000,000.00"),
    ("usd", ["5"], "$5.00"),
    ("price", ["60000"], "$60,000.00"),
    ("price", ["60120.1"], "$60,120.10"),
    ("price", ["1.27944192"], "$1.27944192"),
    ("price", ["0.5"], "$0.50"),
    ("price", ["-3"], "-$3.00"),
    ("price", ["1e3"], "—"),
    ("usdPrice", ["46868.8866"], "$46,868.89"),
    ("usdPrice", ["537.36046839"], "$537.36"),
    ("usdPrice", ["1.27944192"], "$1.2794"),
    ("chartPrice", [60014.20184794], "$60,014.20"),
    ("chartPrice", [1.27944192], "$1.2794"),
    ("chartPrice", [1e-9], "$0.0000"),
    ("chartPrice", [float("nan")], "—"),
    ("usdPrice", ["0.01052646"], "$0.0105"),
    ("usdPrice", ["94.99995"], "$95.0000"),
    ("usdPrice", ["1e3"], "—"),
    ("leverage", ["4.1299"], f"4.12{TIMES}"),
    ("leverage", ["10"], f"10{TIMES}"),
    ("leverage", ["4.12345678", 4], f"4.1234{TIMES}"),
    ("time", [1767225600000], "2026-01-01 00:00:00 UTC"),
    ("time", ["2026-01-01T12:30:05.123Z"], "2026-01-01 12:30:05 UTC"),
    ("time", ["2026-01-01T12:30:05"], "2026-01-01 12:30:05 UTC"),
    ("time", [None], "—"),
    ("chartTick", [1767270605, 0], "2026"),
    ("chartTick", [1767270605, 1], "Jan"),
    ("chartTick", [1796570405, 1], "Dec"),
    ("chartTick", [1767270605, 2], "1"),
    ("chartTick", [1767270605, 3], "12:30"),
    ("chartTick", [1767270605, 4], "12:30:05"),
    ("chartTick", ["nope", 3], "—"),
    ("chartTime", [1767270605], "2026-01-01 12:30:05 UTC"),
    ("chartTime", [1796570405], "2026-12-06 15:20:05 UTC"),
    ("chartTime", [None], "—"),
]


@pytest.fixture
def formatted(server: Server, page: Any) -> list[str]:
    page.goto("/spot")
    script = """async (cases) => {
        const format = await import("/static/js/format.js");
        return cases.map(([name, args]) => format[name](...args));
    }"""
    result: list[str] = page.evaluate(script, [[name, args] for name, args, _ in CASES])
    return result


def test_format_shows_decimal_strings_exactly(formatted: list[str]) -> None:
    expected = [want for _, _, want in CASES]
    mismatches = [(case, got) for case, got in zip(CASES, formatted, strict=True) if got != case[2]]
    assert formatted == expected, mismatches
