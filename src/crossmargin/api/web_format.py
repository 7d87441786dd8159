"""The web page's number formats (`js/format.js`) in Python, for the first view the server draws.

The server draws a page's first view into its HTML shell (`web_first_view.py`) with the same
formats the page's scripts use, so what shows before the scripts run is what they draw, to the
digit. Each function here follows its namesake in format.js step by step on the decimal text
(never a float): `amount`, `percent`, `price` and `time`. They take what the API answers (JSON
strings, integers, null); a value whose JavaScript text this port does not reproduce exactly (a
float, a date string) raises `UndrawableError`, and the page is then drawn by its scripts alone.
tests/e2e/test_web_first_view.py runs format.js' own browser cases against this port.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final, Literal

DASH: Final = "\N{EM DASH}"
PLAIN: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)
JS_SPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""What JavaScript's `String.prototype.trim` removes (Python's `str.strip` removes a different set)."""
THOUSANDS: Final = re.compile(r"\B(?=(?:[0-9]{3})+(?![0-9]))", re.ASCII)
LAST_ISO_MS: Final = 253_402_300_799_999
"""The last moment (9999-12-31) whose ISO text format.js' `time` cuts to a date and a time."""
JS_SAFE_INTEGER: Final = 2**53 - 1
"""The largest integer a JSON number keeps exactly in JavaScript (JSON.parse reads numbers as doubles)."""
Parts = tuple[bool, str, str]
"""A decimal: whether it is negative, its whole digits and its fraction digits."""


class UndrawableError(ValueError):
    """A value this port does not format exactly as format.js would: the scripts draw it instead."""


def _text(value: object) -> str | None:
    """Return JavaScript's `String(value)` for a string or an integer, None for what format.js shows as a dash."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and abs(value) <= JS_SAFE_INTEGER:
        return str(value)
    raise UndrawableError(f"no exact JavaScript text for {value!r}")


def _zero(digits: str) -> bool:
    return not digits.strip("0")


def parse(value: object) -> Parts | None:
    """Return the decimal `value` is (format.js' `parse`), or None when format.js shows a dash."""
    text = _text(value)
    match = PLAIN.fullmatch(text.strip(JS_SPACE)) if text is not None else None
    if match is None:
        return None
    whole = match.group(2).lstrip("0") or "0"
    fraction = match.group(3) or ""
    return (match.group(1) == "-" and not _zero(whole + fraction), whole, fraction)


def _round(parts: Parts, digits: int, mode: Literal["half", "down"]) -> Parts:
    negative, whole, fraction = parts
    if len(fraction) <= digits:
        return (negative, whole, fraction.ljust(digits, "0"))
    kept = int(whole + fraction[:digits])
    carry = 1 if mode == "half" and fraction[digits] >= "5" else 0
    text = str(kept + carry).rjust(digits + 1, "0")
    whole, fraction = text[: len(text) - digits], text[len(text) - digits :]
    return (negative and not _zero(whole + fraction), whole, fraction)


def _render(parts: Parts, prefix: str = "") -> str:
    negative, whole, fraction = parts
    return f"{'-' if negative else ''}{prefix}{THOUSANDS.sub(',', whole)}{'.' + fraction if fraction else ''}"


def _shifted(parts: Parts, shift: int) -> Parts:
    negative, whole, fraction = parts
    fraction = fraction.ljust(shift, "0")
    return (negative, (whole + fraction[:shift]).lstrip("0") or "0", fraction[shift:])


def amount(value: object, max_decimals: int | None = None) -> str:
    """Return format.js' `amount`: every digit sent (or at most `max_decimals`, cut), with thousands separators."""
    parts = parse(value)
    if parts is None:
        return DASH
    if max_decimals is not None:
        parts = _round(parts, max_decimals, "down")
    negative, whole, fraction = parts
    fraction = fraction.rstrip("0")
    return _render((negative and not _zero(whole + fraction), whole, fraction))


def percent(value: object, digits: int = 2) -> str:
    """Return format.js' `percent`: a rate as a percentage with `digits` decimals, rounded half away from zero."""
    parts = parse(value)
    return DASH if parts is None else f"{_render(_round(_shifted(parts, 2), digits, 'half'))}%"


def price(value: object) -> str:
    """Return format.js' `price`: US dollars, every digit sent and at least cents."""
    parts = parse(value)
    if parts is None:
        return DASH
    return _render(parts if len(parts[2]) >= 2 else _round(parts, 2, "down"), "$")


def time(value: object) -> str:
    """Return format.js' `time` of epoch milliseconds (an integer or its digits): "2026-01-01 00:00:00 UTC"."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UndrawableError(f"no exact JavaScript moment for {value!r}")
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise UndrawableError(f"format.js parses {value!r} as a date string")
    ms = int(value)
    if not 0 <= ms <= LAST_ISO_MS:
        raise UndrawableError(f"{ms} ms is outside the years format.js writes plainly")
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
