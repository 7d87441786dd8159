"""Statements: every movement of a subaccount's assets, with its cause, adding up to the atom.

For one subaccount and asset, what it *has* is its balance (spot, plus what open orders lock) and
its borrow-lend position's value (+lend, -debt). A statement lists every change of that total with
its time, kind and cause, read from the history the state keeps anyway:

| kind | from | changes |
|---|---|---|
| `Deposit`, `Withdrawal`, `Transfer` | deposits, withdrawals, transfers | balance |
| `BorrowLend` | borrow-lend movements (cause: event type and source) | balance and position |
| `Interest` | interest rows (`history.py`): hours, entry fees, lenders' fee shares, cuts | position |
| `Trade` | spot fills, net of the fee in the asset received (a liquidation's 1% too) | balance |
| `Settlement` | perp settlements: PnL, trading fees, liquidation fees, funding | balance |
| `LiquidationFee` | the insurance fund's receipt of a liquidation fee | balance (fund) |
| `LiquidationBackstop` | balances the fund took over | balance |
| `DustConversion` | dust conversions: the dust leaving, the USDC arriving | balance |

A row carries the change of the balance and the change of the position separately: a lend of 1,000
USDC takes 1,000 from the balance and adds 999.999999 to the position, and the row shows the
atom that went to the pool's rounding. INV-STATEMENT-1: for every subaccount and asset, the rows
add up to its balance plus its position's value now, exactly; the audit checks it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, EntryFeeCharged, LiquidationStepKind
from crossmargin.core.fills import Fill
from crossmargin.core.history import interest_rows_of_positions
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.ledger import locked, spot
from crossmargin.core.orders import OrderSide
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.settled_index import numbered_settled_rows
from crossmargin.core.state import EngineState, at_indexes


class StatementKind(StrEnum):
    """What kind of movement a statement row is."""

    DEPOSIT = "Deposit"
    WITHDRAWAL = "Withdrawal"
    TRANSFER = "Transfer"
    BORROW_LEND = "BorrowLend"
    INTEREST = "Interest"
    TRADE = "Trade"
    SETTLEMENT = "Settlement"
    LIQUIDATION_FEE = "LiquidationFee"
    LIQUIDATION_BACKSTOP = "LiquidationBackstop"
    DUST_CONVERSION = "DustConversion"


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One movement of one asset of one subaccount: when, what, why, and how much it changed.

    `order` breaks ties between rows of one millisecond in the order they happened (the number
    of the record behind the row in `EngineState.history_sequence`, then the row's place among
    that record's rows); `reference` names the record behind it (an order, a trade, a position).
    """

    subaccount_id: SubaccountId
    symbol: str
    at_ms: int
    order: tuple[int, int]
    kind: StatementKind
    cause: str
    reference: str
    balance_change_atoms: int
    position_change_atoms: int

    @property
    def change_atoms(self) -> int:
        """Return the change of what the subaccount has of the asset: balance plus position."""
        return self.balance_change_atoms + self.position_change_atoms


def holding_total(state: EngineState, subaccount_id: SubaccountId, symbol: str) -> int:
    """Return what a subaccount has of an asset now: spot and locked balance plus its position's value."""
    total = state.ledger.get((spot(subaccount_id), symbol), 0) + state.ledger.get((locked(subaccount_id), symbol), 0)
    position = state.positions.get((subaccount_id, symbol))
    if position is not None:
        pool = state.pools[symbol]
        total += lend_atoms(position.lend_scaled, pool.lend_index_ray)
        total -= debt_atoms(position.debt_scaled, pool.borrow_index_ray)
    return total


def statement_rows(state: EngineState, subaccount_id: SubaccountId | None = None) -> list[StatementRow]:
    """Return every statement row (of one subaccount, if given), in the order they happened."""
    rows = [
        row for row in _all_rows(state, subaccount_id) if subaccount_id is None or row.subaccount_id == subaccount_id
    ]
    rows.sort(key=lambda row: (row.at_ms, row.order))
    return rows


def statement_totals(state: EngineState) -> dict[tuple[SubaccountId, str], int]:
    """Return, per subaccount and asset, what its statement rows add up to."""
    totals: dict[tuple[SubaccountId, str], int] = defaultdict(int)
    for row in _all_rows(state, None):
        totals[(row.subaccount_id, row.symbol)] += row.change_atoms
    return totals


