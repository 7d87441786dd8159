"""The statement: every movement of a subaccount's assets, from an opening to a closing that ties out.

`GET /wapi/v1/statement` (a crossmargin extension, instruction `statementQuery`) answers one object
per asset, sorted by symbol: the asset named by `symbol`, else every asset the subaccount ever had
a movement in. Each object names its `subaccountId` and `symbol` and has the `opening` (what the
rows before `from` add up to; 0 without `from`), the rows with `from <= at < to`, oldest first,
each with its change of the balance, of the borrow-lend position and of both, and the running
total after it, and the `closing` (the opening plus the rows shown). Rows come from
`core.statement`; every amount is an exact decimal string at the asset's decimals.

Without `to`, the object also has the `balance` (spot plus what open orders lock) and the
`position` (the borrow-lend position's value: + lend, - debt) now, and `closing` equals their sum
exactly (INV-STATEMENT-1, checked here on every answer). Windows chain: the closing of
`[from, to)` is the opening of `[to, ...)`, so an accountant can take a long history in pieces.
A window of more than `STATEMENT_ROWS_MAX` rows is refused with a message naming the limit.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from crossmargin.api.errors import ApiError
from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    amount,
    naive_time,
    reader,
    require_asset,
    require_subaccount,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState
from crossmargin.core.statement import StatementRow, statement_rows

STATEMENT_ROWS_MAX: Final = 10_000
"""The most rows one statement answer carries; a longer window is refused (narrow it with `from`/`to`)."""


def _within(at_ms: int, from_ms: int | None, to_ms: int | None) -> bool:
    return (from_ms is None or at_ms >= from_ms) and (to_ms is None or at_ms < to_ms)


def view_statement(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
) -> list[JsonValue]:
    """Return `GET /wapi/v1/statement`: per asset, the opening, the rows of the window and the closing."""
    require_subaccount(state, subaccount_id)
    if symbol is not None:
        require_asset(state, symbol)
    if from_ms is not None and to_ms is not None and from_ms > to_ms:
        raise ApiError(f"from ({from_ms}) must not be later than to ({to_ms})")
    by_symbol: dict[str, list[StatementRow]] = defaultdict(list)
    for row in statement_rows(state, subaccount_id):
        by_symbol[row.symbol].append(row)
    symbols = [symbol] if symbol is not None else sorted(by_symbol)
    shown = sum(_within(row.at_ms, from_ms, to_ms) for name in symbols for row in by_symbol.get(name, []))
    if shown > STATEMENT_ROWS_MAX:
        raise ApiError(
            f"This statement has {shown} rows; at most {STATEMENT_ROWS_MAX} are sent at once: "
            "ask for a shorter window with from and to (the closing of one window is the opening of the next)"
        )
    return [_asset_statement(state, subaccount_id, name, by_symbol.get(name, []), from_ms, to_ms) for name in symbols]


def _asset_statement(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str,
    rows: list[StatementRow],
    from_ms: int | None,
    to_ms: int | None,
) -> JsonObject:
    """Return one asset's statement: opening, the window's rows with running totals, closing (and now)."""
    spec = state.specs[symbol]
    opening = sum(row.change_atoms for row in rows if from_ms is not None and row.at_ms < from_ms)
    running = opening
    shown: list[JsonValue] = []
    for row in rows:
        if not _within(row.at_ms, from_ms, to_ms):
            continue
        running += row.change_atoms
        shown.append(
            {
                "timestamp": naive_time(row.at_ms),
                "type": row.kind.value,
                "cause": row.cause,
                "reference": row.reference,
                "balanceChange": amount(row.balance_change_atoms, spec),
                "positionChange": amount(row.position_change_atoms, spec),
                "change": amount(row.change_atoms, spec),
                "runningTotal": amount(running, spec),
            }
        )
    body: JsonObject = {
        "subaccountId": subaccount_id,
        "symbol": symbol,
        "opening": amount(opening, spec),
        "closing": amount(running, spec),
    }
    if to_ms is None:
        holding = reader(state).holding(subaccount_id, symbol)
        balance = holding.spot_atoms + holding.locked_atoms
        position = holding.lend_atoms - holding.debt_atoms
        assert running == balance + position, (
            f"INV-STATEMENT-1: subaccount {subaccount_id} {symbol}: rows add up to {running} atoms, "
            f"balance {balance} + position {position} = {balance + position}"
        )
        body["balance"] = amount(balance, spec)
        body["position"] = amount(position, spec)
    body["rows"] = shown
    return body
