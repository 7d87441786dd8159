"""The backstop: the insurance fund takes over everything of a subaccount at its bankruptcy price.

When a liquidation cannot go on (net equity is gone, or no line can trade within the band), the
fund takes the subaccount's whole book as it stands, so the subaccount ends flat at zero equity
and whatever equity or deficit it had becomes the fund's:

- spot balances move to the fund's spot balances (a negative one too);
- borrow-lend positions move by their scaled amounts (pool totals do not change); where the fund
  holds the opposite side in that asset, its lend and debt are netted (lenders' claims burn
  against the debt, rounding to the pool);
- a negative spot balance the fund ends with (an uncovered settlement loss) is covered from the
  fund's lend in that asset, then borrowed from the pool, past the throttle but within liquidity
  (source `BackstopProvider`), so lenders can share it as a debt; what neither covers is recorded
  as the fund's uncovered `ShortfallCovered` row;
- perp positions move with their size, basis, entry cost and pending fees and funding, merged into
  the fund's position in the market (open interest follows).

The subaccount's side of each moved position is recorded with source `LiquidationBackstop`, the
fund's side with `BackstopProvider`; the takeover itself is a `Backstopped` event. If the fund's
value is then below zero, the loss is shared (`loss_sharing.py`).
"""

from __future__ import annotations