def _numbered(state: EngineState, name: str, subaccount_id: SubaccountId | None) -> Iterable[tuple[int, Any]]:
    """Yield the records of the history list `name` with their numbers: one subaccount's (indexed), or all."""
    records: list[Any] = getattr(state, name)
    if subaccount_id is None:
        return enumerate(records)
    return at_indexes(records, state.history_of(name, subaccount_id))


def _all_rows(state: EngineState, subaccount_id: SubaccountId | None) -> Iterable[StatementRow]:
    """Yield every row (of one subaccount, if given, reading its indexed records; a few others come too)."""
    yield from _funds_rows(state, subaccount_id)
    yield from _movement_rows(state, subaccount_id)
    for number, row in enumerate(interest_rows_of_positions(state, subaccount_id)):
        yield StatementRow(
            row.subaccount_id,
            row.symbol,
            row.at_ms,
            (row.sequence, number),
            StatementKind.INTEREST,
            row.kind.value,
            f"position {row.position_id}",
            0,
            row.change_atoms,
        )
    fills = state.fills
    # The insurance fund also gets a row from each fill whose taker paid it a liquidation fee.
    numbers: Iterable[int] = range(len(fills))
    if subaccount_id is not None and subaccount_id != INSURANCE_FUND_ID:
        numbers = state.fill_indexes.get(subaccount_id, [])
    for number in numbers:
        if not state.markets[fills[number].market].is_perp:
            yield from _fill_rows(state, fills[number], number)
    for number, place, settled in numbered_settled_rows(state, subaccount_id):
        yield StatementRow(
            settled.subaccount_id,
            state.markets[settled.market].quote,
            settled.at_ms,
            (state.history_number("settlements", number), place),
            StatementKind.SETTLEMENT,
            f"{settled.source.value} {settled.market}",
            f"position {settled.position_id}",
            settled.quantity_atoms,
            0,
        )
    yield from _liquidation_rows(state, subaccount_id)


def _funds_rows(state: EngineState, subaccount_id: SubaccountId | None) -> Iterable[StatementRow]:
    """Yield the rows of deposits, withdrawals, dust conversions and transfers (one subaccount's, if given: indexed)."""
    for number, deposit in _numbered(state, "deposits", subaccount_id):
        yield StatementRow(
            deposit.subaccount_id,
            deposit.symbol,
            deposit.at_ms,
            (state.history_number("deposits", number), 0),
            StatementKind.DEPOSIT,
            "Deposit",
            f"deposit {number}",
            deposit.quantity_atoms,
            0,
        )
    for number, withdrawal in _numbered(state, "withdrawals", subaccount_id):
        yield StatementRow(
            withdrawal.subaccount_id,
            withdrawal.symbol,
            withdrawal.at_ms,
            (state.history_number("withdrawals", number), 0),
            StatementKind.WITHDRAWAL,
            "Withdrawal",
            f"withdrawal {number}",
            -withdrawal.quantity_atoms,
            0,
        )
    for number, converted in _numbered(state, "dust_conversions", subaccount_id):
        for place, (symbol, change) in enumerate(
            ((converted.symbol, -converted.quantity_atoms), ("USDC", converted.usdc_atoms))
        ):
            yield StatementRow(
                converted.subaccount_id,
                symbol,
                converted.at_ms,
                (state.history_number("dust_conversions", number), place),
                StatementKind.DUST_CONVERSION,
                f"Dust of {converted.symbol} converted to USDC",
                f"dust conversion {number}",
                change,
                0,
            )
    for number, transfer in _numbered(state, "transfers", subaccount_id):
        for owner, sign, other in (
            (transfer.source_subaccount_id, -1, transfer.target_subaccount_id),
            (transfer.target_subaccount_id, 1, transfer.source_subaccount_id),
        ):
            yield StatementRow(
                owner,
                transfer.symbol,
                transfer.at_ms,
                (state.history_number("transfers", number), sign),
                StatementKind.TRANSFER,
                f"{'To' if sign < 0 else 'From'} subaccount {other}",
                f"transfer {number}",
                sign * transfer.quantity_atoms,
                0,
            )


