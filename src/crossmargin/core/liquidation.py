"""Liquidation: bring a subaccount at MMR >= 100% back to a safe target, in partial steps.

`Liquidate(subaccount)` is a journaled command (the app's risk monitor submits it for confirmed
candidates), so replay repeats it exactly. It is refused (`NOT_LIQUIDATABLE`) unless the
subaccount is at MMR >= 100% (maintenance margin >= net equity, with some maintenance) or already
`liquidating`. The insurance fund itself is never liquidated: `Liquidate` on the fund shares its
deficit when it has one (it holds what it took over, unhedged, so a later price move can push it
below zero after the backstop) — ADL, then lend-index cuts — and is refused otherwise.

1. **Start.** The subaccount becomes `liquidating`; its pending trigger orders and open orders are
   cancelled. While liquidating it accepts only actions that improve it (deposits, repays,
   reduce-only orders, transfers in); the rest is refused with `ACCOUNT_LIQUIDATING`.
2. **Steps.** Each command runs at most `STEPS_PER_COMMAND` steps, re-evaluating margin before
   each. First its lends are redeemed whole (source `Liquidation`; a pool that cannot pay keeps
   the lend as collateral). Then the largest exposure line (perp notional or borrow notional) gets
   one step (`liquidation_steps.py`); if that line cannot progress within the price band, the next
   one is tried.
3. **The guard.** A step never raises the maintenance margin ratio MMR = maintenance / net equity:
   it is applied only if, without its fee, net equity after x maintenance before >= net equity
   before x maintenance after (so the health, net equity / maintenance, never falls). The 1% fee
   may then take at most half of the step's improvement: MMR after the fee <= the mean of MMR
   before and MMR after without the fee. When the full fee would take more, it is lowered to the
   largest that does not (a binary search over what-if runs). A perp's MMF (about 0.7%) is below
   1%, so without this a perp step's fee would undo all it gains.
4. **Target.** The liquidation ends, clearing `liquidating`, once MMR <= 50%
   (net equity >= 2 x maintenance; with no exposure left, net equity >= 0) — it does not go on to
   liquidate more than that.
5. **Backstop.** When net equity is zero or below, or no line can progress, the insurance fund
   takes over everything the subaccount has at its bankruptcy price (`backstop.py`), and if that
   leaves the fund's value below zero the loss is shared (`loss_sharing.py`).

Every step is an event (`LiquidationStepped`, kept in `EngineState.liquidation_steps`) with the
MMR before and after, and every borrow-lend movement it causes has source `Liquidation`.
"""

from __future__ import annotations

from typing import Final

from crossmargin.core.accounts import Subaccount
from crossmargin.core.backstop import backstop
from crossmargin.core.borrow_lend import redeem
from crossmargin.core.commands import Liquidate
from crossmargin.core.events import BorrowLendSource, LiquidationFinished, LiquidationStarted, LiquidationStepped
from crossmargin.core.insurance import INSURANCE_FUND_ID, ensure_insurance_fund, fund_has_loss_to_share, fund_value_wad
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.liquidation_steps import (
    Line,
    StepResult,
    StepTrade,
    attach_liquidation_fee,
    charge_step_fee,
    exposure_lines,
    trade_step,
)
from crossmargin.core.loss_sharing import share_fund_loss
from crossmargin.core.margin import MarginSummary
from crossmargin.core.numbers import format_scaled
from crossmargin.core.pools import lend_atoms
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.trading import cancel_subaccount_orders
from crossmargin.core.transaction import Transaction
from crossmargin.core.trigger_orders import cancel_triggers

STEPS_PER_COMMAND: Final = 8
TARGET_EQUITY_PER_MAINTENANCE: Final = 2
"""The target: net equity >= 2 x maintenance, i.e. MMR <= 50%."""


