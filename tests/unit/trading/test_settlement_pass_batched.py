"""A settlement pass, one `PositionsSettled` per market, equals the per-position rows it replaced.

`_reference` below is the pass as it was written before the batched event: one loop over every
perp position (the state's order), up to four `Settled` rows per position (realized PnL, trading
fees, liquidation fees, funding), one credit per subaccount, `PERP_CLEARING` and `TRADING_FEES`
taking the other side. For random positions in the three perp markets (any size, any basis,
pending fees and funding of either sign) the batched pass must give the same rows (per market,
in the positions' order), the same new positions and the same ledger, to the atom; and every
subaccount's statement must still add up to its balance (INV-STATEMENT-1).
"""

from __future__ import annotations

from collections import defaultdict

from engine_driver import Driver
from hypothesis import example, given
from hypothesis import strategies as st

from crossmargin.core.events import PositionsSettled, Settled, SettlementSource, ShortfallCovered, settled_rows
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.ledger import PERP_CLEARING, TRADING_FEES, LedgerAccount, spot
from crossmargin.core.numbers import WAD
from crossmargin.core.perps import PerpPosition
from crossmargin.core.settlement import settle
from crossmargin.core.state import EngineState
from crossmargin.core.statement import holding_total, statement_totals
from crossmargin.core.transaction import Transaction

MARKETS = ("BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP")
NOW_MS = 3_600_000
SUBACCOUNTS = 6

Fields = tuple[int, int, int, int, int, int]
"""quantity, basis, trading fee, funding, liquidation fee, realized so far."""

_fields = st.tuples(
    st.integers(-(10**10), 10**10) | st.just(0),
    st.integers(-(10**13), 10**13) | st.just(0),
    st.integers(0, 10**9) | st.just(0),
    st.integers(-(10**9), 10**9) | st.just(0),
    st.integers(0, 10**8) | st.just(0),
    st.integers(-(10**12), 10**12),
)
_book = st.dictionaries(
    st.tuples(st.integers(0, SUBACCOUNTS - 1), st.sampled_from(MARKETS)), _fields, min_size=0, max_size=14
)


def _state(book: dict[tuple[int, str], Fields], deposits: list[int]) -> EngineState:
    """Return a state with funded subaccounts holding the positions of `book`, set directly."""
    driver = Driver()
    driver.prices(USDC="1", BTC="60000", ETH="3000", SOL="150")
    subaccounts = [driver.account() for _ in range(SUBACCOUNTS)]
    for subaccount, amount in zip(subaccounts, deposits, strict=True):
        driver.deposit(subaccount, "USDC", str(amount))
    for number, ((owner, market), fields) in enumerate(book.items()):
        quantity, basis, fee, funding, system_fee, realized = fields
        subaccount = subaccounts[owner]
        driver.state.perp_positions[(subaccount, market)] = PerpPosition(
            PositionId(number + 1), subaccount, market, quantity, basis, basis, fee, funding, realized, 7, system_fee
        )
    return driver.state


def _reference(
    state: EngineState, tx: Transaction
) -> tuple[list[Settled], dict[tuple[SubaccountId, str], PerpPosition], dict[tuple[LedgerAccount, str], int]]:
    """The per-position pass: its rows grouped by market (markets by symbol), new positions, ledger after."""
    rows: dict[str, list[Settled]] = defaultdict(list)
    positions: dict[tuple[SubaccountId, str], PerpPosition] = {}
    deltas: dict[LedgerAccount, int] = defaultdict(int)
    for key, position in state.perp_positions.items():
        spec = state.markets[position.market]
        value = (
            position.quantity_atoms * tx.perp_mark(spec.symbol) * spec.quote_unit_atoms // (spec.base_unit_atoms * WAD)
        )
        pnl = value - position.basis_atoms
        fee, funding = position.pending_fee_atoms, position.pending_funding_atoms
        system_fee = position.pending_system_fee_atoms
        if not (pnl or fee or funding or system_fee):
            continue
        positions[key] = position._replace(
            basis_atoms=value,
            pending_fee_atoms=0,
            pending_funding_atoms=0,
            pending_system_fee_atoms=0,
            realized_pnl_atoms=position.realized_pnl_atoms + pnl,
        )
        deltas[spot(position.subaccount_id)] += pnl + funding - fee - system_fee
        deltas[PERP_CLEARING] -= pnl + funding - system_fee
        deltas[TRADING_FEES] += fee
        for source, amount in (
            (SettlementSource.REALIZE_PNL, pnl),
            (SettlementSource.TRADING_FEES, -fee),
            (SettlementSource.TRADING_FEES_SYSTEM, -system_fee),
            (SettlementSource.FUNDING_PAYMENT, funding),
        ):
            if amount:
                rows[position.market].append(
                    Settled(position.subaccount_id, position.market, source, amount, position.position_id, NOW_MS)
                )
    ledger = {
        (account, "USDC"): state.ledger.get((account, "USDC"), 0) + delta for account, delta in deltas.items() if delta
    }
    return [row for market in sorted(rows) for row in rows[market]], positions, ledger


@given(book=_book, deposits=st.lists(st.integers(1, 100_000), min_size=SUBACCOUNTS, max_size=SUBACCOUNTS))
# A position whose PnL pays its fee exactly: rows, but no credit, so nothing is posted for it.
@example(book={(0, "BTC_USDC_PERP"): (0, -5, 5, 0, 0, 0)}, deposits=[1] * SUBACCOUNTS)
def test_the_batched_pass_moves_what_the_per_position_pass_moved(
    book: dict[tuple[int, str], Fields], deposits: list[int]
) -> None:
    state = _state(book, deposits)
    tx = Transaction(state, NOW_MS)
    settle(tx)
    rows, positions, ledger = _reference(state, tx)
    passes = [event for event in tx.events if isinstance(event, PositionsSettled)]
    assert [each.market for each in passes] == sorted({position.market for position in positions.values()})
    assert list(settled_rows(tx.events)) == rows
    assert tx.perp_positions == positions
    assert tx.ledger == ledger
    short = sorted(
        SubaccountId(account.owner)
        for (account, _), balance in ledger.items()
        if account.kind is spot(0).kind and balance < 0
    )
    assert [event.subaccount_id for event in tx.events if isinstance(event, ShortfallCovered)] == short
    tx.commit()
    totals = statement_totals(state)
    for subaccount_id in state.subaccounts:
        assert totals.get((subaccount_id, "USDC"), 0) == holding_total(state, subaccount_id, "USDC")
