"""Estimated liquidation prices as Backpack shows them: `estLiquidationPrice` and the what-if endpoint.

crossmargin adds `collateralLiquidationPrice` (see `COLLATERAL_LIQUIDATION_PRICE`): the same
estimate for each asset held as collateral (`core.collateral_liquidation_price`), on its row of
`GET /api/v1/capital/collateral` and on its borrow-lend position row if it has one.

The estimate is the core's (`crossmargin.core.liquidation_price`): the price of the asset, every
other price fixed, next to where the subaccount's maintenance margin ratio reaches 100%, rounded
to 9 significant digits in the direction that warns early. Where there is none (no debt or perp
at risk from that price, or none within the searched range) the field is "0", as Backpack sends.
Each estimate is a search of about 8-15 margin computations of one subaccount
(`core/liquidation_price.py`): fine for the positions of one subaccount, not for a sweep.
"""

from __future__ import annotations

from typing import Final

from crossmargin.api.views.common import JsonObject, reader, require_subaccount, wad
from crossmargin.core.commands import ExecuteBorrowLend
from crossmargin.core.ids import SubaccountId
from crossmargin.core.liquidation_price import estimate_after_borrow_lend, estimate_liquidation_price
from crossmargin.core.rejections import Rejection
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

# What Backpack sends when it has no estimate (its samples show "0" for well-margined positions).
NO_LIQUIDATION_PRICE: Final = "0"
COLLATERAL_LIQUIDATION_PRICE: Final = "collateralLiquidationPrice"
"""A crossmargin extension field: the price of the row's asset, held as collateral, that liquidates the subaccount."""


def estimate_text(estimate: int | None) -> str:
    """Return an estimated WAD price as Backpack prints one ("0" for none)."""
    return NO_LIQUIDATION_PRICE if estimate is None else wad(estimate)


def liquidation_price_text(tx: Transaction, subaccount_id: SubaccountId, symbol: str) -> str:
    """Return `estLiquidationPrice` for a position whose price is `symbol`'s ("0" for none)."""
    return estimate_text(estimate_liquidation_price(tx, subaccount_id, symbol))


def view_planned_liquidation_price(state: EngineState, command: ExecuteBorrowLend) -> JsonObject | Rejection:
    """Return `GET /api/v1/borrowLend/position/liquidationPrice`: the estimate after a planned borrow or lend.

    The command runs through the engine's own handler without being committed; one the engine
    would refuse comes back as its `Rejection`, to be answered as that refusal.
    """
    require_subaccount(state, command.subaccount_id)
    tx = reader(state)
    estimate = estimate_after_borrow_lend(tx, command)
    if isinstance(estimate, Rejection):
        return estimate
    return {
        "liquidationPrice": estimate_text(estimate),
        "markPrice": wad(tx.mark_price(command.symbol)),
    }
