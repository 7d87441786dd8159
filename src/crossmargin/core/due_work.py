"""Work that falls due with time: settlements every 10 seconds, interest and funding every hour.

Every command first runs, in time order, whatever fell due since the last command: each hour's
interest (`accrual`) and funding (`perp_funding`) at the full hour, and a settlement at each
10-second boundary where one is due (something changed since the last: a perp trade, a price, a
funding payment). Each step runs in its own transaction at its own time, so an auto-borrow made
by a settlement at 00:59:50 pays its entry fee for 10 seconds and the 01:00 hour's interest after.
At a tie the hour comes first. A settlement with nothing to settle is never scheduled, so
fast-forwarding days with no trading costs one step per hour.
"""

from __future__ import annotations

from crossmargin.core.accrual import accrue_due_interest
from crossmargin.core.interest import MS_PER_HOUR
from crossmargin.core.perp_funding import pay_funding
from crossmargin.core.settlement import settle
from crossmargin.core.transaction import Transaction


def run_due_work(tx: Transaction, now_ms: int) -> None:
    """Run every settlement, hourly interest and funding due at or before `now_ms`, in order."""
    if tx.interest_hour_ms is None:
        accrue_due_interest(tx, now_ms)
    while True:
        hour = tx.interest_hour_ms + MS_PER_HOUR if tx.interest_hour_ms is not None else None
        due = tx.settlement_due_ms
        if hour is not None and hour <= now_ms and (due is None or hour <= due):
            step = Transaction(tx, hour)
            accrue_due_interest(step, hour)
            pay_funding(step)
            step.commit()
        elif due is not None and due <= now_ms:
            step = Transaction(tx, due)
            settle(step)
            step.commit()
        else:
            return
