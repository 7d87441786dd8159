"""Read Backpack's public prices and map them onto our assets, exactly and within bounds.

Pure functions: bytes or parsed JSON in, WAD prices out; the network lives in `backpack.py`.

**The mapping.** An asset's USD price is

1. `USDC`: 1, always (Backpack quotes every market in USDC, so USDC is the unit);
2. otherwise the `indexPrice` of its perpetual `<ASSET>_USDC_PERP` in `GET /api/v1/markPrices`
   (or `i` in the `markPrice.<ASSET>_USDC_PERP` stream): the venue's spot index, the price our own
   engine calls the index;
3. otherwise, when Backpack lists no such perp, the `lastPrice` of the spot market
   `<ASSET>_USDC` in `GET /api/v1/tickers` (or `c` in the `ticker.<ASSET>_USDC` stream);
4. otherwise nothing: the asset keeps whatever price the operator sets.

Only the assets we list are mirrored; every other market in a response is ignored unread, so a
malformed row of a market we do not mirror cannot matter. A malformed row of one we do mirror
is skipped with a problem named (the others still count); a response that is not a JSON array,
is larger than `RESPONSE_BYTES_MAX` or has more than `ROWS_MAX` rows is refused whole.

Prices are decimal strings parsed with `parse_decimal` (no floats, no rounding: a price with
more than 18 decimals is malformed), positive and at most `PRICE_WAD_MAX`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from crossmargin.core.numbers import PRICE_WAD_MAX, format_scaled, parse_decimal

QUOTE_ASSET: Final = "USDC"
PERP_SUFFIX: Final = "_USDC_PERP"
SPOT_SUFFIX: Final = "_USDC"
PRICE_DECIMALS: Final = 18
RESPONSE_BYTES_MAX: Final = 2 * 1024 * 1024
"""Backpack's full `markPrices` is about 20 KB and `tickers` about 100 KB; 2 MiB leaves room to grow."""
MESSAGE_BYTES_MAX: Final = 64 * 1024
"""One stream message is a few hundred bytes."""
ROWS_MAX: Final = 10_000
DECIMAL_TEXT_MAX: Final = 64
SYMBOL_TEXT_MAX: Final = 64


class QuoteError(ValueError):
    """A response or message from Backpack that cannot be read; the message says what is wrong."""


def perp_market(asset: str) -> str:
    """Return the perpetual whose index prices `asset`, e.g. `BTC_USDC_PERP`."""
    return f"{asset}{PERP_SUFFIX}"


def spot_market(asset: str) -> str:
    """Return the spot market whose last price prices `asset` when it has no perp, e.g. `USDT_USDC`."""
    return f"{asset}{SPOT_SUFFIX}"


@dataclass(frozen=True, slots=True)
class MarketMap:
    """Which Backpack market prices which of our assets; the assets left out are not mirrored."""

    perps: Mapping[str, str] = field(default_factory=dict)
    """asset -> `<ASSET>_USDC_PERP`, read from `indexPrice` / `i`."""
    spots: Mapping[str, str] = field(default_factory=dict)
    """asset -> `<ASSET>_USDC`, read from `lastPrice` / `c`, for assets without a perp."""
    unmirrored: tuple[str, ...] = ()
    """Our assets Backpack lists no market for (USDC is never among them: it is 1)."""

    def asset_of(self, market: str) -> str | None:
        """Return the asset a market prices, or None when we do not mirror it."""
        for table in (self.perps, self.spots):
            for asset, listed in table.items():
                if listed == market:
                    return asset
        return None

    def streams(self) -> list[str]:
        """Return the WebSocket streams that carry these prices, in a stable order."""
        marks = [f"markPrice.{market}" for _, market in sorted(self.perps.items())]
        return marks + [f"ticker.{market}" for _, market in sorted(self.spots.items())]

    def describe(self) -> str:
        """Return one line for the banner and logs: which market prices which asset."""
        parts = [f"{asset} <- {market} index" for asset, market in sorted(self.perps.items())]
        parts += [f"{asset} <- {market} last" for asset, market in sorted(self.spots.items())]
        if self.unmirrored:
            parts.append(f"not listed on Backpack: {', '.join(self.unmirrored)}")
        return "; ".join(parts)


