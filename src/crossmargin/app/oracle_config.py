"""Apply the oracle guards a server was started with, as a journaled command when they changed.

`serve` turns its `--price-max-age` and `--price-jump-band` options into `ConfigureOracle` (see
`core/oracle.py` for the rules); the settings live in the engine state, so a replay judges every
command by the guards it ran under, and an unchanged restart adds nothing to the journal.
"""

from __future__ import annotations

from crossmargin.app.service import Service
from crossmargin.core.commands import ConfigureOracle
from crossmargin.core.engine import Accepted
from crossmargin.core.numbers import Ratio


def configure_oracle_guards(service: Service, *, price_max_age_ms: int | None, price_jump_band: Ratio | None) -> bool:
    """Journal the guards if they differ from the state's; return whether they changed."""
    current = service.read(lambda state: state.oracle)
    if (current.price_max_age_ms, current.price_jump_band) == (price_max_age_ms, price_jump_band):
        return False
    result = service.execute(ConfigureOracle(price_max_age_ms, price_jump_band))
    assert isinstance(result, Accepted), f"serve checks the oracle options before it starts: {result}"
    return True
