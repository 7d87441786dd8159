"""Dust conversion: a balance too small to trade is converted into USDC at the mark, with the exchange.

Backpack's rule (its spec for `POST /api/v1/account/convertDust`): the balance, lend included,
must be less than the minimum quantity tradable on the asset's spot order book. Here a balance is
dust when its spot balance plus its lend is above zero, below the minimum quantity of the asset's
`<asset>_USDC` spot market, and the asset is not borrowed; what open orders lock is not part of it.

A conversion redeems the lend (source `DustConversion`), then moves the whole balance to the
exchange's `DUST_CONVERSIONS` ledger account and pays from it `floor(quantity x mark / USDC's mark)`
USDC atoms: exact atoms, rounded in the exchange's favour; the exchange pays at most the value it
takes in. Each entry balances, so the ledger still sums to zero per asset, and the statement shows
the asset leaving and the USDC arriving (`DustConversion` rows). The result is margin-checked like
any voluntary action, then auto-repay and auto-lend apply to the USDC received.
"""

from __future__ import annotations

from crossmargin.core.assets import describe
from crossmargin.core.borrow_lend import redeem
from crossmargin.core.commands import ConvertDust
from crossmargin.core.events import BorrowLendSource, DustConverted
from crossmargin.core.funding import apply_auto_settings
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import DUST_CONVERSIONS, entry, spot
from crossmargin.core.limits import is_margin_sufficient, refuse_new_risk_on_stale_prices
from crossmargin.core.numbers import mul_div_down
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction
from crossmargin.core.validation import find_subaccount, refuse_while_liquidating

QUOTE = "USDC"


def dust_atoms(tx: Transaction, subaccount_id: SubaccountId, symbol: str) -> int | Rejection:
    """Return the dust a subaccount holds of an asset (spot + lend), or why that balance is not dust."""
    spec = tx.spec(symbol)
    if spec is None or symbol == QUOTE:
        return Rejection(
            RejectReason.NOT_DUST, f"{symbol} cannot be converted: dust is of listed assets other than USDC"
        )
    market = tx.market(f"{symbol}_{QUOTE}")
    if market is None or market.is_perp:
        return Rejection(RejectReason.NOT_DUST, f"{symbol} has no {symbol}_{QUOTE} spot market to measure dust by")
    holding = tx.holding(subaccount_id, symbol)
    total = holding.spot_atoms + holding.lend_atoms
    if holding.debt_atoms or holding.spot_atoms < 0 or not 0 < total < market.min_quantity_atoms:
        return Rejection(
            RejectReason.NOT_DUST,
            f"Your {symbol} balance of {describe(spec, total)} (lend included) is not dust: dust is above zero, "
            f"not borrowed and below the {market.symbol} minimum order quantity of "
            f"{describe(spec, market.min_quantity_atoms)}",
        )
    return total


def _dust_to_convert(tx: Transaction, command: ConvertDust) -> dict[str, int] | Rejection:
    """Return the dust the command converts, per asset: the named asset's, or every dust balance."""
    subaccount = find_subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    refused = refuse_while_liquidating(subaccount, "a dust conversion")
    if refused:
        return refused
    if tx.spec(QUOTE) is None or not tx.mark_price(QUOTE):
        return Rejection(RejectReason.MARK_PRICE_MISSING, "Dust converts into USDC, which has no price here")
    if command.symbol is not None:
        found = dust_atoms(tx, command.subaccount_id, command.symbol)
        return found if isinstance(found, Rejection) else {command.symbol: found}
    candidates = {
        symbol: dust_atoms(tx, command.subaccount_id, symbol) for symbol in tx.held_symbols(command.subaccount_id)
    }
    dust = {symbol: atoms for symbol, atoms in candidates.items() if isinstance(atoms, int)}
    return dust or Rejection(RejectReason.NOT_DUST, "You hold no dust: no balance is below its spot market's minimum")


def convert_dust(tx: Transaction, command: ConvertDust) -> Rejection | None:
    """Convert one asset's dust (or every dust balance) into USDC; margin-checked."""
    dust = _dust_to_convert(tx, command)
    if isinstance(dust, Rejection):
        return dust
    trial = Transaction(tx, tx.now_ms)
    for symbol in sorted(dust):
        refused = _convert(trial, command.subaccount_id, symbol, dust[symbol])
        if refused:
            return refused
    if not is_margin_sufficient(trial, command.subaccount_id):
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT, "Dust conversion would leave your available margin below zero"
        )
    refused = refuse_new_risk_on_stale_prices(tx, trial, command.subaccount_id)
    if refused:
        return refused
    apply_auto_settings(trial, command.subaccount_id)
    trial.commit()
    return None


def _convert(tx: Transaction, subaccount_id: SubaccountId, symbol: str, atoms: int) -> Rejection | None:
    spec, quote = tx.spec(symbol), tx.spec(QUOTE)
    assert spec is not None, "dust is of a listed asset"
    assert quote is not None, "USDC is listed: checked before"
    price = tx.mark_price(symbol)
    if not price:
        return Rejection(RejectReason.MARK_PRICE_MISSING, f"{symbol} has no price to convert its dust at")
    lent = tx.holding(subaccount_id, symbol).lend_atoms
    if lent:
        refused = redeem(tx, subaccount_id, spec, lent, BorrowLendSource.DUST_CONVERSION)
        if refused:
            return refused
    usdc = mul_div_down(atoms * price, quote.unit_atoms, spec.unit_atoms * tx.mark_price(QUOTE))
    tx.post(entry(symbol, (spot(subaccount_id), -atoms), (DUST_CONVERSIONS, atoms)))
    tx.post(entry(QUOTE, (DUST_CONVERSIONS, -usdc), (spot(subaccount_id), usdc)))  # a zero leg drops
    tx.emit(DustConverted(subaccount_id, symbol, atoms, usdc, tx.now_ms))
    return None