from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.borrow_lend import borrow, position_value, record_movement, redeem
from crossmargin.core.events import (
    Backstopped,
    BorrowLendEventType,
    BorrowLendSource,
    PerpPositionChanged,
    PerpTakenOver,
    ShortfallCovered,
    TakenOver,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, ensure_insurance_fund
from crossmargin.core.ledger import BORROWERS, LENDERS, ROUNDING, entry, new_tuple, spot
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.loss_sharing import share_fund_loss
from crossmargin.core.perps import PerpPosition
from crossmargin.core.pools import debt_atoms, lend_atoms, scaled_debt_to_burn, scaled_lend_to_burn
from crossmargin.core.trading import cancel_subaccount_orders
from crossmargin.core.transaction import Transaction

BACKSTOP = BorrowLendSource.BACKSTOP_PROVIDER


def backstop(tx: Transaction, subaccount: Subaccount) -> None:
    """Move everything of a subaccount to the insurance fund, then share any loss the fund is left with."""
    ensure_insurance_fund(tx)
    account = subaccount.subaccount_id
    cancel_subaccount_orders(tx, account)
    equity = compute_subaccount_margin(tx, subaccount).net_equity_wad
    holdings: list[TakenOver] = []
    for symbol in sorted(tx.held_symbols(account)):
        holding = tx.holding(account, symbol)
        if holding.spot_atoms:
            tx.post(entry(symbol, (spot(account), -holding.spot_atoms), (spot(INSURANCE_FUND_ID), holding.spot_atoms)))
        position = tx.position(account, symbol)
        if position is not None:
            _take_position(tx, position)
        # Built as a tuple directly: a NamedTuple's own constructor stays interpreted under mypyc.
        taken = (symbol, holding.spot_atoms, holding.lend_atoms, holding.debt_atoms)
        holdings.append(new_tuple(TakenOver, taken))
    perps = tuple(_take_perp(tx, position) for position in tx.subaccount_perp_positions(account))
    tx.emit(Backstopped(account, INSURANCE_FUND_ID, equity, tuple(holdings), perps, tx.now_ms))
    _borrow_what_the_fund_is_short(tx)
    share_fund_loss(tx)


def _take_position(tx: Transaction, position: Position) -> None:
    symbol = position.symbol
    pool = tx.pool(symbol)
    lent = lend_atoms(position.lend_scaled, pool.lend_index_ray)
    owed = debt_atoms(position.debt_scaled, pool.borrow_index_ray)
    emptied = position.moved(0, 0, 0)
    tx.set_position(emptied)
    leaving = BorrowLendEventType.LEND_REDEEM if position.lend_scaled else BorrowLendEventType.BORROW_REPAY
    record_movement(tx, lent - owed, emptied, leaving, BorrowLendSource.LIQUIDATION_BACKSTOP, lent or owed, 0)
    fund = tx.position(INSURANCE_FUND_ID, symbol) or Position(tx.new_position_id(), INSURANCE_FUND_ID, symbol)
    fund_before = position_value(tx, fund)
    lend_left, debt_left = net_lend_and_debt(
        tx, symbol, fund.lend_scaled + position.lend_scaled, fund.debt_scaled + position.debt_scaled
    )
    pool = tx.pool(symbol)
    principal = lend_atoms(lend_left, pool.lend_index_ray) + debt_atoms(debt_left, pool.borrow_index_ray)
    taken = fund.moved(lend_left, debt_left, principal)
    tx.set_position(taken)
    arriving = BorrowLendEventType.LEND if position.lend_scaled else BorrowLendEventType.BORROW
    record_movement(tx, fund_before, taken, arriving, BorrowLendSource.BACKSTOP_PROVIDER, lent or owed, 0)


def net_lend_and_debt(tx: Transaction, symbol: str, lend_scaled: int, debt_scaled: int) -> tuple[int, int]:
    """Burn a lend against a debt of one holder in one pool; return the scaled lend and debt left.

    The lenders' claims removed are at least the debt removed (claims burn rounded up, debt rounded
    down); the difference goes to ROUNDING, so the pool never loses (INV-POOL-1).
    """
    if not (lend_scaled and debt_scaled):
        return lend_scaled, debt_scaled
    pool = tx.pool(symbol)
    claim = lend_atoms(lend_scaled, pool.lend_index_ray)
    owed = debt_atoms(debt_scaled, pool.borrow_index_ray)
    if claim >= owed:
        burn_lend, burn_debt = min(lend_scaled, scaled_lend_to_burn(owed, pool.lend_index_ray)), debt_scaled
    else:
        burn_lend, burn_debt = lend_scaled, scaled_debt_to_burn(claim, pool.borrow_index_ray)
    after = pool.with_totals(pool.debt_scaled_total - burn_debt, pool.lend_scaled_total - burn_lend)
    claims_removed = pool.lent_atoms - after.lent_atoms
    debt_removed = pool.borrowed_atoms - after.borrowed_atoms
    assert claims_removed >= debt_removed, "netting never takes more debt off than claims"
    tx.post(
        entry(symbol, (LENDERS, -claims_removed), (BORROWERS, debt_removed), (ROUNDING, claims_removed - debt_removed))
    )
    tx.pools[symbol] = after
    return lend_scaled - burn_lend, debt_scaled - burn_debt


def _take_perp(tx: Transaction, position: PerpPosition) -> PerpTakenOver:
    market = position.market
    fund = tx.perp_position(INSURANCE_FUND_ID, market) or PerpPosition(tx.new_position_id(), INSURANCE_FUND_ID, market)
    merged = fund._replace(
        quantity_atoms=fund.quantity_atoms + position.quantity_atoms,
        basis_atoms=fund.basis_atoms + position.basis_atoms,
        entry_cost_atoms=fund.entry_cost_atoms + position.entry_cost_atoms,
        pending_fee_atoms=fund.pending_fee_atoms + position.pending_fee_atoms,
        pending_funding_atoms=fund.pending_funding_atoms + position.pending_funding_atoms,
        pending_system_fee_atoms=fund.pending_system_fee_atoms + position.pending_system_fee_atoms,
    )
    long_change = max(merged.quantity_atoms, 0) - max(fund.quantity_atoms, 0) - max(position.quantity_atoms, 0)
    tx.open_interest_atoms[market] = tx.open_interest(market) + long_change
    emptied = PerpPosition(position.position_id, SubaccountId(position.subaccount_id), market)
    emptied = emptied._replace(realized_pnl_atoms=position.realized_pnl_atoms)
    for changed in (emptied, merged):
        tx.set_perp_position(changed)
        tx.emit(PerpPositionChanged(changed, tx.now_ms))
    return PerpTakenOver(
        market,
        position.quantity_atoms,
        position.basis_atoms,
        position.pending_fee_atoms,
        position.pending_funding_atoms,
        position.pending_system_fee_atoms,
    )


def _borrow_what_the_fund_is_short(tx: Transaction) -> None:
    """Cover a negative spot balance the fund took over: redeem its lend, then borrow from the pool.

    Both pass the throttle (liquidations never pause) but not the pool's liquidity; what stays
    uncovered is recorded as the fund's `ShortfallCovered` row, so the audit (INV-LEDGER-3) reads
    the negative balance as owed, as it does for a settlement's uncovered shortfall.
    """
    for symbol in sorted(tx.held_symbols(INSURANCE_FUND_ID)):
        holding = tx.holding(INSURANCE_FUND_ID, symbol)
        short = -holding.spot_atoms
        if short <= 0:
            continue
        spec = tx.spec(symbol)
        assert spec is not None, "held assets are listed"
        redeemed = borrowed = 0
        trial = Transaction(tx, tx.now_ms)
        if holding.lend_atoms and not redeem(
            trial, INSURANCE_FUND_ID, spec, min(short, holding.lend_atoms), BACKSTOP, forced=True
        ):
            trial.commit()
            redeemed = min(short, holding.lend_atoms)
        trial = Transaction(tx, tx.now_ms)
        left = short - redeemed
        if (
            left
            and not tx.holding(INSURANCE_FUND_ID, symbol).lend_atoms
            and not borrow(trial, INSURANCE_FUND_ID, spec, left, BACKSTOP, forced=True)
        ):
            trial.commit()
            borrowed = left
        if short - redeemed - borrowed:
            tx.emit(
                ShortfallCovered(
                    INSURANCE_FUND_ID,
                    symbol,
                    short,
                    redeemed,
                    borrowed,
                    conversions=(),
                    uncovered_atoms=short - redeemed - borrowed,
                    auto_borrow_settlements=False,
                    at_ms=tx.now_ms,
                )
            )