def liquidate(tx: Transaction, command: Liquidate) -> Rejection | None:
    """Start or continue the liquidation of a subaccount."""
    subaccount = tx.subaccount(command.subaccount_id)
    if subaccount is None:
        return Rejection(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {command.subaccount_id} does not exist")
    if subaccount.subaccount_id == INSURANCE_FUND_ID:
        return _share_the_funds_loss(tx)
    summary = compute_subaccount_margin(tx, subaccount)
    if not (subaccount.liquidating or summary.is_liquidatable):
        return Rejection(
            RejectReason.NOT_LIQUIDATABLE,
            f"Subaccount {command.subaccount_id} is not liquidatable: maintenance margin "
            f"{format_scaled(summary.maintenance_wad, 18)} USD is below its net equity "
            f"{format_scaled(summary.net_equity_wad, 18)} USD",
        )
    ensure_insurance_fund(tx)
    if not subaccount.liquidating:  # cancelling its orders (and its auto settings) may move its margin
        subaccount = _start(tx, subaccount, summary)
        summary = compute_subaccount_margin(tx, subaccount)
    for _ in range(STEPS_PER_COMMAND):
        if is_at_target(summary):
            _finish(tx, subaccount, summary, backstopped=False)
            return None
        if summary.net_equity_wad > 0 and _redeem_lends(tx, subaccount):
            summary = compute_subaccount_margin(tx, subaccount)
        after = None if summary.net_equity_wad <= 0 else _step(tx, subaccount, summary)
        if after is None:
            backstop(tx, subaccount)
            _finish(tx, subaccount, compute_subaccount_margin(tx, subaccount), backstopped=True)
            return None
        summary = after  # the committed step's what-if state is now the transaction's
    return None


def _share_the_funds_loss(tx: Transaction) -> Rejection | None:
    """`Liquidate` on the fund itself: share its deficit if it has one (it went below zero after a takeover)."""
    if not fund_has_loss_to_share(tx):
        value = fund_value_wad(tx)
        return Rejection(
            RejectReason.NOT_LIQUIDATABLE,
            f"The insurance fund is worth {format_scaled(value, 18)} USD: it has no loss to share",
        )
    share_fund_loss(tx)
    return None


def is_at_target(summary: MarginSummary) -> bool:
    """Return whether a liquidation may stop: MMR <= 50% (or no exposure and no negative equity)."""
    return summary.net_equity_wad >= TARGET_EQUITY_PER_MAINTENANCE * summary.maintenance_wad


def is_no_worse(before: MarginSummary, after: MarginSummary) -> bool:
    """Return whether `after`'s MMR is at most `before`'s (before has positive equity and maintenance)."""
    return after.net_equity_wad * before.maintenance_wad >= before.net_equity_wad * after.maintenance_wad


def fee_keeps_half(before: MarginSummary, bare: MarginSummary, charged: MarginSummary) -> bool:
    """Return whether a step's fee leaves at least half of the MMR improvement the step makes without it.

    With MMR r = maintenance / net equity: r(charged) <= (r(before) + r(bare)) / 2, cross-multiplied
    (equity before is positive; a bare result with no equity left allows no fee that makes equity negative).
    """
    e0, m0 = before.net_equity_wad, before.maintenance_wad
    ez, mz = bare.net_equity_wad, bare.maintenance_wad
    e1, m1 = charged.net_equity_wad, charged.maintenance_wad
    return e1 >= 0 and 2 * m1 * e0 * ez <= e1 * (m0 * ez + mz * e0)


def _start(tx: Transaction, subaccount: Subaccount, summary: MarginSummary) -> Subaccount:
    started = subaccount.with_liquidating(True)  # noqa: FBT003 -- the flag is the value
    tx.subaccounts[subaccount.subaccount_id] = started
    cancel_triggers(tx, subaccount.subaccount_id)  # none may fire after the liquidation (DESIGN: cancel open orders)
    cancel_subaccount_orders(tx, subaccount.subaccount_id, cause=BorrowLendSource.LIQUIDATION)
    tx.emit(LiquidationStarted(subaccount.subaccount_id, summary.maintenance_wad, summary.net_equity_wad, tx.now_ms))
    return started


def _finish(tx: Transaction, subaccount: Subaccount, summary: MarginSummary, *, backstopped: bool) -> None:
    tx.subaccounts[subaccount.subaccount_id] = subaccount.with_liquidating(False)  # noqa: FBT003 -- the flag is the value
    tx.emit(
        LiquidationFinished(
            subaccount.subaccount_id, summary.maintenance_wad, summary.net_equity_wad, backstopped, tx.now_ms
        )
    )


def _redeem_lends(tx: Transaction, subaccount: Subaccount) -> bool:
    """Redeem each lend whole (equity does not move), past the throttle; a pool that cannot pay keeps it.

    Return whether anything was redeemed.
    """
    account = subaccount.subaccount_id
    redeemed = False
    for symbol in sorted(tx.held_symbols(account)):
        position = tx.position(account, symbol)
        lent = 0 if position is None else lend_atoms(position.lend_scaled, tx.pool(symbol).lend_index_ray)
        if not lent:
            continue  # what `tx.holding(...).lend_atoms` says, without reading the balances
        spec = tx.spec(symbol)
        assert spec is not None, "held assets are listed"
        trial = Transaction(tx, tx.now_ms)
        if redeem(trial, account, spec, lent, BorrowLendSource.LIQUIDATION, forced=True) is None:
            trial.commit()
            redeemed = True
    return redeemed


def _step(tx: Transaction, subaccount: Subaccount, before: MarginSummary) -> MarginSummary | None:
    """Run one guarded step on the largest line that can progress; return the margin after it, None if none did."""
    for line in exposure_lines(before):
        after = _guarded_step(tx, subaccount, before, line)
        if after is not None:
            return after
    return None


def _charged(
    trial: Transaction, subaccount: Subaccount, trade: StepTrade, fee_limit: int | None
) -> tuple[Transaction, StepResult, MarginSummary]:
    """Charge the traded step a fee in a child of its trial; return the child, the step and the margin after."""
    charged = Transaction(trial, trial.now_ms)
    result = charge_step_fee(charged, subaccount, trade, fee_limit)
    return charged, result, compute_subaccount_margin(charged, subaccount)


def _guarded_step(tx: Transaction, subaccount: Subaccount, before: MarginSummary, line: Line) -> MarginSummary | None:
    trial = Transaction(tx, tx.now_ms)
    trade = trade_step(trial, subaccount, line)
    if trade is None:
        return None
    if isinstance(trade, StepResult):  # a repay from spot: no order, no fee
        charged, result, after = trial, trade, compute_subaccount_margin(trial, subaccount)
    else:
        charged, result, after = _charged(trial, subaccount, trade, 0)
    if not is_no_worse(before, after):
        return None
    if isinstance(trade, StepTrade):
        charged, result, after = _fee_kept(trial, subaccount, trade, before, (charged, result, after))
        attach_liquidation_fee(trial, trade.order.order_id, result.fee_atoms)
        charged.commit()
    trial.emit(
        LiquidationStepped(
            subaccount.subaccount_id,
            result.kind,
            result.symbol,
            result.quantity_atoms,
            result.quote_atoms,
            result.fee_atoms,
            result.fee_symbol,
            result.order_id,
            _mmr(before),
            _mmr(after),
            tx.now_ms,
        )
    )
    trial.commit()
    return after


def _fee_kept(
    trial: Transaction,
    subaccount: Subaccount,
    trade: StepTrade,
    before: MarginSummary,
    bare: tuple[Transaction, StepResult, MarginSummary],
) -> tuple[Transaction, StepResult, MarginSummary]:
    """Return the step charged the largest fee that keeps half the step's MMR gain (the whole fee if it does)."""
    full = _charged(trial, subaccount, trade, None)
    if fee_keeps_half(before, bare[2], full[2]):
        return full
    kept = bare
    low, high = 0, trade.full_fee_atoms
    while high - low > 1:
        middle = (low + high) // 2
        candidate = _charged(trial, subaccount, trade, middle)
        if fee_keeps_half(before, bare[2], candidate[2]):
            low, kept = middle, candidate
        else:
            high = middle
    return kept


def _mmr(summary: MarginSummary) -> int:
    ratio = summary.maintenance_margin_ratio
    return ratio.wad if ratio is not None else 0
