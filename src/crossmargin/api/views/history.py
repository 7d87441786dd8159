"""History views: deposits, withdrawals, borrow-lend movements, interest payments and positions.

All are read from the history lists in the state (deposits, withdrawals, movements, entry fees)
and the pools' hourly accrual records; nothing is stored per row that could drift from them. A
deposit's or withdrawal's id is its index in the state's list. A position's history is rebuilt
from its movements: it opened with the first (its source and side), it is open while the state
still holds it, and its cumulative interest is its value now minus the principal its movements
brought in (borrowed or lent, less repaid or redeemed) -- for a closed position, the interest it
paid or earned in all. Rows come newest first unless `sortDirection=Asc`; the caller pages them
with `page()`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from enum import StrEnum
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    SortDirection,
    amount,
    choice,
    naive_time,
    require_subaccount,
    sort_newest_first,
    spot_market_symbol,
    wad,
)
from crossmargin.api.views.public import blockchain_of
from crossmargin.core.assets import AssetSpec
from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved
from crossmargin.core.history import InterestRow, compute_interest_history
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState, at_indexes


def paper_transaction_hash(kind: str, index: int, subaccount_id: SubaccountId, symbol: str, at_ms: int) -> str:
    """Return the simulated chain transaction hash of a deposit or withdrawal, as `0x` and 64 hex digits.

    No chain moves paper money, but Backpack reports every confirmed transfer with its hash and
    clients key on it (ccxt's `txid`). The hash is SHA-256 of what identifies the row, so it is
    stable across restarts and replicas and differs between rows.
    """
    identity = f"crossmargin:{kind}:{index}:{subaccount_id}:{symbol}:{at_ms}"
    return "0x" + hashlib.sha256(identity.encode()).hexdigest()


# Deposits are credited by the operator's API: Backpack's source for those is `administrator`.
DEPOSIT_SOURCE: Final = "administrator"
# Withdrawals leave at once, free, to no address the engine records.
WITHDRAWAL_FEE: Final = "0"
WITHDRAWAL_ADDRESS: Final = ""
CONFIRMED: Final = "confirmed"
PENDING: Final = "pending"
"""A withdrawal a withdrawal delay still holds (`core/withdrawal_delay.py`); its hash is its future one."""

# Backpack's `BorrowLendSource` values (the engine produces a subset): filtering on any of them is valid.
SPEC_BORROW_LEND_SOURCES: Final = (
    "AdlProvider",
    "AutoBorrowRepay",
    "AutoLend",
    "BackstopProvider",
    "DustConversion",
    "Interest",
    "Liquidation",
    "LiquidationAdl",
    "LiquidationBackstop",
    "Manual",
    "Reconciliation",
    "Rfq",
    "SpotMargin",
    "Withdrawal",
)
BORROW_EVENTS: Final = (BorrowLendEventType.BORROW, BorrowLendEventType.BORROW_REPAY)


class InterestPaymentSource(StrEnum):
    """Backpack's `InterestPaymentSource`: borrow-lend positions, or unrealized PnL (none yet)."""

    UNREALIZED_PNL = "UnrealizedPnl"
    BORROW_LEND = "BorrowLend"


class BorrowLendSide(StrEnum):
    """Backpack's `BorrowLendSide`, as a history filter."""

    BORROW = "Borrow"
    LEND = "Lend"


class BorrowLendPositionState(StrEnum):
    """Backpack's `BorrowLendPositionState`."""

    OPEN = "Open"
    CLOSED = "Closed"


def _within(at_ms: int, from_ms: int | None, to_ms: int | None) -> bool:
    return (from_ms is None or at_ms >= from_ms) and (to_ms is None or at_ms <= to_ms)


def _ordered(rows: list[JsonValue], direction: str | None) -> list[JsonValue]:
    """Return rows (given oldest first) in the requested direction."""
    return rows[::-1] if sort_newest_first(choice(SortDirection, direction, "sortDirection")) else rows


def view_deposits(
    state: EngineState, subaccount_id: SubaccountId, from_ms: int | None = None, to_ms: int | None = None
) -> list[JsonValue]:
    """Return `GET /wapi/v1/capital/deposits`: the subaccount's deposits, newest first."""
    require_subaccount(state, subaccount_id)
    rows: list[JsonValue] = [
        {
            "id": index,
            "source": DEPOSIT_SOURCE,
            "status": CONFIRMED,
            "symbol": deposit.symbol,
            "quantity": amount(deposit.quantity_atoms, state.specs[deposit.symbol]),
            "transactionHash": paper_transaction_hash("deposit", index, subaccount_id, deposit.symbol, deposit.at_ms),
            "createdAt": naive_time(deposit.at_ms),
        }
        for index, deposit in at_indexes(state.deposits, state.history_of("deposits", subaccount_id))
        if _within(deposit.at_ms, from_ms, to_ms)
    ]
    return rows[::-1]


def view_withdrawals(
    state: EngineState,
    subaccount_id: SubaccountId,
    withdrawal_id: int | None = None,
    client_id: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/capital/withdrawals`: the subaccount's withdrawals, newest first."""
    require_subaccount(state, subaccount_id)
    rows: list[JsonValue] = [
        {
            "id": index,
            "blockchain": withdrawal.blockchain or blockchain_of(withdrawal.symbol),
            "quantity": amount(withdrawal.quantity_atoms, state.specs[withdrawal.symbol]),
            "fee": WITHDRAWAL_FEE,
            "symbol": withdrawal.symbol,
            "status": PENDING if (withdrawal.release_ms or 0) > state.now_ms else CONFIRMED,
            "subaccountId": subaccount_id,
            "toAddress": withdrawal.address or WITHDRAWAL_ADDRESS,
            "transactionHash": paper_transaction_hash(
                "withdrawal", index, subaccount_id, withdrawal.symbol, withdrawal.at_ms
            ),
            "createdAt": naive_time(withdrawal.at_ms),
            "isInternal": False,
            **({"clientId": withdrawal.client_id} if withdrawal.client_id else {}),
        }
        for index, withdrawal in at_indexes(state.withdrawals, state.history_of("withdrawals", subaccount_id))
        if withdrawal_id in (None, index)
        and client_id in (None, withdrawal.client_id)
        and _within(withdrawal.at_ms, from_ms, to_ms)
    ]
    return rows[::-1]


def _sources(text: str | None) -> set[str] | None:
    if text is None:
        return None
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(SPEC_BORROW_LEND_SOURCES))
    if unknown:
        raise ApiError(f"sources: {unknown[0]!r} is not one of {', '.join(SPEC_BORROW_LEND_SOURCES)}", "INVALID_SOURCE")
    return wanted


def _movement(state: EngineState, movement: BorrowLendMoved) -> JsonObject:
    spec = state.specs[movement.symbol]
    return {
        "eventType": movement.event_type.value,
        "positionId": str(movement.position_id),
        "positionQuantity": amount(abs(movement.position_net_atoms), spec),
        "quantity": amount(movement.quantity_atoms, spec),
        "source": movement.source.value,
        "symbol": movement.symbol,
        "timestamp": naive_time(movement.at_ms),
    }


def view_borrow_lend_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    event_type: str | None = None,
    sources: str | None = None,
    position_id: str | None = None,
    symbol: str | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/borrowLend`: every borrow, repay, lend and redeem, with its source.

    `positionQuantity` is the size of the position after the movement (its side is the event's).
    """
    require_subaccount(state, subaccount_id)
    wanted_type = choice(BorrowLendEventType, event_type, "type")
    wanted_sources = _sources(sources)

    def keep(movement: BorrowLendMoved) -> bool:
        return (
            wanted_type in (None, movement.event_type)
            and (wanted_sources is None or movement.source.value in wanted_sources)
            and position_id in (None, str(movement.position_id))
            and symbol in (None, movement.symbol)
        )

    movements = at_indexes(state.movements, state.history_of("movements", subaccount_id))
    rows: list[JsonValue] = [_movement(state, movement) for _, movement in movements if keep(movement)]
    return _ordered(rows, sort_direction)


def _interest(spec: AssetSpec, row: InterestRow) -> JsonObject:
    return {
        "paymentType": row.kind.value,
        "interestRate": wad(row.rate_wad),
        "interval": row.interval_ms,
        "marketSymbol": spot_market_symbol(row.symbol),
        "positionId": str(row.position_id),
        "quantity": amount(row.quantity_atoms, spec),
        "symbol": row.symbol,
        "timestamp": naive_time(row.at_ms),
    }


def view_interest_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    asset: str | None = None,
    symbol: str | None = None,
    position_id: str | None = None,
    source: str | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/interest`: entry fees and hourly interest, newest first.

    Quantities are positive: on a borrow position `paymentType` says what was paid (`Borrow` each
    hour, `EntryFee` when it opened); on a lend position what was earned (`Lend` each hour,
    `EntryFee` for its share of another user's entry fee, with `interestRate` 0 and the fee's
    `interval`). `interval` is the span the payment covers, in milliseconds. The one exception is
    a lender's share of a loss (a lend-index cut): a `Lend` row with a negative quantity,
    `interestRate` 0 and `interval` 0 (Backpack's `PaymentType` has no value for it).
    """
    require_subaccount(state, subaccount_id)
    if choice(InterestPaymentSource, source, "source") is InterestPaymentSource.UNREALIZED_PNL:
        return []
    newest_first = compute_interest_history(state, subaccount_id)
    rows: list[JsonValue] = [
        _interest(state.specs[row.symbol], row)
        for row in reversed(newest_first)
        if asset in (None, row.symbol)
        and symbol in (None, spot_market_symbol(row.symbol))
        and position_id in (None, str(row.position_id))
    ]
    return _ordered(rows, sort_direction)


def _average_rate(rows: list[InterestRow]) -> int:
    """Return the time-weighted average APR (WAD, rounded down) of a position's interest rows."""
    span = sum(row.interval_ms for row in rows)
    if span == 0:
        return 0
    return sum(row.rate_wad * row.interval_ms for row in rows) // span


def _position_value(state: EngineState, subaccount_id: SubaccountId, first: BorrowLendMoved) -> int | None:
    """Return an open position's value now (debt or lend, atoms), or None once it closed."""
    position = state.positions.get((subaccount_id, first.symbol))
    if position is None or position.position_id != first.position_id:
        return None
    pool = state.pools[first.symbol]
    if first.event_type in BORROW_EVENTS:
        return debt_atoms(position.debt_scaled, pool.borrow_index_ray)
    return lend_atoms(position.lend_scaled, pool.lend_index_ray)


def _principal(movements: list[BorrowLendMoved]) -> int:
    """Return what the movements brought into the position: borrowed or lent, less repaid or redeemed."""
    entering = (BorrowLendEventType.BORROW, BorrowLendEventType.LEND)
    return sum(move.quantity_atoms if move.event_type in entering else -move.quantity_atoms for move in movements)


def _position_row(
    state: EngineState, subaccount_id: SubaccountId, movements: list[BorrowLendMoved], interest: list[InterestRow]
) -> tuple[BorrowLendPositionState, BorrowLendSide, JsonObject]:
    first = movements[0]
    spec = state.specs[first.symbol]
    value = _position_value(state, subaccount_id, first)
    side = BorrowLendSide.BORROW if first.event_type in BORROW_EVENTS else BorrowLendSide.LEND
    row_state = BorrowLendPositionState.CLOSED if value is None else BorrowLendPositionState.OPEN
    return (
        row_state,
        side,
        {
            "positionId": str(first.position_id),
            "quantity": amount(value or 0, spec),
            "symbol": first.symbol,
            "source": first.source.value,
            "cumulativeInterest": amount((value or 0) - _principal(movements), spec),
            "avgInterestRate": wad(_average_rate(interest)),
            "side": side.value,
            "createdAt": naive_time(first.at_ms),
        },
    )


def view_borrow_lend_position_history(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    side: str | None = None,
    position_state: str | None = None,
    sort_direction: str | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/history/borrowLend/positions`: open and closed positions, newest first.

    A closed position's `quantity` is "0"; `avgInterestRate` is the APR of its interest rows
    weighted by the time each covers (entry fee included).
    """
    require_subaccount(state, subaccount_id)
    wanted_side = choice(BorrowLendSide, side, "side")
    wanted_state = choice(BorrowLendPositionState, position_state, "state")
    timelines: dict[PositionId, list[BorrowLendMoved]] = defaultdict(list)
    for _, movement in at_indexes(state.movements, state.history_of("movements", subaccount_id)):
        if symbol in (None, movement.symbol):
            timelines[movement.position_id].append(movement)
    interest: dict[PositionId, list[InterestRow]] = defaultdict(list)
    for charge in compute_interest_history(state, subaccount_id):
        interest[charge.position_id].append(charge)
    rows: list[JsonValue] = []
    for position_id, movements in timelines.items():  # first movements are in time order
        row_state, row_side, row = _position_row(state, subaccount_id, movements, interest[position_id])
        if wanted_side in (None, row_side) and wanted_state in (None, row_state):
            rows.append(row)
    return _ordered(rows, sort_direction)
