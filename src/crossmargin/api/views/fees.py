"""The fees `GET /api/v1/account` reports, read from the markets' own configuration.

Backpack's `AccountSummary` has one maker and one taker fee per kind of market, in basis points
(`spotMakerFee`, `spotTakerFee`, `futuresMakerFee`, `futuresTakerFee`). Here every market has its
own `makerFee` and `takerFee`, so each account figure is the pair most markets of the kind charge
(a tie goes to the lower pair), and the crossmargin extension `marketFees` lists the markets whose
pair differs from their kind's figure, by symbol, in the same basis points.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from crossmargin.api.views.common import JsonObject
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import Ratio, format_scaled

MARKET_FEES: Final = "marketFees"
BPS_PER_UNIT: Final = 10_000
NO_FEE: Final = "0"


def bps(fee: Ratio) -> str:
    """Return a fee fraction in basis points, exact: 0.0008 is "8"."""
    return format_scaled(fee.wad * BPS_PER_UNIT, 18)


@dataclass(frozen=True, slots=True)
class AccountFees:
    """The account's fee figures by kind, and the markets that charge otherwise."""

    spot_maker: str
    spot_taker: str
    futures_maker: str
    futures_taker: str
    exceptions: JsonObject


def _usual(pairs: list[tuple[Ratio, Ratio]]) -> tuple[Ratio, Ratio] | None:
    if not pairs:
        return None
    counts = Counter(pairs)
    return min(counts, key=lambda pair: (-counts[pair], pair))


def account_fees(markets: Iterable[MarketSpec]) -> AccountFees:
    """Return the fee figures of `GET /api/v1/account` from the listed markets."""
    listed = sorted(markets, key=lambda spec: spec.symbol)
    usual = {
        perp: _usual([(spec.maker_fee, spec.taker_fee) for spec in listed if spec.is_perp is perp])
        for perp in (False, True)
    }
    exceptions: JsonObject = {
        spec.symbol: {"makerFee": bps(spec.maker_fee), "takerFee": bps(spec.taker_fee)}
        for spec in listed
        if (spec.maker_fee, spec.taker_fee) != usual[spec.is_perp]
    }
    spot, futures = usual[False], usual[True]
    return AccountFees(
        spot_maker=bps(spot[0]) if spot else NO_FEE,
        spot_taker=bps(spot[1]) if spot else NO_FEE,
        futures_maker=bps(futures[0]) if futures else NO_FEE,
        futures_taker=bps(futures[1]) if futures else NO_FEE,
        exceptions=exceptions,
    )
