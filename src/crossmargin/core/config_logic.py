"""The operator's configuration: assets, markets, index prices and the demo seed.

An asset lists once with its scale and keeps it (its other parameters may change); a market lists
only on its assets' scales and an exact grid (`validation.check_market_spec`). Index prices move
within the oracle's jump band unless forced, and the perps' marks follow them at once. The demo
seed sets up a fresh exchange in one command, all or nothing.
"""

from __future__ import annotations

from crossmargin.core.account_logic import create_account
from crossmargin.core.borrow_lend_logic import execute_borrow_lend
from crossmargin.core.commands import (
    BorrowLendSide,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    SeedDemo,
    SetMarkPrices,
)
from crossmargin.core.events import AssetsConfigured, MarketsConfigured, MarkPricesSet
from crossmargin.core.funds_logic import deposit
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS
from crossmargin.core.marks import refresh_perp_marks
from crossmargin.core.oracle import check_price_jumps
from crossmargin.core.pools import Pool
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import check_market_spec


def configure_assets(tx: Transaction, command: ConfigureAssets) -> Rejection | None:
    """List new assets with empty pools, or update parameters of listed ones."""
    for spec in command.specs:
        listed = tx.spec(spec.symbol)
        if listed is not None and listed.decimals != spec.decimals:
            return Rejection(
                RejectReason.ASSET_DECIMALS_MUST_NOT_CHANGE,
                f"{spec.symbol} is listed with {listed.decimals} decimals; an asset's scale never changes",
            )
        if listed is None:
            tx.pools[spec.symbol] = Pool(spec.symbol)
        tx.specs[spec.symbol] = spec
    tx.emit(AssetsConfigured(tuple(spec.symbol for spec in command.specs)))
    return None


def seed_demo(tx: Transaction, command: SeedDemo) -> Rejection | None:
    """Set demo prices, a lender supplying every pool and a funded market maker, all or nothing."""
    if tx.state.subaccounts or tx.state.mark_prices_wad:
        return Rejection(
            RejectReason.DEMO_ALREADY_SEEDED,
            "The demo is seeded only on a fresh exchange: this one already has subaccounts or prices",
        )
    refused = set_mark_prices(tx, SetMarkPrices(command.prices_wad))
    if refused:
        return refused
    lender = _open_funded_account(tx, (), command.liquidity_atoms)
    if isinstance(lender, Rejection):
        return lender
    for symbol, atoms in command.liquidity_atoms:
        refused = execute_borrow_lend(tx, ExecuteBorrowLend(lender, symbol, BorrowLendSide.LEND, atoms))
        if refused:
            return refused
    if command.market_maker_api_key is None:
        return None
    maker = _open_funded_account(tx, (command.market_maker_api_key,), command.market_maker_funds_atoms)
    return maker if isinstance(maker, Rejection) else None


def _open_funded_account(
    tx: Transaction, api_keys: tuple[str, ...], funds: tuple[tuple[str, int], ...]
) -> SubaccountId | Rejection:
    refused = create_account(tx, CreateAccount(api_keys))
    assert refused is None, "a fresh exchange takes any one API key"
    subaccount_id = SubaccountId(tx.counter("next_subaccount_id") - 1)
    for symbol, atoms in funds:
        refused = deposit(tx, Deposit(subaccount_id, symbol, atoms))
        if refused:
            return refused
    return subaccount_id


def set_mark_prices(tx: Transaction, command: SetMarkPrices) -> Rejection | None:
    """Set index prices of listed assets, within the jump band unless forced; marks follow at once."""
    for symbol, price_wad in command.prices_wad:
        if tx.spec(symbol) is None:
            return Rejection(RejectReason.ASSET_NOT_FOUND, f"Unknown asset {symbol!r}")
        if price_wad <= 0:
            return Rejection(RejectReason.PRICE_MUST_BE_POSITIVE, f"The price of {symbol} must be greater than zero")
    refused = check_price_jumps(tx, command)
    if refused:
        return refused
    for symbol, price_wad in command.prices_wad:
        tx.mark_prices_wad[symbol] = price_wad
        tx.price_updated_ms[symbol] = tx.now_ms
    tx.emit(MarkPricesSet(command.prices_wad, tx.now_ms))
    refresh_perp_marks(tx)
    if tx.state.perp_positions:
        tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)
    return None


def configure_markets(tx: Transaction, command: ConfigureMarkets) -> Rejection | None:
    """List order books, or update their parameters."""
    for spec in command.specs:
        refused = check_market_spec(tx, spec)
        if refused:
            return refused
        tx.markets[spec.symbol] = spec
    tx.emit(MarketsConfigured(tuple(spec.symbol for spec in command.specs)))
    return None
