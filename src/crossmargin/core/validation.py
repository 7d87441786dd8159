"""Lookups and preconditions shared by the command handlers: each returns the thing or a refusal.

A handler asks here for what its command names (a subaccount, an asset, a market) and for the
rules every command of a kind must pass before anything is computed: a subaccount being
liquidated takes only what cannot add risk, API keys sign for one subaccount only, a market lists
only on its assets' scales and an exact grid, and an order must fit its market's grid and
options. Every function is pure: it reads the transaction and changes nothing.
"""

from __future__ import annotations

from crossmargin.core.accounts import Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.commands import PlaceOrder
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import BookState, MarketSpec
from crossmargin.core.numbers import format_scaled
from crossmargin.core.orders import OrderType, TimeInForce
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction


def find_subaccount(tx: Transaction, subaccount_id: SubaccountId) -> Subaccount | Rejection:
    """Return the subaccount, or refuse a command naming one that does not exist."""
    found = tx.subaccount(subaccount_id)
    if found is None:
        return Rejection(RejectReason.SUBACCOUNT_NOT_FOUND, f"Subaccount {subaccount_id} does not exist")
    return found


def refuse_while_liquidating(subaccount: Subaccount, action: str) -> Rejection | None:
    """Refuse an action that does not improve a subaccount while it is being liquidated."""
    if not subaccount.liquidating:
        return None
    return Rejection(
        RejectReason.ACCOUNT_LIQUIDATING,
        f"Subaccount {subaccount.subaccount_id} is being liquidated: {action} is not possible until it ends "
        "(deposits, repays, cancels, reduce-only orders, transfers in and safer settings are)",
    )


def find_asset(tx: Transaction, symbol: str, quantity_atoms: int, *, stepped: bool) -> AssetSpec | Rejection:
    """Return a listed asset, refusing a quantity that is not positive (or, `stepped`, off its step)."""
    spec = tx.spec(symbol)
    if spec is None:
        listed = ", ".join(sorted(tx.all_specs()))
        return Rejection(RejectReason.ASSET_NOT_FOUND, f"Unknown asset {symbol!r}; listed assets are {listed}")
    if quantity_atoms <= 0:
        return Rejection(RejectReason.QUANTITY_MUST_BE_POSITIVE, "Quantity must be greater than zero")
    if stepped and quantity_atoms % spec.step_atoms:
        return Rejection(
            RejectReason.QUANTITY_MUST_BE_MULTIPLE_OF_STEP,
            f"Quantity must be a multiple of the {symbol} step size {format_scaled(spec.step_atoms, spec.decimals)}",
        )
    return spec


def check_api_keys(tx: Transaction, api_keys: tuple[str, ...]) -> Rejection | None:
    """Refuse API keys that repeat or already sign for a subaccount: a key signs for one only."""
    for api_key in api_keys:
        if api_keys.count(api_key) > 1 or tx.api_key_owner(api_key) is not None:
            return Rejection(RejectReason.API_KEY_TAKEN, f"API key {api_key} already signs for a subaccount")
    return None


def check_market_spec(tx: Transaction, spec: MarketSpec) -> Rejection | None:
    """Refuse a market whose assets are unlisted or on other scales, or whose grid is not exact."""
    for symbol, decimals in ((spec.base, spec.base_decimals), (spec.quote, spec.quote_decimals)):
        asset = tx.spec(symbol)
        if asset is None:
            return Rejection(RejectReason.ASSET_NOT_FOUND, f"{spec.symbol} trades {symbol!r}, which is not listed")
        if asset.decimals != decimals:
            return Rejection(
                RejectReason.MARKET_DECIMALS_MUST_MATCH_ASSETS,
                f"{spec.symbol} must use {symbol}'s {asset.decimals} decimals, not {decimals}",
            )
    if not spec.grid_is_exact():
        return Rejection(
            RejectReason.MARKET_GRID_MUST_BE_EXACT,
            f"{spec.symbol}: one tick times one step must be a whole number of {spec.quote} atoms",
        )
    return None


def find_market(tx: Transaction, symbol: str) -> MarketSpec | Rejection:
    """Return a listed market, or refuse a command naming one that is not."""
    spec = tx.market(symbol)
    if spec is None:
        listed = ", ".join(sorted(tx.all_markets()))
        return Rejection(RejectReason.MARKET_NOT_FOUND, f"Unknown market {symbol!r}; listed markets are {listed}")
    return spec


def check_order_liquidating(subaccount: Subaccount, command: PlaceOrder) -> Rejection | None:
    """Refuse any order but a reduce-only one while the subaccount is being liquidated."""
    if subaccount.liquidating and not command.flags.reduce_only:
        return Rejection(
            RejectReason.ACCOUNT_LIQUIDATING,
            f"Subaccount {subaccount.subaccount_id} is being liquidated: only reduce-only orders are accepted",
        )
    return None


