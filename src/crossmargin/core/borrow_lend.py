"""Lend, redeem, borrow and repay: the four movements of a borrow-lend position.

Each function checks its rules against a transaction, then posts one balanced entry and stores
the new pool and position in it. The pool never loses to rounding: a borrow mints scaled debt
rounded up, a repay burns it rounded down, a lend mints scaled lend rounded down and a redeem
burns it rounded up; what the aggregate totals differ from the user's amount by goes to the
ROUNDING account. A new borrow pays the entry fee (interest until the next full hour) into its
debt at once, shared between lenders and fee income like hourly interest (INV-POOL-3).
The rules a movement must pass (pool state, utilization, limits) and the entry fee's rate are in
`pool_rules.py`.
"""

from __future__ import annotations

from crossmargin.core.accounts import Position
from crossmargin.core.assets import AssetSpec, describe
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource, EntryFeeCharged
from crossmargin.core.ids import SubaccountId
from crossmargin.core.interest import (
    next_hour_ms,
)
from crossmargin.core.ledger import BORROWERS, FEE_INCOME, LENDERS, ROUNDING, entry, spot
from crossmargin.core.numbers import WAD, mul_div_down
from crossmargin.core.pool_rules import check_borrow_limits, check_pool_open, check_utilization, entry_fee_and_rate
from crossmargin.core.pools import (
    Pool,
    credit_lenders,
    debt_atoms,
    lend_atoms,
    scaled_debt_to_burn,
    scaled_debt_to_mint,
    scaled_lend_to_burn,
    scaled_lend_to_mint,
)
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def pool_reserves(tx: Transaction, symbol: str) -> int:
    """Return what the exchange's own claims (fee income, rounding) leave in the pool."""
    return tx.balance(FEE_INCOME, symbol) + tx.balance(ROUNDING, symbol)


def pool_supplied(tx: Transaction, symbol: str) -> int:
    """Return everything supplied to the pool: lenders' claims plus reserves."""
    return tx.pool(symbol).lent_atoms + pool_reserves(tx, symbol)


def pool_liquidity(tx: Transaction, symbol: str) -> int:
    """Return what the pool holds and could lend or pay out now."""
    return pool_supplied(tx, symbol) - tx.pool(symbol).borrowed_atoms


def _position_or_new(tx: Transaction, subaccount_id: SubaccountId, symbol: str) -> Position:
    found = tx.position(subaccount_id, symbol)
    if found is not None:
        return found
    return Position(tx.new_position_id(), subaccount_id, symbol)


def position_value(tx: Transaction, position: Position) -> int:
    """Return a position's value at the pool's indices now: +lend (rounded down), -debt (rounded up)."""
    pool = tx.pool(position.symbol)
    return lend_atoms(position.lend_scaled, pool.lend_index_ray) - debt_atoms(
        position.debt_scaled, pool.borrow_index_ray
    )


def record_movement(
    tx: Transaction,
    value_before_atoms: int,
    position: Position,
    event_type: BorrowLendEventType,
    source: BorrowLendSource,
    quantity_atoms: int,
    balance_change_atoms: int,
) -> None:
    """Emit the movement of a position that just changed: its value before and after, the balance's change."""
    tx.emit(
        BorrowLendMoved(
            subaccount_id=position.subaccount_id,
            symbol=position.symbol,
            event_type=event_type,
            source=source,
            quantity_atoms=quantity_atoms,
            position_id=position.position_id,
            position_net_atoms=position_value(tx, position),
            position_scaled_after=position.lend_scaled or position.debt_scaled,
            at_ms=tx.now_ms,
            position_net_before_atoms=value_before_atoms,
            balance_change_atoms=balance_change_atoms,
        )
    )


def lend(
    tx: Transaction, subaccount_id: SubaccountId, spec: AssetSpec, atoms: int, source: BorrowLendSource
) -> Rejection | None:
    """Move `atoms` of the spot balance into the pool as a lend."""
    symbol = spec.symbol
    refused = check_pool_open(spec, "lending")
    if refused:
        return refused
    available = tx.balance(spot(subaccount_id), symbol)
    if atoms > available:
        return Rejection(
            RejectReason.BALANCE_INSUFFICIENT,
            f"Lend of {describe(spec, atoms)} exceeds your available balance of {describe(spec, available)}",
        )
    pool = tx.pool(symbol)
    if pool.lent_atoms + atoms > spec.open_borrow_lend_limit_atoms:
        room = max(0, spec.open_borrow_lend_limit_atoms - pool.lent_atoms)
        return Rejection(
            RejectReason.OPEN_BORROW_LEND_LIMIT_EXCEEDED,
            f"The {symbol} pool accepts at most {describe(spec, room)} more lending",
        )
    minted = scaled_lend_to_mint(atoms, pool.lend_index_ray)
    if minted == 0:
        return Rejection(
            RejectReason.QUANTITY_BELOW_MINIMUM,
            f"Lend of {describe(spec, atoms)} is too small to buy any share of the {symbol} pool",
        )
    position = _position_or_new(tx, subaccount_id, symbol)
    assert position.debt_scaled == 0, "lend is only called on a position without debt"
    value_before = position_value(tx, position)
    pool_after = pool.with_totals(pool.debt_scaled_total, pool.lend_scaled_total + minted)
    claims_added = pool_after.lent_atoms - pool.lent_atoms
    assert 0 <= claims_added <= atoms, "a lend never creates more claims than it brings"
    tx.post(entry(symbol, (spot(subaccount_id), -atoms), (LENDERS, claims_added), (ROUNDING, atoms - claims_added)))
    tx.pools[symbol] = pool_after
    position = position.moved(position.lend_scaled + minted, 0, position.principal_atoms + atoms)
    tx.set_position(position)
    record_movement(tx, value_before, position, BorrowLendEventType.LEND, source, atoms, -atoms)
    return None


