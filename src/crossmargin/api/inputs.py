"""Parse request input at the edge: every malformed value is refused with a message naming its field.

Quantities arrive as decimal strings and become atoms exactly, never rounded: a negative or zero
value, NaN, an exponent, more decimals than the asset's step, a number where a string belongs, an
unknown symbol or a missing field each get a 400 `INVALID_CLIENT_REQUEST` that says which field
and why. Booleans accept JSON `true`/`false` and, in query strings, `true`/`True`/`false`/`False`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from crossmargin.api.errors import BAD_REQUEST, ApiError
from crossmargin.core.assets import AssetSpec
from crossmargin.core.numbers import Ratio, format_scaled, parse_decimal

BODY_BYTES_MAX: Final = 64 * 1024
INVALID: Final = "INVALID_CLIENT_REQUEST"
# Backpack's `Blockchain` enum, as its published spec lists it.
BLOCKCHAINS: Final = (
    "0G", "Aptos", "Arbitrum", "Avalanche", "Base", "Berachain", "Bitcoin", "BitcoinCash", "Bsc", "Cardano",
    "Dogecoin", "Eclipse", "EqualsMoney", "Ethereum", "Fogo", "HyperEVM", "Hyperliquid", "Linea", "Litecoin",
    "Monad", "Near", "Optimism", "Plasma", "Polygon", "Sei", "Sui", "Solana", "Stable", "Story", "Tron", "XRP",
    "Zcash",
)  # fmt: skip


class InputError(Exception):
    """Malformed input; carries the API error to send."""

    def __init__(self, message: str, code: str = INVALID) -> None:
        super().__init__(message)
        self.error = ApiError(BAD_REQUEST, code, message)


def require_object(body: object) -> dict[str, object]:
    """Return the body if it is a JSON object."""
    if not isinstance(body, dict):
        raise InputError("The request body must be a JSON object")
    return body


def text(values: Mapping[str, object], name: str) -> str:
    """Return a required string field."""
    value = values.get(name)
    if value is None:
        raise InputError(f"{name} is required")
    if not isinstance(value, str) or not value:
        raise InputError(f"{name} must be a non-empty string")
    return value


def choice(values: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str:
    """Return a required string field that must be one of `allowed`."""
    value = text(values, name)
    if value not in allowed:
        raise InputError(f"{name} {value!r} must be one of {', '.join(allowed)}")
    return value


def optional_bool(values: Mapping[str, object], name: str) -> bool | None:
    """Return an optional boolean field."""
    value = values.get(name)
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise InputError(f"{name} must be true or false")


def integer(values: Mapping[str, object], name: str, *, minimum: int = 0, default: int | None = None) -> int:
    """Return an integer field (a JSON number or, from a query, digits), at least `minimum`."""
    value = values.get(name, default)
    if value is None:
        raise InputError(f"{name} is required")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{name} must be a whole number of at least {minimum}")
    return value


def asset(values: Mapping[str, object], name: str, specs: Mapping[str, AssetSpec]) -> AssetSpec:
    """Return the listed asset a symbol field names."""
    symbol = text(values, name)
    spec = specs.get(symbol)
    if spec is None:
        listed = ", ".join(sorted(specs))
        raise InputError(f"{name} {symbol!r} is not a listed asset; listed assets are {listed}", "INVALID_ASSET")
    return spec


def _decimal_text(values: Mapping[str, object], name: str) -> str:
    value = values.get(name)
    if value is None:
        raise InputError(f"{name} is required")
    if not isinstance(value, str):
        raise InputError(f'{name} must be a decimal string such as "1.5", not {type(value).__name__}')
    return value


def quantity(values: Mapping[str, object], name: str, spec: AssetSpec, *, stepped: bool = True) -> int:
    """Return a positive quantity of an asset in atoms, a multiple of its step if `stepped`."""
    raw = _decimal_text(values, name)
    try:
        atoms = parse_decimal(raw, spec.decimals)
    except ValueError:
        if raw.strip().lstrip("-").replace(".", "", 1).isdigit():
            step = format_scaled(spec.step_atoms if stepped else 1, spec.decimals)
            raise InputError(f"{name} {raw!r} has more decimals than {spec.symbol}'s step size {step}") from None
        raise InputError(f'{name} {raw!r} is not a plain decimal number such as "1.5" (no exponent or NaN)') from None
    if atoms <= 0:
        raise InputError(f"{name} must be greater than zero")
    if stepped and atoms % spec.step_atoms:
        step = format_scaled(spec.step_atoms, spec.decimals)
        raise InputError(f"{name} {raw!r} is not a multiple of {spec.symbol}'s step size {step}")
    return atoms


def price(values: Mapping[str, object], name: str) -> int:
    """Return a positive price (USD per unit) as WAD."""
    raw = _decimal_text(values, name)
    try:
        wad = parse_decimal(raw, 18)
    except ValueError:
        raise InputError(f"{name} {raw!r} is not a plain decimal number with at most 18 decimals") from None
    if wad <= 0:
        raise InputError(f"{name} must be greater than zero")
    return wad


def optional_ratio(values: Mapping[str, object], name: str) -> Ratio | None:
    """Return an optional decimal-string ratio (e.g. a leverage limit)."""
    if values.get(name) is None:
        return None
    raw = _decimal_text(values, name)
    try:
        return Ratio.parse(raw)
    except ValueError:
        raise InputError(f"{name} {raw!r} is not a plain decimal number") from None
