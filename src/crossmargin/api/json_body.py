"""Decode JSON from the network within bounds: nesting depth is checked before msgspec decodes.

msgspec decodes nesting as deep as Python's recursion limit allows, and past it raises
`RecursionError`, not a decode error; no request of Backpack's API nests deeper than three levels.
So the depth is counted first, on the raw text with its strings taken out (a bracket inside a
string does not nest), in C-speed passes over at most one body (`BODY_BYTES_MAX`), and anything
deeper than `JSON_DEPTH_MAX` is refused before it is decoded.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Final

import msgspec

JSON_DEPTH_MAX: Final = 32
"""The deepest nesting of arrays and objects accepted in a request body or message."""

_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(code for code in range(256) if code not in b"[]{}")
_NESTING: Final = [0] * 256
for _opening in b"[{":
    _NESTING[_opening] = 1
for _closing in b"]}":
    _NESTING[_closing] = -1


class JsonInputError(ValueError):
    """JSON that is malformed or nested too deeply; the message says which."""


def nesting_depth(data: bytes) -> int:
    """Return how deeply arrays and objects nest in a JSON text (0 for a scalar)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(_NESTING[code] for code in brackets), default=0)


def decode_json(data: bytes | str) -> object:
    """Decode a JSON text nested at most `JSON_DEPTH_MAX` levels deep."""
    raw = data.encode() if isinstance(data, str) else data
    if nesting_depth(raw) > JSON_DEPTH_MAX:
        raise JsonInputError(f"it nests arrays and objects deeper than {JSON_DEPTH_MAX} levels")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise JsonInputError(str(error)) from None
