"""Load how the demo market maker quotes and the demo taker trades each market, from the markets file.

These are optional fields of a `[markets.*]` table, beside the order-book parameters; the
engine never sees them. A market without `maker*` fields is quoted with the plain `Ladder()`; a
market without `taker*` fields gets no random taker flow.

- `makerSpreadBps`: the best bid to the best ask, in basis points of the index (0 < bps <= 1000).
- `makerLevels`: orders per side (an integer from 1 to 50).
- `makerLevelSpacingBps`: the distance between one level and the next (0 < bps <= 1000).
- `makerLevelNotional`: each order's size, in whole units of the quote asset (> 0).
- `makerSkewBps` and `makerInventoryLimit`, together: the most the ladder's centre moves away from
  the index against the maker's inventory (0 <= bps <= 1000), reached at an inventory worth
  `makerInventoryLimit` whole quote units (> 0).
- `takerTradesPerHour` and `takerMaxNotional`, together: about how many random market orders the
  demo taker places an hour (0 < n <= 3600), and the largest one's notional in whole quote units.

A malformed field fails at start with an `AssetConfigError` naming it, e.g.
`markets.BTC_USDC.makerLevels: must be an integer from 1 to 50`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from crossmargin.app.demo_taker import TakerFlow
from crossmargin.app.market_maker import Ladder
from crossmargin.asset_config import AssetConfigError, _decimal, _table

MAKER_FIELDS: Final = frozenset(
    {
        "makerSpreadBps",
        "makerLevels",
        "makerLevelSpacingBps",
        "makerLevelNotional",
        "makerSkewBps",
        "makerInventoryLimit",
    }
)
TAKER_FIELDS: Final = frozenset({"takerTradesPerHour", "takerMaxNotional"})
DEMO_FIELDS: Final = MAKER_FIELDS | TAKER_FIELDS
BPS_MAX: Final = 1_000
LEVELS_MAX: Final = 50
TRADES_PER_HOUR_MAX: Final = 3_600
MS_PER_HOUR: Final = 3_600_000
BPS_SCALE: Final = 14
"""A basis point is 1e-4, so `n` bps is `n` x 1e14 in WAD: parse bps with 14 decimals to get WAD."""
RATE_SCALE: Final = 6


@dataclass(frozen=True, slots=True)
class DemoTrading:
    """Each market's maker ladder and taker flow, for those the file gives them."""

    ladders: dict[str, Ladder] = field(default_factory=dict)
    flows: dict[str, TakerFlow] = field(default_factory=dict)


def parse_demo_trading(document: Mapping[str, Any]) -> DemoTrading:
    """Validate the `maker*` and `taker*` fields of every `[markets.*]` table of a parsed asset file."""
    trading = DemoTrading()
    for symbol, body in sorted(_table(document.get("markets", {}), "markets").items()):
        ladder, flow = parse_market_demo_fields(_table(body, f"markets.{symbol}"), f"markets.{symbol}")
        if ladder is not None:
            trading.ladders[symbol] = ladder
        if flow is not None:
            trading.flows[symbol] = flow
    return trading


def parse_market_demo_fields(body: Mapping[str, Any], where: str) -> tuple[Ladder | None, TakerFlow | None]:
    """Return one market's ladder and taker flow (None where it has none of their fields)."""
    return _ladder(body, where), _flow(body, where)


def _ladder(body: Mapping[str, Any], where: str) -> Ladder | None:
    if not MAKER_FIELDS & set(body):
        return None
    plain = Ladder()
    half_spread = None
    if "makerSpreadBps" in body:
        half_spread = _bps(body["makerSpreadBps"], f"{where}.makerSpreadBps", positive=True) // 2
    skew, limit = _together(body, where, "makerSkewBps", "makerInventoryLimit")
    return Ladder(
        levels=_levels(body.get("makerLevels", plain.levels), f"{where}.makerLevels"),
        spacing_wad=_bps(body["makerLevelSpacingBps"], f"{where}.makerLevelSpacingBps", positive=True)
        if "makerLevelSpacingBps" in body
        else plain.spacing_wad,
        level_notional=_whole(body["makerLevelNotional"], f"{where}.makerLevelNotional")
        if "makerLevelNotional" in body
        else plain.level_notional,
        half_spread_wad=half_spread,
        max_skew_wad=_bps(skew, f"{where}.makerSkewBps", positive=False) if skew is not None else 0,
        inventory_limit=_whole(limit, f"{where}.makerInventoryLimit") if limit is not None else 0,
    )


def _flow(body: Mapping[str, Any], where: str) -> TakerFlow | None:
    rate, notional = _together(body, where, "takerTradesPerHour", "takerMaxNotional")
    if rate is None:
        return None
    per_hour = _decimal(rate, RATE_SCALE, f"{where}.takerTradesPerHour")
    if not 0 < per_hour <= TRADES_PER_HOUR_MAX * 10**RATE_SCALE:
        raise AssetConfigError(f"{where}.takerTradesPerHour: must be more than 0 and at most {TRADES_PER_HOUR_MAX}")
    return TakerFlow(
        mean_interval_ms=MS_PER_HOUR * 10**RATE_SCALE // per_hour,
        max_notional=_whole(notional, f"{where}.takerMaxNotional"),
    )


def _together(body: Mapping[str, Any], where: str, first: str, second: str) -> tuple[object, object]:
    """Return two fields that only make sense together, or (None, None) when both are absent."""
    if (first in body) != (second in body):
        given, absent = (first, second) if first in body else (second, first)
        raise AssetConfigError(f"{where}.{absent}: missing (it goes with {given})")
    return body.get(first), body.get(second)


def _bps(value: object, where: str, *, positive: bool) -> int:
    wad = _decimal(value, BPS_SCALE, where)
    if (positive and wad == 0) or wad > BPS_MAX * 10**BPS_SCALE:
        low = "more than 0" if positive else "at least 0"
        raise AssetConfigError(f"{where}: must be {low} and at most {BPS_MAX} basis points")
    return wad


def _levels(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= LEVELS_MAX:
        raise AssetConfigError(f"{where}: must be an integer from 1 to {LEVELS_MAX}")
    return value


def _whole(value: object, where: str) -> int:
    units = _decimal(value, 0, where)
    if units == 0:
        raise AssetConfigError(f"{where}: must be greater than zero")
    return units