def plan_markets(assets: Iterable[str], perps_listed: Iterable[str], spots_listed: Iterable[str]) -> MarketMap:
    """Map our assets to the markets Backpack lists: its perp if any, else its spot market, else none."""
    perps = set(perps_listed)
    spots = set(spots_listed)
    by_perp: dict[str, str] = {}
    by_spot: dict[str, str] = {}
    unmirrored: list[str] = []
    for asset in sorted(set(assets) - {QUOTE_ASSET}):
        if perp_market(asset) in perps:
            by_perp[asset] = perp_market(asset)
        elif spot_market(asset) in spots:
            by_spot[asset] = spot_market(asset)
        else:
            unmirrored.append(asset)
    return MarketMap(by_perp, by_spot, tuple(unmirrored))


def decode_json(body: bytes, limit: int, where: str) -> object:
    """Parse a JSON body of at most `limit` bytes."""
    if len(body) > limit:
        raise QuoteError(f"{where}: {len(body)} bytes, more than the {limit} allowed")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise QuoteError(f"{where}: not JSON ({error.__class__.__name__})") from None


def parse_price(value: object, where: str) -> int:
    """Return a positive decimal-string price as WAD, exactly, at most `PRICE_WAD_MAX`."""
    if not isinstance(value, str) or len(value) > DECIMAL_TEXT_MAX:
        raise QuoteError(f"{where}: a price must be a decimal string of at most {DECIMAL_TEXT_MAX} characters")
    try:
        wad = parse_decimal(value, PRICE_DECIMALS)
    except ValueError:
        raise QuoteError(f"{where}: {value!r} is not a plain decimal with at most 18 decimals") from None
    if not 0 < wad <= PRICE_WAD_MAX:
        raise QuoteError(
            f"{where}: {value!r} is not a price above 0 and at most {format_scaled(PRICE_WAD_MAX, PRICE_DECIMALS)}"
        )
    return wad


@dataclass(slots=True)
class Quotes:
    """Prices read from one response or message (asset -> WAD) and the problems met on the way."""

    prices: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _rows(document: object, where: str) -> list[object]:
    if not isinstance(document, list):
        raise QuoteError(f"{where}: expected a JSON array of markets")
    if len(document) > ROWS_MAX:
        raise QuoteError(f"{where}: {len(document)} rows, more than the {ROWS_MAX} allowed")
    return document


def _symbol(row: object) -> str | None:
    if not isinstance(row, dict):
        return None
    symbol = row.get("symbol")
    return symbol if isinstance(symbol, str) and len(symbol) <= SYMBOL_TEXT_MAX else None


def listed_symbols(document: object, where: str) -> set[str]:
    """Return the market symbols a `markPrices` or `tickers` response lists."""
    return {symbol for symbol in map(_symbol, _rows(document, where)) if symbol is not None}


def read_rows(document: object, markets: Mapping[str, str], field_name: str, where: str) -> Quotes:
    """Read `field_name` of the rows of the markets we mirror (asset -> market) from a REST array."""
    wanted = {market: asset for asset, market in markets.items()}
    quotes = Quotes()
    for row in _rows(document, where):
        symbol = _symbol(row)
        if symbol not in wanted:
            continue
        assert isinstance(row, dict)  # _symbol found one
        try:
            quotes.prices[wanted[symbol]] = parse_price(row.get(field_name), f"{where} {symbol} {field_name}")
        except QuoteError as error:
            quotes.problems.append(str(error))
    return quotes


STREAM_FIELDS: Final = {"markPrice": "i", "ticker": "c"}
"""Stream kind -> the field that carries our price: the index of a perp, the last price of a spot market."""


def read_stream_message(text: str | bytes, market_map: MarketMap) -> tuple[str, int] | None:
    """Return (asset, WAD) from one stream message, or None when it carries no price we mirror.

    Messages are `{"stream": "<kind>.<market>", "data": {...}}`; anything else (a subscription
    answer, a stream we did not ask for) is None. A message of a stream we mirror whose price is
    malformed raises `QuoteError`.
    """
    if isinstance(text, bytes):
        raise QuoteError("stream: a binary message, expected JSON text")
    document = decode_json(text.encode(), MESSAGE_BYTES_MAX, "stream")
    if not isinstance(document, dict):
        return None
    stream = document.get("stream")
    if not isinstance(stream, str):
        return None
    kind, _, market = stream.partition(".")
    field_name = STREAM_FIELDS.get(kind)
    asset = market_map.asset_of(market)
    if field_name is None or asset is None or (kind == "markPrice") != (asset in market_map.perps):
        return None
    data = document.get("data")
    if not isinstance(data, dict) or data.get("s") != market:
        raise QuoteError(f"stream {stream}: data must be an object for symbol {market}")
    return asset, parse_price(data.get(field_name), f"stream {stream} {field_name}")
