"""`Check`: the outcome of one invariant check of the audit (docs/INVARIANTS.md).

Each check names its invariant id, says whether it holds, and carries a detail a person can read
when it does not. The audit's modules (`audit.py` for money, pools and positions,
`audit_trading.py` for perps, orders and books) all report in this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one invariant check."""

    invariant: str
    ok: bool
    detail: str
