"""The body of `GET /api/v1/explain/borrows` (a crossmargin extension): why each borrow exists.

Each row is one borrow, newest first, with its source and the records that caused it
(`app/explain.py`), amounts as decimal strings: for `Reconciliation` the settled PnL, fees and
funding of that instant and the shortfall they left; for `SpotMargin` the orders placed with
`autoBorrow`.
"""

from __future__ import annotations

from crossmargin.api.views.common import naive_time, require_asset, require_subaccount, wad
from crossmargin.app.explain import BorrowExplanation, explain_borrows
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import format_scaled
from crossmargin.core.orders import Order
from crossmargin.core.state import EngineState

Json = dict[str, object]


def _quote_text(state: EngineState, market: str, atoms: int) -> str:
    spec = state.markets[market]
    return format_scaled(atoms, spec.quote_decimals)


def _order_view(state: EngineState, order: Order) -> Json:
    spec = state.markets[order.market]
    return {
        "orderId": str(order.order_id),
        "symbol": order.market,
        "side": order.side.value,
        "orderType": order.order_type.value,
        "quantity": format_scaled(order.quantity_atoms, spec.base_decimals),
        "price": wad(order.price_wad) if order.price_wad else None,
        "autoBorrow": order.flags.auto_borrow,
    }


def _shortfall_view(state: EngineState, row: BorrowExplanation) -> Json | None:
    shortfall = row.shortfall
    if shortfall is None:
        return None
    decimals = state.specs[shortfall.symbol].decimals
    return {
        "symbol": shortfall.symbol,
        "short": format_scaled(shortfall.short_atoms, decimals),
        "redeemedLend": format_scaled(shortfall.redeemed_atoms, decimals),
        "borrowed": format_scaled(shortfall.borrowed_atoms, decimals),
        "converted": [
            {
                "symbol": conversion.symbol,
                "quantity": format_scaled(conversion.quantity_atoms, state.specs[conversion.symbol].decimals),
                "proceeds": format_scaled(conversion.proceeds_atoms, decimals),
            }
            for conversion in shortfall.conversions
        ],
        "uncovered": format_scaled(shortfall.uncovered_atoms, decimals),
        "autoBorrowSettlements": shortfall.auto_borrow_settlements,
    }


def view_borrow_explanation(state: EngineState, row: BorrowExplanation) -> Json:
    """Render one explained borrow."""
    movement = row.movement
    decimals = state.specs[movement.symbol].decimals
    return {
        "symbol": movement.symbol,
        "quantity": format_scaled(movement.quantity_atoms, decimals),
        "source": movement.source.value,
        "positionId": str(movement.position_id),
        "timestamp": naive_time(movement.at_ms),
        "entryFee": format_scaled(row.entry_fee_atoms, decimals),
        "settlements": [
            {
                "symbol": settled.market,
                "source": settled.source.value,
                "quantity": _quote_text(state, settled.market, settled.quantity_atoms),
            }
            for settled in row.settlements
        ],
        "shortfall": _shortfall_view(state, row),
        "orders": [_order_view(state, order) for order in row.orders],
    }


def view_borrow_explanations(
    state: EngineState, subaccount_id: SubaccountId, symbol: str | None, limit: int
) -> list[Json]:
    """Render the newest `limit` explained borrows of a subaccount."""
    require_subaccount(state, subaccount_id)
    if symbol is not None:
        require_asset(state, symbol)
    rows = explain_borrows(state, subaccount_id, symbol)[:limit]
    return [view_borrow_explanation(state, row) for row in rows]
