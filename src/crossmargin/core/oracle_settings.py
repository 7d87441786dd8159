"""The oracle guards' settings, as the engine state holds them (see `oracle.py` for the rules)."""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.core.numbers import Ratio


@dataclass(frozen=True, slots=True)
class OracleSettings:
    """How old an index price may be, and how far one update may move it; None turns a guard off.

    `configured_ms` is when the settings were last set: a price with no recorded update counts as
    set then, so turning the age guard on does not make every older price stale at once.
    """

    price_max_age_ms: int | None = None
    price_jump_band: Ratio | None = None
    configured_ms: int = 0
