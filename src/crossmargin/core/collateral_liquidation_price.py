"""Liquidation price per collateral asset: the price of each asset held at which the account is liquidated.

A subaccount's *collateral* is every asset it holds a positive quantity of, spot, locked by open
orders or lent (`AssetMargin.quantity_atoms`). For each, the collateral liquidation price is the
price of that asset, every other price fixed, next to where the subaccount reaches MMR 100%: the
core's own estimate (`liquidation_price.estimate_liquidation_price`), with its grid and its
rounding that warns early. Usually it lies below the mark (the asset falls until the account is
liquidated); with a short perp of the same asset larger than the holding it may lie above.

Why it is its own figure. Backpack's `estLiquidationPrice` sits on a borrow-lend row and is the
price of that row's asset: on a USDC borrow against spot BTC it is a USDC price (1.2794 in the
brief's example), while the price that decides the account is the BTC price (about 46,869), and
spot BTC has no borrow-lend row to carry it. Cost: one estimate (about 8-15 margin computations
of the subaccount) per collateral asset.
"""

from __future__ import annotations

from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.liquidation_price import estimate_liquidation_price
from crossmargin.core.transaction import Transaction


def collateral_symbols(tx: Transaction, subaccount_id: SubaccountId) -> list[str]:
    """Return the assets the subaccount holds a positive quantity of (spot, locked or lent), by symbol."""
    subaccount = tx.subaccount(subaccount_id)
    if subaccount is None:
        return []
    return [line.symbol for line in compute_subaccount_margin(tx, subaccount).assets if line.quantity_atoms > 0]


def collateral_liquidation_prices(tx: Transaction, subaccount_id: SubaccountId) -> dict[str, int | None]:
    """Return, by symbol, each collateral asset's WAD price at which the subaccount is liquidated (None: none).

    None where no price of that asset within the estimator's range liquidates the account (no
    debt or perp at risk, or collateral that covers it many times over). An unknown subaccount
    holds nothing.
    """
    return {
        symbol: estimate_liquidation_price(tx, subaccount_id, symbol)
        for symbol in collateral_symbols(tx, subaccount_id)
    }
