"""Bounds on every number a command carries, checked before any work is done.

A quantity (every field named `*_atoms`) is at most `AMOUNT_ATOMS_MAX` atoms and a price (every
field named `*price_wad`, and each price of `prices_wad`) at most `PRICE_WAD_MAX`. With these, every
value the engine can reach stays far inside what the float risk screen, the JSON codec and the
journal handle, so the state can never hold a value that would stop the risk monitor or a restart.
The edges refuse the same limits earlier, with a message naming the field.
"""

from __future__ import annotations

from dataclasses import fields

from crossmargin.core.commands import Command
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, PRICE_WAD_MAX
from crossmargin.core.rejections import Rejection, RejectReason

_LIMITS = {
    "atoms": (AMOUNT_ATOMS_MAX, RejectReason.QUANTITY_ABOVE_MAXIMUM, "quantity", "2^127 - 1 atoms"),
    "wad": (PRICE_WAD_MAX, RejectReason.PRICE_ABOVE_MAXIMUM, "price", "10^12 USD per unit"),
}


_BOUNDED_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _bounded_fields(command_type: type) -> tuple[tuple[str, str], ...]:
    """Return (field name, kind) of the fields of a command type that carry quantities or prices."""
    known = _BOUNDED_FIELDS.get(command_type)
    if known is not None:
        return known
    found = []
    for field in fields(command_type):
        if field.name.endswith("_atoms"):
            found.append((field.name, "atoms"))
        elif field.name.endswith("price_wad") or field.name == "prices_wad":
            found.append((field.name, "wad"))
    _BOUNDED_FIELDS[command_type] = tuple(found)
    return _BOUNDED_FIELDS[command_type]


def _values(value: object) -> list[int]:
    """Return the integers a field holds: itself, or the second item of each (symbol, value) pair."""
    if isinstance(value, int):
        return [value]
    if isinstance(value, tuple):
        return [pair[1] for pair in value if isinstance(pair, tuple) and isinstance(pair[1], int)]
    return []


def check_command_bounds(command: Command) -> Rejection | None:
    """Return the refusal of a command carrying a quantity or a price above the engine's maximum."""
    for name, kind in _bounded_fields(type(command)):
        most, reason, what, shown = _LIMITS[kind]
        for value in _values(getattr(command, name)):
            if value > most:
                return Rejection(reason, f"The {what} in {name} is above the most the engine accepts: {shown}")
    return None
