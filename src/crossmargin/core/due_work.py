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
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.core.withdrawal_delay import release_due_withdrawals


def run_due_work(tx: Transaction, now_ms: int) -> None:
    """Run every settlement, hourly interest and funding due at or before `now_ms`, in order.

    Withdrawals a withdrawal delay held until a time since the base's own time are sent first: a
    release moves funds from the exchange's pending account to the outside only, so it changes
    nothing that the other steps read.
    """
    release_due_withdrawals(tx, tx.base.now_ms, now_ms)
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


def next_due_ms(state: EngineState) -> int | None:
    """Return when the next work other than the hour falls due: a settlement or a held withdrawal's release.

    The scheduler of a flowing clock submits a Tick then, so a release happens on time without
    waiting for the next command or hour.
    """
    due = [state.withdrawals[index].release_ms for index in state.pending_withdrawals]
    due.append(state.settlement_due_ms)
    return min((at for at in due if at is not None), default=None)
