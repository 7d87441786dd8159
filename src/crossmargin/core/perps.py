"""Perpetual futures positions: signed size, what was paid for it, what is not yet settled.

A position in a perp market is a signed base quantity (long > 0, short < 0). `basis_atoms` is the
quote value the position was last settled at (trades add price x quantity, signed: buying adds,
selling subtracts); unrealized PnL is value at mark (rounded toward minus infinity) minus basis.
Every 10 seconds settlement realizes that PnL into the USDC balance and resets the basis to the
value at mark, so the position's size never changes. Fees and funding accumulate in `pending_*`
until the same settlement. `entry_cost_atoms` is the cost of the open size at the prices it was
entered at, giving `entryPrice`; it is display only and never moves money.
"""

from __future__ import annotations

from typing import NamedTuple

from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.markets import MarketSpec


class PerpPosition(NamedTuple):
    """A subaccount's position in one perpetual market (a NamedTuple: settlement makes 100,000s of them)."""

    position_id: PositionId
    subaccount_id: SubaccountId
    market: str
    quantity_atoms: int = 0
    basis_atoms: int = 0
    entry_cost_atoms: int = 0
    pending_fee_atoms: int = 0
    pending_funding_atoms: int = 0
    realized_pnl_atoms: int = 0
    cumulative_funding_atoms: int = 0
    pending_system_fee_atoms: int = 0
    """Liquidation fees the insurance fund was paid for this position, settled as `TradingFeesSystem`."""

    @property
    def is_flat(self) -> bool:
        """Return whether nothing is open and nothing waits to settle."""
        return (
            self.quantity_atoms == 0
            and self.basis_atoms == 0
            and self.pending_fee_atoms == 0
            and self.pending_funding_atoms == 0
            and self.pending_system_fee_atoms == 0
        )

    def unrealized_atoms(self, spec: MarketSpec, mark_price_wad: int) -> int:
        """Return PnL not yet settled, at mark: value (rounded down) minus basis."""
        return spec.value_floor(self.quantity_atoms, mark_price_wad) - self.basis_atoms

    def unsettled_atoms(self, spec: MarketSpec, mark_price_wad: int) -> int:
        """Return what the next settlement will move into USDC (signed): PnL, fees and funding."""
        return (
            self.unrealized_atoms(spec, mark_price_wad)
            - self.pending_fee_atoms
            - self.pending_system_fee_atoms
            + self.pending_funding_atoms
        )


def apply_trade(position: PerpPosition, signed_atoms: int, quote_atoms: int, fee_atoms: int) -> PerpPosition:
    """Return the position after buying (+) or selling (-) `signed_atoms` for `quote_atoms`."""
    before = position.quantity_atoms
    after = before + signed_atoms
    signed_quote = quote_atoms if signed_atoms > 0 else -quote_atoms
    if before == 0 or (before > 0) == (signed_atoms > 0):
        entry = position.entry_cost_atoms + signed_quote
    elif after == 0:
        entry = 0
    elif (after > 0) == (before > 0):
        entry = position.entry_cost_atoms * after // before
    else:
        entry = signed_quote * after // signed_atoms
    return PerpPosition(  # built directly: `_replace` is several times dearer, and this runs for every perp fill
        position.position_id,
        position.subaccount_id,
        position.market,
        after,
        position.basis_atoms + signed_quote,
        entry,
        position.pending_fee_atoms + fee_atoms,
        position.pending_funding_atoms,
        position.realized_pnl_atoms,
        position.cumulative_funding_atoms,
        position.pending_system_fee_atoms,
    )
