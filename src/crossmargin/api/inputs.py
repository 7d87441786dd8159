"""Parse request input at the edge: every malformed value is refused with a message naming its field.

Quantities arrive as decimal strings and become atoms exactly, never rounded: a negative or zero
value, NaN, an exponent, more decimals than the asset has, a number where a string belongs, an
unknown symbol or a missing field each raise a 400 `ApiError` (`INVALID_CLIENT_REQUEST`) that says
which field and why. Booleans accept JSON `true`/`false` and, in query strings, `true`/`True`/`false`/`False`.

Every value is bounded before it is parsed, and the refusal names the bound (the limits table in
docs/ARCHITECTURE.md lists them): a request carries at most `PARAMETERS_MAX` parameters; a decimal
string at most `DECIMAL_CHARS_MAX` characters, a quantity at most the engine's `AMOUNT_ATOMS_MAX`
atoms and a price at most its `PRICE_WAD_MAX`; a whole number at most `INTEGER_MAX` (int64, as
Backpack's ids and times) or its field's own maximum, checked on the digits before `int()` reads
them; a text field at most `TEXT_CHARS_MAX` characters unless its field says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from crossmargin.api.errors import INVALID_CLIENT_REQUEST, ApiError
from crossmargin.core.assets import AssetSpec
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, PRICE_WAD_MAX, Ratio, format_scaled, parse_decimal

BODY_BYTES_MAX: Final = 64 * 1024
"""The largest request body served; `body_limit.py` refuses more before it is read."""
PARAMETERS_MAX: Final = 64
"""The most parameters (query items or top-level body fields) one request may carry."""
DECIMAL_CHARS_MAX: Final = 64
"""The longest decimal string (quantity, price, ratio) read."""
TEXT_CHARS_MAX: Final = 256
"""The longest text field (symbol, side, interval, ...) unless the field names its own limit."""
ADDRESS_CHARS_MAX: Final = 256
"""The longest withdrawal address (Backpack's spec sets none; the longest real addresses are about 100)."""
WITHDRAWAL_CLIENT_ID_CHARS_MAX: Final = 255
"""A withdrawal's `clientId`: a string of at most 255 characters, as Backpack's spec says."""
INTEGER_MAX: Final = 2**63 - 1
"""The largest whole number (id, time in ms, offset) unless the field names its own limit: int64."""
PRICE_DECIMALS: Final = 18
INVALID: Final = INVALID_CLIENT_REQUEST
# Backpack's `Blockchain` enum, as its published spec lists it.
BLOCKCHAINS: Final = (
    "0G", "Aptos", "Arbitrum", "Avalanche", "Base", "Berachain", "Bitcoin", "BitcoinCash", "Bsc", "Cardano",
    "Dogecoin", "Eclipse", "EqualsMoney", "Ethereum", "Fogo", "HyperEVM", "Hyperliquid", "Linea", "Litecoin",
    "Monad", "Near", "Optimism", "Plasma", "Polygon", "Sei", "Sui", "Solana", "Stable", "Story", "Tron", "XRP",
    "Zcash",
)  # fmt: skip


def require_parameter_count(count: int, where: str = "A request") -> None:
    """Refuse more than `PARAMETERS_MAX` parameters."""
    if count > PARAMETERS_MAX:
        raise ApiError(f"{where} carries {count} parameters; at most {PARAMETERS_MAX} are accepted")


def require_object(body: object) -> dict[str, object]:
    """Return the body if it is a JSON object of at most `PARAMETERS_MAX` fields."""
    if not isinstance(body, dict):
        raise ApiError("The request body must be a JSON object")
    require_parameter_count(len(body))
    return body


def text(values: Mapping[str, object], name: str, *, max_chars: int = TEXT_CHARS_MAX) -> str:
    """Return a required string field of at most `max_chars` characters."""
    value = values.get(name)
    if value is None:
        raise ApiError(f"{name} is required")
    if not isinstance(value, str) or not value:
        raise ApiError(f"{name} must be a non-empty string")
    if len(value) > max_chars:
        raise ApiError(f"{name} must be at most {max_chars} characters long, not {len(value)}")
    return value


def given_text(values: Mapping[str, str], name: str) -> str:
    """Return a query parameter that must be given and not empty, refused as missing otherwise."""
    value = values.get(name)
    if not value:
        raise ApiError(f"{name} is required")
    return value


def optional_text(values: Mapping[str, object], name: str, *, max_chars: int = TEXT_CHARS_MAX) -> str | None:
    """Return an optional string field of at most `max_chars` characters (a JSON whole number is read as its digits)."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ApiError(f"{name} must be a string, not {type(value).__name__}")
    if len(value) > max_chars:
        raise ApiError(f"{name} must be at most {max_chars} characters long, not {len(value)}")
    return value


def choice(values: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str:
    """Return a required string field that must be one of `allowed`."""
    value = text(values, name)
    if value not in allowed:
        raise ApiError(f"{name} {value!r} must be one of {', '.join(allowed)}")
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
    raise ApiError(f"{name} must be true or false")


def integer(
    values: Mapping[str, object],
    name: str,
    *,
    minimum: int = 0,
    maximum: int = INTEGER_MAX,
    default: int | None = None,
    maximum_is: str = "",
) -> int:
    """Return an integer field (a JSON number or, from a query, digits) from `minimum` to `maximum`.

    Digits are counted before `int()` reads them, so a long digit string costs nothing. `maximum_is`
    says what the maximum is, for the refusal (" (one year)").
    """
    value = values.get(name, default)
    if value is None:
        raise ApiError(f"{name} is required")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        value = int(digits) if len(digits) <= len(str(maximum)) else maximum + 1
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ApiError(f"{name} must be a whole number of at least {minimum}")
    if value > maximum:
        raise ApiError(f"{name} must be at most {maximum}{maximum_is}")
    return value


def optional_integer(values: Mapping[str, object], name: str, *, maximum: int = INTEGER_MAX) -> int | None:
    """Return an optional whole-number field from 0 to `maximum`, or None when it is left out."""
    return None if values.get(name) is None else integer(values, name, maximum=maximum)


def asset(values: Mapping[str, object], name: str, specs: Mapping[str, AssetSpec]) -> AssetSpec:
    """Return the listed asset a symbol field names."""
    symbol = text(values, name)
    spec = specs.get(symbol)
    if spec is None:
        listed = ", ".join(sorted(specs))
        raise ApiError(f"{name} {symbol!r} is not a listed asset; listed assets are {listed}", "INVALID_ASSET")
    return spec


def decimal_text(values: Mapping[str, object], name: str, code: str = INVALID) -> str:
    """Return a required decimal-string field of at most `DECIMAL_CHARS_MAX` characters, unparsed."""
    value = values.get(name)
    if value is None:
        raise ApiError(f"{name} is required", code)
    if not isinstance(value, str):
        raise ApiError(f'{name} must be a decimal string such as "1.5", not {type(value).__name__}', code)
    if len(value) > DECIMAL_CHARS_MAX:
        raise ApiError(f"{name} must be a decimal string of at most {DECIMAL_CHARS_MAX} characters", code)
    return value


def require_at_most(name: str, value: int, maximum: int, scale: int, code: str = INVALID) -> int:
    """Return a scaled value that is at most `maximum`, or refuse it naming the limit as a decimal."""
    if value > maximum:
        raise ApiError(f"{name} must be at most {format_scaled(maximum, scale)}", code)
    return value


def quantity(values: Mapping[str, object], name: str, spec: AssetSpec) -> int:
    """Return a positive quantity of an asset in whole atoms.

    Whether it must also be a multiple of the asset's step (a borrow or lend must, a deposit or
    withdrawal need not) is the engine's rule (`core/validation.py`), refused in its words.
    """
    raw = decimal_text(values, name)
    try:
        atoms = parse_decimal(raw, spec.decimals)
    except ValueError:
        if raw.strip().lstrip("-").replace(".", "", 1).isdigit():
            step = format_scaled(1, spec.decimals)
            raise ApiError(f"{name} {raw!r} has more decimals than {spec.symbol}'s step size {step}") from None
        raise ApiError(f'{name} {raw!r} is not a plain decimal number such as "1.5" (no exponent or NaN)') from None
    if atoms <= 0:
        raise ApiError(f"{name} must be greater than zero")
    return require_at_most(name, atoms, AMOUNT_ATOMS_MAX, spec.decimals)


def price(values: Mapping[str, object], name: str) -> int:
    """Return a positive price (USD per unit) as WAD, at most `PRICE_WAD_MAX`."""
    raw = decimal_text(values, name)
    try:
        wad = parse_decimal(raw, PRICE_DECIMALS)
    except ValueError:
        raise ApiError(f"{name} {raw!r} is not a plain decimal number with at most 18 decimals") from None
    if wad <= 0:
        raise ApiError(f"{name} must be greater than zero")
    return require_at_most(name, wad, PRICE_WAD_MAX, PRICE_DECIMALS)


def optional_ratio(values: Mapping[str, object], name: str) -> Ratio | None:
    """Return an optional decimal-string ratio (e.g. a leverage limit)."""
    if values.get(name) is None:
        return None
    raw = decimal_text(values, name)
    try:
        return Ratio.parse(raw)
    except ValueError:
        raise ApiError(f"{name} {raw!r} is not a plain decimal number") from None