def _movement_rows(state: EngineState, subaccount_id: SubaccountId | None) -> Iterable[StatementRow]:
    """Yield the movements' rows (one subaccount's, if given).

    A borrow's entry fee is its own interest row, so it is left out here.
    """
    entry_fees = _numbered(state, "entry_fees", subaccount_id)
    fees: dict[int, EntryFeeCharged] = {fee.movements_before - 1: fee for _, fee in entry_fees}
    for number, movement in _numbered(state, "movements", subaccount_id):
        change = movement.position_net_atoms - movement.position_net_before_atoms
        fee = fees.get(number)
        if movement.event_type is BorrowLendEventType.BORROW and fee is not None:
            change += fee.quantity_atoms
        yield StatementRow(
            movement.subaccount_id,
            movement.symbol,
            movement.at_ms,
            (state.history_number("movements", number), 0),
            StatementKind.BORROW_LEND,
            _movement_cause(movement),
            f"position {movement.position_id}",
            movement.balance_change_atoms,
            change,
        )


def _movement_cause(movement: BorrowLendMoved) -> str:
    return f"{movement.event_type.value} ({movement.source.value})"


def _fill_rows(state: EngineState, fill: Fill, number: int) -> Iterable[StatementRow]:
    """Yield a spot fill's rows: each side gives one asset and gets the other, less its fees in that one."""
    spec = state.markets[fill.market]
    sequence = (state.history_number("fills", number), 0)
    maker_side = OrderSide.ASK if fill.taker_side is OrderSide.BID else OrderSide.BID
    for subaccount_id, side, order_id, maker in (
        (fill.taker_subaccount_id, fill.taker_side, fill.taker_order_id, False),
        (fill.maker_subaccount_id, maker_side, fill.maker_order_id, True),
    ):
        fee = fill.fee_atoms(maker=maker)
        gives, receives = (spec.quote, spec.base) if side is OrderSide.BID else (spec.base, spec.quote)
        given, received = (
            (fill.quote_atoms, fill.quantity_atoms)
            if side is OrderSide.BID
            else (
                fill.quantity_atoms,
                fill.quote_atoms,
            )
        )
        cause = f"{side.value} {fill.market}"
        if fill.system_order_type.value:
            cause += f" ({fill.system_order_type.value})"
        reference = f"order {order_id}, trade {fill.trade_id}"
        for symbol, amount in ((gives, -given), (receives, received - fee)):
            yield StatementRow(
                subaccount_id, symbol, fill.at_ms, sequence, StatementKind.TRADE, cause, reference, amount, 0
            )
    if fill.liquidation_fee_atoms:
        yield StatementRow(
            INSURANCE_FUND_ID,
            fill.taker_fee_symbol,
            fill.at_ms,
            sequence,
            StatementKind.LIQUIDATION_FEE,
            f"Liquidation of subaccount {fill.taker_subaccount_id} on {fill.market}",
            f"order {fill.taker_order_id}, trade {fill.trade_id}",
            fill.liquidation_fee_atoms,
            0,
        )


def _liquidation_rows(state: EngineState, subaccount_id: SubaccountId | None) -> Iterable[StatementRow]:
    """Yield the fund's perp liquidation fees (paid at once; the account pays at settlement) and takeovers.

    The steps' fees are the fund's rows; a takeover is indexed under its subaccount and the fund.
    """
    steps = state.liquidation_steps if subaccount_id in (None, INSURANCE_FUND_ID) else []
    for number, step in enumerate(steps):
        if step.kind is LiquidationStepKind.REDUCE_POSITION and step.fee_atoms:
            yield StatementRow(
                INSURANCE_FUND_ID,
                step.fee_symbol,
                step.at_ms,
                (state.history_number("liquidation_steps", number), 0),
                StatementKind.LIQUIDATION_FEE,
                f"Liquidation of subaccount {step.subaccount_id} on {step.symbol}",
                f"order {step.order_id}",
                step.fee_atoms,
                0,
            )
    for number, takeover in _numbered(state, "backstops", subaccount_id):
        for holding in takeover.holdings:
            if not holding.spot_atoms:
                continue
            for owner, sign, cause in (
                (takeover.subaccount_id, -1, "Taken over by the insurance fund"),
                (takeover.fund_subaccount_id, 1, f"Taken over from subaccount {takeover.subaccount_id}"),
            ):
                yield StatementRow(
                    owner,
                    holding.symbol,
                    takeover.at_ms,
                    (state.history_number("backstops", number), sign),
                    StatementKind.LIQUIDATION_BACKSTOP,
                    cause,
                    f"backstop {number}",
                    sign * holding.spot_atoms,
                    0,
                )