def check_market_priced(tx: Transaction, spec: MarketSpec) -> Rejection | None:
    """Refuse a perp order before the market has a mark: valued at 0, a short would show its price as profit."""
    if spec.is_perp and not tx.perp_mark(spec.symbol):
        return Rejection(
            RejectReason.MARK_PRICE_MISSING,
            f"{spec.symbol} has no mark price yet: it trades once {spec.base} has an index price",
        )
    return None


def check_order_shape(spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    """Refuse an order the market does not take now, off its grid, or with options that do not fit."""
    refused = _check_state(spec, command)
    if refused is None and command.order_type is OrderType.LIMIT:
        refused = _check_price(spec, command)
    if refused:
        return refused
    if command.order_type is OrderType.MARKET and command.flags.post_only:
        return Rejection(RejectReason.POST_ONLY_REQUIRES_LIMIT_ORDER, "A market order cannot be post-only")
    if command.order_type is OrderType.LIMIT and command.flags.slippage is not None:
        return Rejection(
            RejectReason.SLIPPAGE_REQUIRES_MARKET_ORDER,
            "slippageTolerance is for market orders: a limit order's price is already its worst price",
        )
    if (command.quantity_atoms is None) == (command.quote_quantity_atoms is None):
        return Rejection(
            RejectReason.ORDER_REQUIRES_ONE_QUANTITY, "Give either quantity or (market orders) quoteQuantity"
        )
    if command.quote_quantity_atoms is not None and command.quote_quantity_atoms <= 0:
        return Rejection(RejectReason.QUANTITY_MUST_BE_POSITIVE, "quoteQuantity must be greater than zero")
    if command.quantity_atoms is not None:
        refused = _check_quantity(spec, command.quantity_atoms)
    return refused or _check_options(spec, command)


def _check_state(spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    if spec.state in (BookState.CLOSED, BookState.CANCEL_ONLY):
        return Rejection(RejectReason.MARKET_CLOSED, f"{spec.symbol} is {spec.state}: no new orders")
    if spec.state is BookState.POST_ONLY and not command.flags.post_only:
        return Rejection(RejectReason.MARKET_CLOSED, f"{spec.symbol} accepts post-only orders only")
    return None


def _check_price(spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    if command.price_wad is None:
        return Rejection(RejectReason.PRICE_REQUIRED, "A limit order needs a price")
    if command.price_wad <= 0:
        return Rejection(RejectReason.PRICE_MUST_BE_POSITIVE, "The price must be greater than zero")
    if command.price_wad % spec.tick_size_wad:
        tick = format_scaled(spec.tick_size_wad, 18)
        return Rejection(
            RejectReason.PRICE_MUST_BE_MULTIPLE_OF_TICK, f"Price must be a multiple of {spec.symbol}'s tick size {tick}"
        )
    if command.quote_quantity_atoms is not None:
        return Rejection(RejectReason.QUOTE_QUANTITY_REQUIRES_MARKET_ORDER, "quoteQuantity is for market orders only")
    return None


def _check_options(spec: MarketSpec, command: PlaceOrder) -> Rejection | None:
    if command.flags.post_only and command.time_in_force is not TimeInForce.GTC:
        return Rejection(RejectReason.POST_ONLY_REQUIRES_GTC, "A post-only order must be GTC")
    spot_only = command.flags.auto_borrow or command.flags.auto_lend or command.quote_quantity_atoms is not None
    if spec.is_perp and spot_only:
        return Rejection(
            RejectReason.SPOT_OPTIONS_REQUIRE_SPOT_MARKET, "Spot-margin flags and quoteQuantity are for spot markets"
        )
    if not spec.is_perp and command.flags.reduce_only:
        return Rejection(RejectReason.REDUCE_ONLY_REQUIRES_PERP_MARKET, "reduceOnly is for perpetual markets")
    return None


def _check_quantity(spec: MarketSpec, quantity: int) -> Rejection | None:
    step = format_scaled(spec.step_atoms, spec.base_decimals)
    if quantity <= 0:
        return Rejection(RejectReason.QUANTITY_MUST_BE_POSITIVE, "Quantity must be greater than zero")
    if quantity % spec.step_atoms:
        return Rejection(
            RejectReason.QUANTITY_MUST_BE_MULTIPLE_OF_STEP,
            f"Quantity must be a multiple of {spec.symbol}'s step size {step}",
        )
    if quantity < spec.min_quantity_atoms:
        least = format_scaled(spec.min_quantity_atoms, spec.base_decimals)
        return Rejection(RejectReason.QUANTITY_BELOW_MINIMUM, f"Quantity is below {spec.symbol}'s minimum of {least}")
    return None