def redeem(
    tx: Transaction,
    subaccount_id: SubaccountId,
    spec: AssetSpec,
    atoms: int,
    source: BorrowLendSource,
    *,
    forced: bool = False,
) -> Rejection | None:
    """Take `atoms` of a lend back into the spot balance; all of it if `atoms` is the whole claim.

    `forced` is a liquidation's redemption: liquidations never pause, so it passes the throttle and
    `maxUtilization`, bounded only by the pool's liquidity.
    """
    symbol = spec.symbol
    position = tx.position(subaccount_id, symbol)
    pool = tx.pool(symbol)
    claim = lend_atoms(position.lend_scaled, pool.lend_index_ray) if position else 0
    if position is None or atoms > claim:
        return Rejection(
            RejectReason.LEND_INSUFFICIENT,
            f"Redeem of {describe(spec, atoms)} exceeds your lend of {describe(spec, claim)}",
        )
    liquidity = pool_liquidity(tx, symbol)
    if atoms > liquidity:
        return Rejection(
            RejectReason.POOL_LIQUIDITY_INSUFFICIENT,
            f"The {symbol} pool can pay out at most {describe(spec, liquidity)} now; the rest is borrowed",
        )
    supplied_after = pool_supplied(tx, symbol) - atoms
    refused = (
        None
        if forced
        else check_utilization(spec, pool, pool_supplied(tx, symbol), pool.borrowed_atoms, supplied_after, "redeeming")
    )
    if refused:
        return refused
    value_before = claim
    burned = position.lend_scaled if atoms == claim else scaled_lend_to_burn(atoms, pool.lend_index_ray)
    pool_after = pool.with_totals(pool.debt_scaled_total, pool.lend_scaled_total - burned)
    claims_removed = pool.lent_atoms - pool_after.lent_atoms
    assert claims_removed >= atoms, "a redeem removes at least the claims it pays out"
    tx.post(entry(symbol, (spot(subaccount_id), atoms), (LENDERS, -claims_removed), (ROUNDING, claims_removed - atoms)))
    tx.pools[symbol] = pool_after
    position = position.moved(position.lend_scaled - burned, position.debt_scaled, position.principal_atoms - atoms)
    tx.set_position(position)
    record_movement(tx, value_before, position, BorrowLendEventType.LEND_REDEEM, source, atoms, atoms)
    return None


