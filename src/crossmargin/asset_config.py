"""Load asset and pool parameters from a TOML file into exact `AssetSpec`s.

The package ships `data/assets.toml` (the demo set); a user's own file replaces it. Every number
is a decimal string parsed exactly; a malformed file fails at start with an `AssetConfigError`
whose message names the field, e.g. `assets.BTC.imfFunction.base: '0.1x' is not a plain decimal`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from crossmargin.core.assets import (
    AssetSpec,
    HaircutFunction,
    HaircutKind,
    PoolState,
    RateCurve,
    SqrtFunction,
)
from crossmargin.core.numbers import WAD, Ratio, parse_decimal

DECIMALS_MAX = 18
ASSET_FIELDS = frozenset(
    {
        "decimals",
        "stepSize",
        "state",
        "fee",
        "maxUtilization",
        "throttleUtilizationThreshold",
        "borrowLimit",
        "openBorrowLendLimit",
        "haircutFunction",
        "imfFunction",
        "mmfFunction",
        "rateCurve",
    }
)


class AssetConfigError(ValueError):
    """The asset configuration is malformed; the message names the field."""


def default_assets_path() -> Path:
    """Return the path of the demo asset file shipped with the package."""
    return Path(str(resources.files("crossmargin") / "data" / "assets.toml"))


def load_asset_specs(path: Path | None = None) -> tuple[AssetSpec, ...]:
    """Read and validate an asset file (the shipped demo set by default)."""
    return parse_asset_specs(load_document(path))


def load_document(path: Path | None = None) -> dict[str, Any]:
    """Read an asset file as TOML (the shipped demo set by default)."""
    source = path or default_assets_path()
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AssetConfigError(f"{source}: {error}") from error


def parse_asset_specs(document: Mapping[str, Any]) -> tuple[AssetSpec, ...]:
    """Validate a parsed document into asset specs, in symbol order."""
    assets = _table(document.get("assets"), "assets")
    if not assets:
        raise AssetConfigError("assets: the file lists no assets")
    unknown = set(document) - {"assets", "markets"}
    if unknown:
        raise AssetConfigError(f"{min(unknown)}: unknown top-level table")
    return tuple(_parse_asset(symbol, _table(body, f"assets.{symbol}")) for symbol, body in sorted(assets.items()))


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AssetConfigError(f"{where}: must be a table")
    return value


def _parse_asset(symbol: str, body: dict[str, Any]) -> AssetSpec:
    where = f"assets.{symbol}"
    if not symbol.isascii() or not symbol.isalnum() or not symbol.isupper():
        raise AssetConfigError(f"{where}: an asset symbol is upper-case letters and digits")
    unknown = set(body) - ASSET_FIELDS
    if unknown:
        raise AssetConfigError(f"{where}.{min(unknown)}: unknown field")
    missing = ASSET_FIELDS - set(body) - {"state"}
    if missing:
        raise AssetConfigError(f"{where}.{min(missing)}: missing")
    decimals = body["decimals"]
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= DECIMALS_MAX:
        raise AssetConfigError(f"{where}.decimals: must be an integer from 0 to {DECIMALS_MAX}")
    imf = _sqrt_function(body["imfFunction"], f"{where}.imfFunction")
    mmf = _sqrt_function(body["mmfFunction"], f"{where}.mmfFunction")
    if mmf.base > imf.base or mmf.factor > imf.factor:
        raise AssetConfigError(f"{where}.mmfFunction: must not exceed imfFunction (maintenance <= initial)")
    max_utilization = _fraction(body["maxUtilization"], f"{where}.maxUtilization")
    return AssetSpec(
        symbol=symbol,
        decimals=decimals,
        step_atoms=_quantity(body["stepSize"], decimals, f"{where}.stepSize", positive=True),
        haircut=_haircut(body["haircutFunction"], f"{where}.haircutFunction"),
        imf=imf,
        mmf=mmf,
        rate_curve=_rate_curve(body["rateCurve"], f"{where}.rateCurve"),
        max_utilization=max_utilization,
        throttle_utilization_threshold=_fraction(
            body["throttleUtilizationThreshold"], f"{where}.throttleUtilizationThreshold"
        ),
        fee=_fraction(body["fee"], f"{where}.fee"),
        borrow_limit_atoms=_quantity(body["borrowLimit"], decimals, f"{where}.borrowLimit"),
        open_borrow_lend_limit_atoms=_quantity(body["openBorrowLendLimit"], decimals, f"{where}.openBorrowLendLimit"),
        pool_state=_pool_state(body.get("state", "Open"), f"{where}.state"),
    )


def _decimal(value: object, scale: int, where: str) -> int:
    if not isinstance(value, str):
        raise AssetConfigError(f'{where}: must be a decimal string such as "0.1", not {value!r}')
    try:
        parsed = parse_decimal(value, scale)
    except ValueError as error:
        raise AssetConfigError(f"{where}: {error}") from error
    if parsed < 0:
        raise AssetConfigError(f"{where}: must not be negative")
    return parsed


def _ratio(value: object, where: str) -> Ratio:
    return Ratio(_decimal(value, 18, where))


def _fraction(value: object, where: str) -> Ratio:
    ratio = _ratio(value, where)
    if ratio.wad > WAD:
        raise AssetConfigError(f"{where}: must be between 0 and 1")
    return ratio


def _quantity(value: object, decimals: int, where: str, *, positive: bool = False) -> int:
    atoms = _decimal(value, decimals, where)
    if positive and atoms == 0:
        raise AssetConfigError(f"{where}: must be greater than zero")
    return atoms


def _pool_state(value: object, where: str) -> PoolState:
    try:
        return PoolState(str(value))
    except ValueError as error:
        choices = ", ".join(state.value for state in PoolState)
        raise AssetConfigError(f"{where}: must be one of {choices}") from error


def _sqrt_function(value: object, where: str) -> SqrtFunction:
    body = _table(value, where)
    if body.get("type") != "sqrt":
        raise AssetConfigError(f'{where}.type: must be "sqrt"')
    return SqrtFunction(
        base=_fraction(body.get("base"), f"{where}.base"), factor=_ratio(body.get("factor"), f"{where}.factor")
    )


def _haircut(value: object, where: str) -> HaircutFunction:
    body = _table(value, where)
    weight = _fraction(body.get("weight"), f"{where}.weight")
    kind_body = _table(body.get("kind"), f"{where}.kind")
    try:
        kind = HaircutKind(str(kind_body.get("type")))
    except ValueError as error:
        raise AssetConfigError(f'{where}.kind.type: must be "identity" or "inverseSqrt"') from error
    if kind is HaircutKind.IDENTITY:
        return HaircutFunction(weight=weight)
    return HaircutFunction(
        weight=weight,
        kind=kind,
        base=_fraction(kind_body.get("base"), f"{where}.kind.base"),
        positive_curve_penalty=_ratio(kind_body.get("positiveCurvePenalty"), f"{where}.kind.positiveCurvePenalty"),
    )


def _rate_curve(value: object, where: str) -> RateCurve:
    body = _table(value, where)
    curve = RateCurve(
        base=_ratio(body.get("base"), f"{where}.base"),
        slope1=_ratio(body.get("slope1"), f"{where}.slope1"),
        optimal_utilization=_fraction(body.get("optimalUtilization"), f"{where}.optimalUtilization"),
        slope2=_ratio(body.get("slope2"), f"{where}.slope2"),
    )
    if curve.optimal_utilization.wad in (0, WAD):
        raise AssetConfigError(f"{where}.optimalUtilization: must be strictly between 0 and 1")
    return curve
