"""Account views: settings, limits, balances, margin and open borrow-lend positions of one subaccount.

Margin figures are the engine's own (`compute_subaccount_margin`), so what a client reads is what
the engine checks: `netEquityAvailable` >= 0 after any voluntary action, liquidation at
maintenance >= net equity. Account-level `imf` and `mmf` are the exposure-weighted fractions
(required margin / total borrow notional), so `marginFraction` <= `mmf` exactly when maintenance
reaches net equity. Spot balances are what `/capital` shows; lends show only in `/capital/collateral`
(`lendQuantity`), as on Backpack.

crossmargin extension: every `/capital/collateral` row, and the borrow-lend position row of an
asset held as collateral, carries `collateralLiquidationPrice`, the price of that asset (every
other price fixed) at which the subaccount is liquidated ("0": none). On a lend row it equals
`estLiquidationPrice`, which Backpack defines for every row as the price of the row's asset; the
collateral rows carry it for spot holdings too, which have no position row.
"""

from __future__ import annotations

from typing import Final

from crossmargin.api.views.common import (
    JsonObject,
    JsonValue,
    amount,
    reader,
    require_asset,
    require_subaccount,
    wad,
)
from crossmargin.api.views.fees import MARKET_FEES, account_fees
from crossmargin.api.views.liquidation_price import COLLATERAL_LIQUIDATION_PRICE, estimate_text, liquidation_price_text
from crossmargin.api.views.public import sqrt_function
from crossmargin.core.accounts import Position, Subaccount
from crossmargin.core.collateral import value_down, value_up
from crossmargin.core.collateral_liquidation_price import collateral_liquidation_prices, collateral_symbols
from crossmargin.core.engine import compute_max_borrowable, compute_max_withdrawal
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import MarginSummary, compute_margin_fraction, leverage_floor_wad
from crossmargin.core.numbers import WAD, mul_div_up
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView

# Unrealized PnL is realized continuously (every 10 seconds) for every subaccount.
AUTO_REALIZE_PNL: Final = True


def _subaccount(state: EngineState, subaccount_id: SubaccountId) -> Subaccount:
    require_subaccount(state, subaccount_id)
    return state.subaccounts[subaccount_id]


def view_account(state: EngineState, subaccount_id: SubaccountId) -> JsonObject:
    """Return `GET /api/v1/account`: the subaccount's settings, limits and the fees the markets charge.

    Fees are the markets' own (`makerFee` / `takerFee` of the markets file) in basis points: each
    of `spotMakerFee`, `spotTakerFee`, `futuresMakerFee`, `futuresTakerFee` is the fee most markets
    of that kind charge (a tie goes to the lower fee). crossmargin extension: `marketFees` lists,
    by symbol, every market whose fees differ from its kind's figure (as USDT_USDC's do), so a
    client can see the fee of every market it trades. `borrowLimit` and `positionLimit` are the
    subaccount's enforced limits in USD (`core/account_limits.py`).
    """
    subaccount = _subaccount(state, subaccount_id)
    summary = compute_subaccount_margin(reader(state), subaccount)
    fees = account_fees(state.markets.values())
    return {
        "autoBorrowSettlements": subaccount.auto_borrow_settlements,
        "autoLend": subaccount.auto_lend,
        "autoRealizePnl": AUTO_REALIZE_PNL,
        "autoRepayBorrows": subaccount.auto_repay_borrows,
        "borrowLimit": wad(subaccount.borrow_limit_wad),
        "futuresMakerFee": fees.futures_maker,
        "futuresTakerFee": fees.futures_taker,
        "leverageLimit": str(subaccount.leverage_limit),
        "limitOrders": len(state.open_order_ids.get(subaccount_id, {})),
        "liquidating": subaccount.liquidating or summary.is_liquidatable,
        "positionLimit": wad(subaccount.position_limit_wad),
        "spotMakerFee": fees.spot_maker,
        "spotTakerFee": fees.spot_taker,
        "triggerOrders": sum(1 for order in state.trigger_orders.values() if order.subaccount_id == subaccount_id),
        MARKET_FEES: fees.exceptions,
    }


