"""Durations as people type them: `90s`, `15m`, `2h`, `3d`, `1w`, combined (`1h30m`) or bare seconds (`600`).

`parse_duration` returns whole seconds (the operator API advances the manual clock by whole
seconds); `format_duration` writes seconds back in days, hours, minutes and seconds.
"""

from __future__ import annotations

import re
from typing import Final

UNIT_SECONDS: Final = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
PART: Final = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: str) -> int:
    """Return the seconds a duration names; refuse anything else with an example of what works.

    >>> parse_duration("1h30m"), parse_duration("3d"), parse_duration("90")
    (5400, 259200, 90)
    """
    compact = text.strip().lower().replace(" ", "")
    if compact.isdigit():
        return int(compact)
    parts = PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"{text!r} is not a duration: write e.g. 90s, 15m, 2h, 3d, 1w or 1h30m")
    return sum(int(number) * UNIT_SECONDS[unit] for number, unit in parts)


def format_duration(seconds: int) -> str:
    """Write seconds as a duration in days, hours, minutes and seconds, largest first.

    >>> format_duration(5400), format_duration(259200), format_duration(0)
    ('1h30m', '3d', '0s')
    """
    if seconds == 0:
        return "0s"
    parts = []
    left = seconds
    for unit, size in UNIT_SECONDS.items():
        if unit == "w":
            continue
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
