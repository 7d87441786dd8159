"""Backpack's aggregated depth streams, `depth.200ms.<symbol>`, `depth.600ms.<symbol>`, `depth.1000ms.<symbol>`.

They carry the same diffs as the realtime `depth.<symbol>`, gathered over a period instead of sent
one by one. The feed builds each realtime diff once; the hub hands every one to `DepthAggregator.add`
on its event loop. The first diff of a market after a quiet spell opens a period (a timer of the
stream's length); the diffs that follow merge into it, a level keeping its last total; when the
timer fires, one message goes out with `U` the first diff's `U`, `u` the last diff's `u`, the merged
levels (both sides ascending by price, as in `depth.<symbol>`), and `E`/`T` of the last diff
(Backpack: "the engine timestamp will be the timestamp of the last matching engine event"). Every
diff joins exactly one period, so the aggregated `U` is the previous aggregated `u` + 1 just as in
the realtime stream, and a client syncs it against `GET /api/v1/depth`'s `lastUpdateId` the same
way.

Only a market with a follower of the period's stream is gathered. The timer is `schedule(seconds,
callback)` (the loop's `call_later` unless a caller gives its own, as a test does to fire periods
by hand).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Final

from crossmargin.api.views.common import JsonObject, JsonValue

INTERVALS_MS: Final = (200, 600, 1000)
DEPTH: Final = "depth"

Schedule = Callable[[float, Callable[[], None]], object]
"""Run a callback after a delay in seconds, on the event loop (`loop.call_later`'s shape)."""
Publish = Callable[[str, JsonObject], None]
"""Send one message's data on a stream (the stream is also its topic)."""


def aggregated_stream(interval_ms: int, market: str) -> str:
    """Return the name of a market's aggregated depth stream, `depth.<interval>ms.<symbol>`."""
    return f"{DEPTH}.{interval_ms}ms.{market}"


def _levels(value: JsonValue) -> list[tuple[str, str]]:
    assert isinstance(value, list), "a depth message's sides are lists of [price, quantity]"
    levels: list[tuple[str, str]] = []
    for level in value:
        assert isinstance(level, list)
        price, quantity = level
        levels.append((str(price), str(quantity)))
    return levels


@dataclass(slots=True)
class _Period:
    """The diffs of one market gathered since the period opened."""

    first_id: JsonValue
    asks: dict[str, str] = field(default_factory=dict)
    bids: dict[str, str] = field(default_factory=dict)
    last: JsonObject = field(default_factory=dict)

    def merge(self, data: JsonObject) -> None:
        for price, quantity in _levels(data["a"]):
            self.asks[price] = quantity
        for price, quantity in _levels(data["b"]):
            self.bids[price] = quantity
        self.last = data

    def message(self) -> JsonObject:
        def side(levels: dict[str, str]) -> list[JsonValue]:
            return [[price, levels[price]] for price in sorted(levels, key=Decimal)]

        last = self.last
        return {
            "e": DEPTH,
            "E": last["E"],
            "s": last["s"],
            "a": side(self.asks),
            "b": side(self.bids),
            "U": self.first_id,
            "u": last["u"],
            "T": last["T"],
        }


class DepthAggregator:
    """Gathers realtime depth diffs into the periods of the aggregated depth streams, on one event loop."""

    def __init__(self, wants: Callable[[str], bool], publish: Publish, schedule: Schedule) -> None:
        """Gather for streams that `wants` names; send each period's message through `publish`."""
        self._wants = wants
        self._publish = publish
        self._schedule = schedule
        self._open: dict[str, _Period] = {}

    def add(self, market: str, data: JsonObject) -> None:
        """Take one realtime `depth.<market>` diff into each followed period of that market."""
        for interval in INTERVALS_MS:
            stream = aggregated_stream(interval, market)
            if not self._wants(stream):
                continue
            period = self._open.get(stream)
            if period is None:
                period = self._open[stream] = _Period(data["U"])
                self._schedule(interval / 1000, partial(self._close, stream))
            period.merge(data)

    def _close(self, stream: str) -> None:
        period = self._open.pop(stream)
        self._publish(stream, period.message())