def view_max_borrow(state: EngineState, subaccount_id: SubaccountId, symbol: str) -> JsonObject:
    """Return `GET /api/v1/account/limits/borrow`: the most a manual borrow could take now."""
    require_subaccount(state, subaccount_id)
    spec = require_asset(state, symbol)
    atoms = compute_max_borrowable(reader(state), subaccount_id, symbol)
    return {"maxBorrowQuantity": amount(atoms, spec), "symbol": symbol}


def view_max_withdrawal(
    state: EngineState,
    subaccount_id: SubaccountId,
    symbol: str,
    *,
    auto_borrow: bool | None = None,
    auto_lend_redeem: bool | None = None,
) -> JsonObject:
    """Return `GET /api/v1/account/limits/withdrawal`: the most a withdrawal with these options could take."""
    require_subaccount(state, subaccount_id)
    spec = require_asset(state, symbol)
    borrow, redeem = bool(auto_borrow), bool(auto_lend_redeem)
    atoms = compute_max_withdrawal(reader(state), subaccount_id, symbol, auto_borrow=borrow, auto_lend_redeem=redeem)
    return {
        "autoBorrow": borrow,
        "autoLendRedeem": redeem,
        "maxWithdrawalQuantity": amount(atoms, spec),
        "symbol": symbol,
    }


def _position(tx: StateView, subaccount: Subaccount, position: Position, *, collateral: bool) -> JsonObject:
    spec = tx.spec(position.symbol)
    assert spec is not None, "a position's asset is listed"
    pool = tx.pool(position.symbol)
    mark = tx.mark_price(position.symbol)
    if position.debt_scaled:
        value = debt_atoms(position.debt_scaled, pool.borrow_index_ray)
        net = -value
        notional = value_up(value, mark, spec.unit_atoms)
    else:
        value = lend_atoms(position.lend_scaled, pool.lend_index_ray)
        net = value
        notional = value_down(value, mark, spec.unit_atoms)
    estimate = liquidation_price_text(tx, subaccount.subaccount_id, position.symbol)
    row: JsonObject = {
        "cumulativeInterest": amount(value - position.principal_atoms, spec),
        "id": str(position.position_id),
        "imf": wad(compute_margin_fraction(spec.imf, notional, leverage_floor_wad(subaccount.leverage_limit))),
        "imfFunction": sqrt_function(spec.imf),
        "netQuantity": amount(net, spec),
        "markPrice": wad(mark),
        "mmf": wad(compute_margin_fraction(spec.mmf, notional, 0)),
        "mmfFunction": sqrt_function(spec.mmf),
        # Backpack's samples report a lend's exposure as its quantity, despite the field's description.
        "netExposureQuantity": amount(net, spec),
        "netExposureNotional": wad(notional),
        "symbol": position.symbol,
        "estLiquidationPrice": estimate,
    }
    if collateral:
        row[COLLATERAL_LIQUIDATION_PRICE] = estimate  # the same estimate: this row's asset, held
    return row


def view_borrow_lend_positions(state: EngineState, subaccount_id: SubaccountId) -> list[JsonValue]:
    """Return `GET /api/v1/borrowLend/positions`: every open borrow or lend, by symbol.

    `cumulativeInterest` is the position's value minus its principal: interest paid on a borrow
    (entry fee included), interest earned on a lend, both positive. The row of an asset held as
    collateral (spot, locked or lent) also carries `collateralLiquidationPrice`.
    """
    subaccount = _subaccount(state, subaccount_id)
    tx = reader(state)
    held = set(collateral_symbols(tx, subaccount_id))
    positions = sorted(
        (position for (owner, _), position in state.positions.items() if owner == subaccount_id),
        key=lambda position: position.symbol,
    )
    return [_position(tx, subaccount, position, collateral=position.symbol in held) for position in positions]


