"""Whom to liquidate next: one plan for the risk monitor, the simulation and the benchmark.

A round liquidates every subaccount still `liquidating` (a liquidation goes on in steps until it
is back at its target or taken over) and every candidate of the screen that the exact integer
math confirms at MMR >= 100% (`screen.confirm`), each once, in subaccount id order, so the order
of the commands never depends on the screen's row order or on a set's. The insurance fund is never
a candidate: it is not liquidated, its deficit is shared (`Liquidate(fund)`), and each caller
decides when to ask for that. Confirmation is the caller's function because the monitor confirms
in chunks, each inside its own short read of the sequencer's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID

Confirm = Callable[[list[SubaccountId]], list[SubaccountId]]
"""Return those of the given subaccounts that the exact math finds liquidatable."""


def plan_liquidations(
    candidates: Iterable[SubaccountId], liquidating: Iterable[SubaccountId], confirm: Confirm
) -> list[SubaccountId]:
    """Return the subaccounts to liquidate in the next round, in id order (empty: nothing is left).

    `candidates` are the screen's (false positives included); `liquidating` those whose liquidation
    has started and not finished. Only the candidates not already liquidating are confirmed.
    """
    ongoing = set(liquidating)
    fresh = sorted({sub for sub in candidates if sub != INSURANCE_FUND_ID and sub not in ongoing})
    return sorted(ongoing.union(confirm(fresh)))
