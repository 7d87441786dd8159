"""Oracle guards: a price too old opens no new risk, and a price that jumps too far needs force.

Backpack publishes no rule for either, so these are ours:

- **Stale.** With `price_max_age_ms` set, an asset whose index price was last set more than that
  long before `now` is *stale*. While a price a subaccount's margin relies on (an asset it holds,
  lends or owes, or the base or quote of a perp it trades) is stale, a voluntary action that would
  lower its available margin is refused (`PRICE_STALE`): borrows, withdrawals, transfers out,
  orders that add exposure, leverage changes. Whatever lowers risk (deposits, repays, cancels,
  reduce-only orders, selling the stale asset) stays open, and liquidations never stop. An order
  in a market whose base or quote is stale is accepted only when it reduces a perp position or
  sells the spot base.
- **Jump.** With `price_jump_band` set, one `SetMarkPrices` that would move a price by more than
  that fraction of its current value is refused (`PRICE_JUMP_BEYOND_BAND`) unless it is sent with
  `force` (an operator who knows the market really moved).

Both settings are journaled (`ConfigureOracle`), so replay judges every command by the settings it
ran under. `serve` sets the age only on a flowing clock (wall or accelerated): on a manual clock
time jumps by hours.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.core.commands import ConfigureOracle, SetMarkPrices
from crossmargin.core.events import OracleConfigured
from crossmargin.core.ids import SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, format_scaled, mul_div_down, mul_div_up
from crossmargin.core.oracle_settings import OracleSettings
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.transaction import Transaction

MS_PER_SECOND = 1_000


@dataclass(frozen=True, slots=True)
class StalePrice:
    """An asset whose index price is older than the allowed age."""

    symbol: str
    age_ms: int


def stale_prices(tx: Transaction) -> list[StalePrice]:
    """Return the priced assets whose index price is older than the allowed age, by symbol."""
    settings = tx.oracle_settings()
    max_age = settings.price_max_age_ms
    if max_age is None:
        return []
    found = []
    for symbol in sorted(tx.state.mark_prices_wad):
        updated = tx.price_updated(symbol)
        age = tx.now_ms - (settings.configured_ms if updated is None else updated)
        if age > max_age:
            found.append(StalePrice(symbol, age))
    return found


def describe_stale_prices(found: list[StalePrice], price_max_age_ms: int) -> str:
    """Return a sentence naming the stale prices, for the status and refusals."""
    ages = ", ".join(f"{stale.symbol} ({stale.age_ms // MS_PER_SECOND} s old)" for stale in found)
    return (
        f"Stale index prices: {ages}; more than {price_max_age_ms // MS_PER_SECOND} s allowed. "
        "New risk against them is refused until they are refreshed; reducing and repaying stay open"
    )


def configure_oracle(tx: Transaction, command: ConfigureOracle) -> Rejection | None:
    """Set the oracle guards; prices count as fresh from now on if they had no age recorded."""
    if command.price_max_age_ms is not None and command.price_max_age_ms <= 0:
        return Rejection(RejectReason.PRICE_MUST_BE_POSITIVE, "The price age limit must be at least 1 ms")
    if command.price_jump_band is not None and command.price_jump_band.wad <= 0:
        return Rejection(RejectReason.PRICE_MUST_BE_POSITIVE, "The price jump band must be greater than zero")
    tx.oracle = OracleSettings(command.price_max_age_ms, command.price_jump_band, tx.now_ms)
    tx.emit(OracleConfigured(command.price_max_age_ms, command.price_jump_band, tx.now_ms))
    return None


def check_price_jumps(tx: Transaction, command: SetMarkPrices) -> Rejection | None:
    """Refuse an update moving a price beyond the jump band, unless forced."""
    band = tx.oracle_settings().price_jump_band
    if band is None or command.force:
        return None
    for symbol, price_wad in command.prices_wad:
        before = tx.mark_price(symbol)
        if not before:
            continue
        lowest = mul_div_up(before, WAD - min(band.wad, WAD), WAD)
        highest = mul_div_down(before, WAD + band.wad, WAD)
        if lowest <= price_wad <= highest:
            continue
        change = format_scaled(abs(price_wad - before) * 100 * WAD // before // 10**16 * 10**16, 18)
        return Rejection(
            RejectReason.PRICE_JUMP_BEYOND_BAND,
            f"{symbol} would move from {format_scaled(before, 18)} to {format_scaled(price_wad, 18)} "
            f"({change}%) in one update, beyond the {format_scaled(band.wad * 100, 18)}% band: "
            "check the price, or send it again with force to apply it",
        )
    return None


def _relied_on(tx: Transaction, subaccount_id: SubaccountId) -> set[str]:
    """Return the assets whose price the subaccount's margin reads: holdings and its perps' base and quote."""
    symbols = set(tx.held_symbols(subaccount_id))
    for position in tx.subaccount_perp_positions(subaccount_id):
        spec = tx.market(position.market)
        if spec is not None and position.quantity_atoms:
            symbols.update((spec.base, spec.quote))
    return symbols


def _describe(found: list[StalePrice], tx: Transaction) -> str:
    allowed = tx.oracle_settings().price_max_age_ms or 0
    ages = ", ".join(f"{stale.symbol} ({stale.age_ms // MS_PER_SECOND} s old)" for stale in found)
    return f"the index price of {ages} is older than the {allowed // MS_PER_SECOND} s allowed"


def stale_prices_relied_on(before: Transaction, after: Transaction, subaccount_id: SubaccountId) -> list[StalePrice]:
    """Return the stale prices the subaccount's margin reads before or after an action."""
    found = stale_prices(after)
    if not found:
        return []
    relied = _relied_on(before, subaccount_id) | _relied_on(after, subaccount_id)
    return [stale for stale in found if stale.symbol in relied]


def refuse_on_stale_prices(found: list[StalePrice], tx: Transaction) -> Rejection:
    """Return the refusal of an action that would open new risk against stale prices."""
    return Rejection(
        RejectReason.PRICE_STALE,
        f"Refused while {_describe(found, tx)}: only actions that lower risk are accepted until it is refreshed",
    )


def refuse_order_on_stale_market(tx: Transaction, spec: MarketSpec, *, reduces: bool) -> Rejection | None:
    """Refuse an order in a market whose base or quote price is stale, unless it reduces exposure."""
    found = [stale for stale in stale_prices(tx) if stale.symbol in (spec.base, spec.quote)]
    if not found or reduces:
        return None
    return Rejection(
        RejectReason.PRICE_STALE,
        f"{spec.symbol} takes only orders that reduce exposure while {_describe(found, tx)}",
    )
