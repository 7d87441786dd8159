"""Price sources by name: what `serve --prices` accepts, each a `PriceSource` (`app/ports.py`).

`open_price_source(choice, settings)` returns the source a choice names: `none` (or `off`) for
none, a name in `PRICE_SOURCES` (`demo`, the seeded correlated walk), or else the path of a
`timestamp,symbol,price` CSV file to replay (`file.py`). `backpack` mirrors Backpack's live index
prices (`backpack.py`, imported only when chosen). A new source plugs in as one more entry of
`PRICE_SOURCES`: a name and a factory taking the `SourceSettings`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from crossmargin.app.ports import PriceSource
from crossmargin.app.price_sources.backpack_options import BackpackOptions
from crossmargin.app.price_sources.demo import DemoPriceSource
from crossmargin.app.price_sources.file import FileReplay
from crossmargin.simulation.demo_walk import DEMO_STEP_MS
from crossmargin.simulation.price_paths import PricePathError

FileTimes = Literal["relative", "absolute"]
NO_PRICES: Final = frozenset({"none", "off"})


class PriceSourceError(ValueError):
    """A `--prices` choice that cannot be used, with a message that says what to write instead."""


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """What a source is built from: the listed assets, their prices and the engine time at start."""

    listed: frozenset[str]
    start_prices: Mapping[str, int]
    start_ms: int
    seed: int = 1
    step_ms: int = DEMO_STEP_MS
    file_times: FileTimes = "relative"
    backpack: BackpackOptions | None = None


def _open_demo(settings: SourceSettings) -> PriceSource:
    return DemoPriceSource(
        settings.start_prices, seed=settings.seed, start_ms=settings.start_ms, step_ms=settings.step_ms
    )


def _open_backpack(settings: SourceSettings) -> PriceSource:
    from crossmargin.app.price_sources.backpack import backpack_source  # noqa: PLC0415 -- an HTTP client, when chosen

    return backpack_source(sorted(settings.listed), settings.backpack)


BACKPACK: Final = "backpack"
PRICE_SOURCES: Final[dict[str, Callable[[SourceSettings], PriceSource]]] = {
    "demo": _open_demo,
    BACKPACK: _open_backpack,
}
"""Named sources; any other choice is a file to replay."""


def open_price_source(choice: str, settings: SourceSettings) -> PriceSource | None:
    """Return the source `choice` names (None for `none`); refuse a file that cannot be replayed."""
    if choice.lower() in NO_PRICES:
        return None
    factory = PRICE_SOURCES.get(choice.lower())
    if factory is not None:
        return factory(settings)
    path = Path(choice)
    if not path.is_file():
        named = ", ".join(sorted({*PRICE_SOURCES, "none"}))
        raise PriceSourceError(f"--prices {choice}: no such file; write {named}, or the path of a price CSV")
    try:
        return FileReplay.open(
            path, settings.listed, start_ms=settings.start_ms, absolute=settings.file_times == "absolute"
        )
    except PricePathError as error:
        raise PriceSourceError(str(error)) from None