def view_capital(state: EngineState, subaccount_id: SubaccountId) -> JsonObject:
    """Return `GET /api/v1/capital`: spot balances of every asset held; `locked` is what open orders lock."""
    require_subaccount(state, subaccount_id)
    tx = reader(state)
    balances: JsonObject = {}
    for symbol, holding in sorted(tx.holdings(subaccount_id).items()):
        spec = state.specs[symbol]
        balances[symbol] = {
            "available": amount(holding.spot_atoms, spec),
            "locked": amount(holding.locked_atoms, spec),
            "staked": "0",
        }
    return balances


def _collateral_rows(tx: StateView, subaccount_id: SubaccountId, summary: MarginSummary) -> list[JsonValue]:
    holdings = tx.holdings(subaccount_id)
    liquidation_prices = collateral_liquidation_prices(tx, subaccount_id)
    rows: list[JsonValue] = []
    for line in summary.assets:
        if not line.quantity_atoms:
            continue
        spec = tx.spec(line.symbol)
        assert spec is not None, "a held asset is listed"
        holding = holdings[line.symbol]
        rows.append(
            {
                "symbol": line.symbol,
                "assetMarkPrice": wad(line.mark_price_wad),
                "totalQuantity": amount(line.quantity_atoms, spec),
                "balanceNotional": wad(line.balance_notional_wad),
                "collateralWeight": wad(line.weight_wad),
                "collateralValue": wad(line.collateral_value_wad),
                "openOrderQuantity": amount(holding.locked_atoms, spec),
                "lendQuantity": amount(holding.lend_atoms, spec),
                "availableQuantity": amount(holding.spot_atoms, spec),
                COLLATERAL_LIQUIDATION_PRICE: estimate_text(liquidation_prices[line.symbol]),
            }
        )
    return rows


def _weighted_fraction(required_wad: int, exposure_wad: int) -> str:
    return wad(mul_div_up(required_wad, WAD, exposure_wad)) if exposure_wad else "0"


def view_capital_collateral(state: EngineState, subaccount_id: SubaccountId) -> JsonObject:
    """Return `GET /api/v1/capital/collateral`: the subaccount's cross-margin summary.

    No futures exist yet, so futures exposure, unrealized PnL and unsettled equity are "0";
    `marginFraction` is left out without exposure, as the spec allows.
    """
    subaccount = _subaccount(state, subaccount_id)
    tx = reader(state)
    summary = compute_subaccount_margin(tx, subaccount)
    body: JsonObject = {
        "assetsValue": wad(summary.collateral_value_wad),
        "borrowLiability": wad(summary.borrow_liability_wad),
        "collateral": _collateral_rows(tx, subaccount_id, summary),
        "imf": _weighted_fraction(summary.locked_wad, summary.exposure_wad),
        "unsettledEquity": "0",
        "liabilitiesValue": wad(summary.borrow_liability_wad),
        "mmf": _weighted_fraction(summary.maintenance_wad, summary.exposure_wad),
        "netEquity": wad(summary.net_equity_wad),
        "netEquityAvailable": wad(summary.available_wad),
        "netEquityLocked": wad(summary.locked_wad),
        "netExposureFutures": "0",
        "pnlUnrealized": "0",
    }
    fraction = summary.margin_fraction
    if fraction is not None:
        body["marginFraction"] = wad(fraction.wad)
    equity = summary.net_equity_wad
    if equity > 0:  # crossmargin extensions: the ratios the page and the CLI show, never re-computed there
        body["initialMarginRatio"] = wad(mul_div_up(summary.locked_wad, WAD, equity))
        body["maintenanceMarginRatio"] = wad(mul_div_up(summary.maintenance_wad, WAD, equity))
    return body