def borrow(
    tx: Transaction,
    subaccount_id: SubaccountId,
    spec: AssetSpec,
    atoms: int,
    source: BorrowLendSource,
    *,
    forced: bool = False,
) -> Rejection | None:
    """Borrow `atoms` into the spot balance, charging the entry fee into the debt. No margin check.

    `forced` is the backstop's borrow of what the insurance fund is short: it passes the throttle
    and `maxUtilization` (liquidations never pause), bounded by liquidity and the borrow limits.
    """
    symbol = spec.symbol
    refused = _check_borrowable(tx, spec, atoms)
    if refused:
        return refused
    pool = tx.pool(symbol)
    supplied = pool_supplied(tx, symbol)  # before the borrow posts anything: the same all through
    interval = next_hour_ms(tx.now_ms) - tx.now_ms
    rate, fee = entry_fee_and_rate(spec, pool, supplied, atoms, interval)
    position = _position_or_new(tx, subaccount_id, symbol)
    assert position.lend_scaled == 0, "borrow is only called on a position without a lend"
    value_before = position_value(tx, position)
    minted = scaled_debt_to_mint(atoms + fee, pool.borrow_index_ray)
    pool_minted = pool.with_totals(pool.debt_scaled_total + minted, pool.lend_scaled_total)
    debt_added = pool_minted.borrowed_atoms - pool.borrowed_atoms
    assert debt_added >= atoms + fee, "a borrow adds at least its amount and fee to the debt"
    pool_credited, credited = credit_lenders(pool_minted, mul_div_down(fee, WAD - spec.fee.wad, WAD))
    fee_income = fee - credited
    rounding = debt_added - atoms - fee
    supplied_after = supplied + credited + fee_income + rounding
    refused = (
        None
        if forced
        else check_utilization(spec, pool, supplied, pool_credited.borrowed_atoms, supplied_after, "borrowing")
    )
    refused = refused or check_borrow_limits(
        spec, pool_credited, debt_atoms(position.debt_scaled + minted, pool.borrow_index_ray)
    )
    if refused:
        return refused
    tx.post(
        entry(
            symbol,
            (spot(subaccount_id), atoms),
            (BORROWERS, -debt_added),
            (LENDERS, credited),
            (FEE_INCOME, fee_income),
            (ROUNDING, rounding),
        )
    )
    tx.pools[symbol] = Pool(
        symbol,
        pool_credited.borrow_index_ray,
        pool_credited.lend_index_ray,
        pool_credited.debt_scaled_total,
        pool_credited.lend_scaled_total,
        pool.interest_borrowers_atoms + fee,
        pool.interest_lenders_atoms + credited,
        pool.interest_fee_atoms + fee_income,
    )
    position = position.moved(0, position.debt_scaled + minted, position.principal_atoms + atoms)
    tx.set_position(position)
    record_movement(tx, value_before, position, BorrowLendEventType.BORROW, source, atoms, atoms)
    lend_index = (pool_minted.lend_index_ray, pool_credited.lend_index_ray)
    _record_entry_fee(tx, position, fee, rate, interval, lend_index)
    return None


def _record_entry_fee(
    tx: Transaction, position: Position, fee: int, rate: int, interval: int, lend_index: tuple[int, int]
) -> None:
    """Emit a borrow's entry fee, with the lend index its lenders' share moved (for their rows)."""
    tx.emit(
        EntryFeeCharged(
            position.subaccount_id,
            position.symbol,
            position.position_id,
            fee,
            rate,
            interval,
            tx.now_ms,
            lend_index_before_ray=lend_index[0],
            lend_index_after_ray=lend_index[1],
            movements_before=tx.movement_count(),
        )
    )


def _check_borrowable(tx: Transaction, spec: AssetSpec, atoms: int) -> Rejection | None:
    """Refuse a borrow from a pool that is not open, has no price, or lacks the liquidity."""
    refused = check_pool_open(spec, "borrowing")
    if refused:
        return refused
    if tx.mark_price(spec.symbol) == 0:
        return Rejection(
            RejectReason.MARK_PRICE_MISSING, f"{spec.symbol} has no mark price yet, so it cannot be borrowed"
        )
    liquidity = pool_liquidity(tx, spec.symbol)
    if atoms > liquidity:
        return Rejection(
            RejectReason.POOL_LIQUIDITY_INSUFFICIENT,
            f"The {spec.symbol} pool has only {describe(spec, liquidity)} available to borrow",
        )
    return None


def repay(
    tx: Transaction, subaccount_id: SubaccountId, spec: AssetSpec, atoms: int, source: BorrowLendSource
) -> Rejection | None:
    """Repay `atoms` of a debt from the spot balance; all of it, to the atom, if `atoms` is the debt."""
    symbol = spec.symbol
    position = tx.position(subaccount_id, symbol)
    pool = tx.pool(symbol)
    debt = debt_atoms(position.debt_scaled, pool.borrow_index_ray) if position else 0
    assert position is not None, "repay is only called on a position with debt"
    assert 0 < atoms <= debt, "repay is called with at most the debt"
    available = tx.balance(spot(subaccount_id), symbol)
    if atoms > available:
        return Rejection(
            RejectReason.BALANCE_INSUFFICIENT,
            f"Repay of {describe(spec, atoms)} exceeds your available balance of {describe(spec, available)}",
        )
    value_before = -debt
    burned = position.debt_scaled if atoms == debt else scaled_debt_to_burn(atoms, pool.borrow_index_ray)
    pool_after = pool.with_totals(pool.debt_scaled_total - burned, pool.lend_scaled_total)
    debt_removed = pool.borrowed_atoms - pool_after.borrowed_atoms
    assert 0 <= debt_removed <= atoms, "a repay removes at most the debt it pays"
    tx.post(entry(symbol, (spot(subaccount_id), -atoms), (BORROWERS, debt_removed), (ROUNDING, atoms - debt_removed)))
    tx.pools[symbol] = pool_after
    position = position.moved(position.lend_scaled, position.debt_scaled - burned, position.principal_atoms - atoms)
    tx.set_position(position)
    record_movement(tx, value_before, position, BorrowLendEventType.BORROW_REPAY, source, atoms, -atoms)
    return None
