"""Load order-book parameters from the `[markets.*]` tables of the asset file into `MarketSpec`s.

Markets sit beside the assets they trade in the same TOML file (`data/assets.toml` by default).
Field names follow Backpack's `GET /api/v1/markets` filters: `tickSize`, `stepSize`,
`minQuantity`, and the perp parameters `imfFunction`, `mmfFunction`, `openInterestLimit`,
`fundingBound`; fees are `makerFee` and `takerFee` fractions. The optional price bands are
Backpack's `filters.price` fields `maxMultiplier` / `minMultiplier` (around the last active price)
and `meanMarkPriceBand = { maxMultiplier, minMultiplier }` (around the mark): `core/price_bands.py`;
`maxImpactMultiplier` / `minImpactMultiplier` bound a market order's walk: `core/price_impact.py`.
The optional `maker*` and `taker*` fields say how the demo market maker and taker trade the market
(`maker_config.py`); they are checked here too. A malformed table fails at start with an
`AssetConfigError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from crossmargin.asset_config import (
    AssetConfigError,
    _decimal,
    _fraction,
    _quantity,
    _ratio,
    _sqrt_function,
    _table,
)
from crossmargin.core.assets import AssetSpec
from crossmargin.core.markets import BookState, MarketKind, MarketSpec, PriceBands
from crossmargin.core.numbers import WAD, Ratio
from crossmargin.maker_config import DEMO_FIELDS, parse_market_demo_fields

SPOT_FIELDS = frozenset({"base", "quote", "tickSize", "stepSize", "minQuantity", "makerFee", "takerFee", "state"})
BAND_FIELDS = frozenset(
    {"maxMultiplier", "minMultiplier", "meanMarkPriceBand", "maxImpactMultiplier", "minImpactMultiplier"}
)
OPTIONAL_FIELDS = BAND_FIELDS | {"state"}
PERP_FIELDS = SPOT_FIELDS | {"imfFunction", "mmfFunction", "openInterestLimit", "fundingBound"}
PERP_SUFFIX = "_PERP"


def parse_market_specs(document: Mapping[str, Any], assets: tuple[AssetSpec, ...]) -> tuple[MarketSpec, ...]:
    """Validate the `[markets.*]` tables of a parsed asset file, in symbol order."""
    markets = document.get("markets")
    if markets is None:
        return ()
    by_symbol = {asset.symbol: asset for asset in assets}
    return tuple(
        _parse_market(symbol, _table(body, f"markets.{symbol}"), by_symbol)
        for symbol, body in sorted(_table(markets, "markets").items())
    )


def _parse_market(symbol: str, body: dict[str, Any], assets: Mapping[str, AssetSpec]) -> MarketSpec:
    where = f"markets.{symbol}"
    perp = symbol.endswith(PERP_SUFFIX)
    allowed = PERP_FIELDS if perp else SPOT_FIELDS
    unknown = set(body) - allowed - BAND_FIELDS - DEMO_FIELDS
    if unknown:
        raise AssetConfigError(f"{where}.{min(unknown)}: unknown field")
    missing = allowed - set(body) - OPTIONAL_FIELDS
    if missing:
        raise AssetConfigError(f"{where}.{min(missing)}: missing")
    base, quote = (_asset(body[name], assets, f"{where}.{name}") for name in ("base", "quote"))
    expected = f"{base.symbol}_{quote.symbol}{PERP_SUFFIX if perp else ''}"
    if symbol != expected:
        raise AssetConfigError(f"{where}: a market trading {base.symbol} for {quote.symbol} is named {expected}")
    spec = MarketSpec(
        symbol=symbol,
        kind=MarketKind.PERP if perp else MarketKind.SPOT,
        base=base.symbol,
        quote=quote.symbol,
        base_decimals=base.decimals,
        quote_decimals=quote.decimals,
        tick_size_wad=_decimal(body["tickSize"], 18, f"{where}.tickSize"),
        step_atoms=_quantity(body["stepSize"], base.decimals, f"{where}.stepSize", positive=True),
        min_quantity_atoms=_quantity(body["minQuantity"], base.decimals, f"{where}.minQuantity"),
        maker_fee=_fraction(body["makerFee"], f"{where}.makerFee"),
        taker_fee=_fraction(body["takerFee"], f"{where}.takerFee"),
        state=_book_state(body.get("state", "Open"), f"{where}.state"),
        bands=_price_bands(body, where),
    )
    if perp:
        spec = _with_perp_fields(spec, body, where)
    parse_market_demo_fields(body, where)
    if not spec.grid_is_exact():
        raise AssetConfigError(
            f"{where}.tickSize: one tick times one step must be a whole number of {quote.symbol} atoms"
        )
    return spec


def _with_perp_fields(spec: MarketSpec, body: dict[str, Any], where: str) -> MarketSpec:
    return replace(
        spec,
        imf=_sqrt_function(body["imfFunction"], f"{where}.imfFunction"),
        mmf=_sqrt_function(body["mmfFunction"], f"{where}.mmfFunction"),
        open_interest_limit_atoms=_quantity(
            body["openInterestLimit"], spec.base_decimals, f"{where}.openInterestLimit"
        ),
        funding_bound=_fraction(body["fundingBound"], f"{where}.fundingBound"),
    )


def _price_bands(body: dict[str, Any], where: str) -> PriceBands:
    """Read the optional price bands: `minMultiplier` <= 1 <= `maxMultiplier`, each pair optional."""
    low, high = _multipliers(body, where)
    impact_low, impact_high = _multipliers(body, where, "Impact")
    bands = PriceBands(
        max_multiplier=high, min_multiplier=low, max_impact_multiplier=impact_high, min_impact_multiplier=impact_low
    )
    mark = body.get("meanMarkPriceBand")
    if mark is None:
        return bands
    band = _table(mark, f"{where}.meanMarkPriceBand")
    unknown = set(band) ^ {"maxMultiplier", "minMultiplier"}
    if unknown:
        raise AssetConfigError(
            f"{where}.meanMarkPriceBand.{min(unknown)}: give exactly maxMultiplier and minMultiplier"
        )
    mark_low, mark_high = _multipliers(band, f"{where}.meanMarkPriceBand")
    return replace(bands, mark_max_multiplier=mark_high, mark_min_multiplier=mark_low)


def _multipliers(body: dict[str, Any], where: str, kind: str = "") -> tuple[Ratio, Ratio]:
    """Read `min{kind}Multiplier` (at most 1) and `max{kind}Multiplier` (at least 1); absent or 0: no band."""
    low_name, high_name = f"min{kind}Multiplier", f"max{kind}Multiplier"
    low = _ratio(body.get(low_name, "0"), f"{where}.{low_name}")
    high = _ratio(body.get(high_name, "0"), f"{where}.{high_name}")
    if low.wad > WAD:
        raise AssetConfigError(f"{where}.{low_name}: must be at most 1 (0: no lower band)")
    if high.wad and high.wad < WAD:
        raise AssetConfigError(f"{where}.{high_name}: must be at least 1 (0: no upper band)")
    return low, high


def _asset(value: object, assets: Mapping[str, AssetSpec], where: str) -> AssetSpec:
    if not isinstance(value, str) or value not in assets:
        raise AssetConfigError(f"{where}: {value!r} is not a listed asset")
    return assets[value]


def _book_state(value: object, where: str) -> BookState:
    try:
        return BookState(str(value))
    except ValueError:
        choices = ", ".join(state.value for state in BookState)
        raise AssetConfigError(f"{where}: must be one of {choices}") from None
