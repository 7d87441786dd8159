"""A naive reference model of spot balances, lends and debts, in exact fractions.

Goal: a second, independent opinion on every balance the engine keeps. The engine stores scaled
integers and interest indices and rounds each conversion in the pool's favour; this model knows
nothing of scales or indices. It keeps, per subaccount and asset, the spot balance (an int), and
for a lend or a debt its value as an exact `Fraction`, grown by the textbook formulas of
DESIGN.md: a borrow adds its amount plus an entry fee of amount * APR * ms_to_next_hour /
(365 * 24 * 3600 * 1000); each hour multiplies every debt by 1 + APR / 8760; lenders share
(1 - fee) of what borrowers were charged, in proportion to their claims.

Method: the stateful test hands the model each accepted command with the engine's events. The
model predicts every movement the command implies (auto-lend, auto-repay, redeem and borrow for
a withdrawal, in the engine's documented order), checks each event against its prediction and
applies it. What it takes from the engine: the APRs (from `InterestCharged` and
`EntryFeeCharged`; the stateful test checks each against the rate curve at the pool's
utilization with `borrow_apr_bounds`), the hour's total charge (the lenders' income, itself
checked against the model's debts), the quantity of an "all of it" movement (repay-all,
redeem-all; checked to lie within the position's tolerance), and the pool's indices, only to size
the tolerance of one rounding (a scaled unit is worth index / 10**27 atoms). `check` then compares
the engine's state with the model.

Tolerance, and why (every term is one of the engine's documented roundings, all in the pool's
favour; I is the pool's borrow index and J its lend index, both about 1.0):

- Spot balances: exact, to the atom.
- Debts: 0 <= engine - model < slack + 1. A borrow adds to `slack` < 1 atom (entry fee rounded
  up) + < I atoms (scaled debt minted rounded up); a partial repay adds < I (scaled debt burned
  rounded down); each hour multiplies `slack` by the hour's growth and adds < debt / 10**27 (the
  index rounded up); the final 1 is the read (debt = scaled * index, rounded up). So a debt is
  never below the model and above it by about one atom per borrow or repay.
- Lends: -(below + 1) < engine - model <= above. A lend or a partial redeem adds < J to `below`
  (scaled lend minted down, burned up); each interest credit (hourly charge or entry fee) adds to
  `below` this lender's share of < 2 atoms + lent / 10**27 (the lenders' cut and the claims rounded
  down, the lend index rounded down); the final 1 is the read (rounded down). `above` only covers
  how a pool-wide shortfall shifts shares between lenders: interest * shortfall / lent, millionths
  of an atom. So a lend is never above the model (beyond that sliver) and below it by about one
  atom per movement and per interest credit.
- Pool borrow index: between the compounded hourly growth and that plus 10**-27 per hour.
- Hourly totals: the engine's charge lies within one atom of the growth of its own debts (so
  within the debts' slack of the model's), and lenders get (1 - fee) of it less < 2 atoms.

After each interest step the model snaps values down and tolerances up to a grid of 10**-40
atoms (see GRID): exact fractions compounded over days would grow to thousands of digits.

Observed on 300 random runs of 50 steps (dev machine): debts at most 3.0 atoms above the model
(allowed 7.0), lends at most 132 atoms below it after ~200 hourly credits of one pool (allowed
150; lenders' cut is rounded down every hour, the remainder goes to fee income), never above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from crossmargin.core.assets import AssetSpec, PoolState, RateCurve
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    SetMarkPrices,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.events import (
    AccountCreated,
    AssetsConfigured,
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    Deposited,
    EntryFeeCharged,
    Event,
    InterestCharged,
    MarkPricesSet,
    SettingsUpdated,
    SubaccountCreated,
    Transferred,
    Withdrew,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import LedgerAccount, LedgerKind
from crossmargin.core.pools import debt_atoms, lend_atoms
from crossmargin.core.state import EngineState

WAD = 10**18  # the model's own constants: it shares no arithmetic with the engine
RAY = 10**27
MS_PER_HOUR = 3_600_000
MS_PER_YEAR = 365 * 24 * MS_PER_HOUR
HOURS_PER_YEAR = 365 * 24

EventT = TypeVar("EventT", bound=Event)
Key = tuple[SubaccountId, str]


@dataclass
class DebtTrack:
    """A debt in the model: exact value and how far above it the engine may be."""

    owed: Fraction
    slack: Fraction
    principal_atoms: int


@dataclass
class LendTrack:
    """A lend in the model: exact claim and how far below / above it the engine may be."""

    claim: Fraction
    below: Fraction
    above: Fraction
    principal_atoms: int


@dataclass
class Flags:
    """The settings that make the engine move money on a subaccount's behalf."""

    auto_lend: bool = False
    auto_repay_borrows: bool = False


class EventCursor:
    """Walks a command's events in order, failing loudly on anything unexpected."""

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = list(events)
        self._at = 0

    def peek(self) -> Event | None:
        return self._events[self._at] if self._at < len(self._events) else None

    def take(self, kind: type[EventT]) -> EventT:
        event = self.peek()
        assert isinstance(event, kind), f"model expected {kind.__name__} next, engine emitted {event}"
        self._at += 1
        return event

    def finish(self) -> None:
        left = self._events[self._at :]
        assert not left, f"engine emitted events the model did not predict: {left}"


# Hourly growth factors have denominators of 8760 * 10**18; compounded over days, exact fractions
# would grow to thousands of digits. After each interest step the model snaps its values down and
# its tolerances up to this grid, which keeps the bounds rigorous (they widen by at most 10**-40
# atoms per step).
GRID = 10**40


def _grid_down(value: Fraction) -> Fraction:
    return Fraction(math.floor(value * GRID), GRID)


def _grid_up(value: Fraction) -> Fraction:
    return Fraction(math.ceil(value * GRID), GRID)


def _next_hour_ms(now_ms: int) -> int:
    return (now_ms // MS_PER_HOUR + 1) * MS_PER_HOUR


class ReferenceModel:
    """Exact-fraction balances of every subaccount, advanced command by command."""

    def __init__(self) -> None:
        self.specs: dict[str, AssetSpec] = {}
        self.flags: dict[SubaccountId, Flags] = {}
        self.spot: dict[Key, int] = {}
        self.debts: dict[Key, DebtTrack] = {}
        self.lends: dict[Key, LendTrack] = {}
        self.borrow_growth: dict[str, Fraction] = {}
        self.borrow_index_max: dict[str, Fraction] = {}
        self.now_ms = 0

    # Applying accepted commands -------------------------------------------------------------

    def apply(self, command: Command, events: Iterable[Event], state: EngineState, now_ms: int) -> None:
        """Follow one accepted command: hourly interest first, then the command's movements."""
        self.now_ms = now_ms
        cursor = EventCursor(events)
        while isinstance(cursor.peek(), InterestCharged):
            self._charge_hour(cursor.take(InterestCharged))
        self._dispatch(command, cursor, state)
        cursor.finish()

    def _dispatch(self, command: Command, cursor: EventCursor, state: EngineState) -> None:
        match command:
            case ConfigureAssets():
                cursor.take(AssetsConfigured)
                for spec in command.specs:
                    self.specs[spec.symbol] = spec
                    self.borrow_growth.setdefault(spec.symbol, Fraction(1))
                    self.borrow_index_max.setdefault(spec.symbol, Fraction(1))
            case CreateAccount():
                self.flags[cursor.take(AccountCreated).subaccount_id] = Flags()
            case CreateSubaccount():
                self.flags[cursor.take(SubaccountCreated).subaccount_id] = Flags()
            case Deposit():
                self._deposit(command, cursor, state)
            case Withdraw():
                self._withdraw(command, cursor, state)
            case Transfer():
                self._transfer(command, cursor, state)
            case ExecuteBorrowLend():
                self._borrow_lend(command, cursor, state)
            case UpdateSettings():
                self._update_settings(command, cursor, state)
            case SetMarkPrices():
                cursor.take(MarkPricesSet)
            case Tick():
                pass

    def _deposit(self, command: Deposit, cursor: EventCursor, state: EngineState) -> None:
        event = cursor.take(Deposited)
        assert (event.subaccount_id, event.symbol, event.quantity_atoms) == (
            command.subaccount_id,
            command.symbol,
            command.quantity_atoms,
        )
        self._add_spot((command.subaccount_id, command.symbol), command.quantity_atoms)
        self._auto_settle(command.subaccount_id, cursor, state)

    def _withdraw(self, command: Withdraw, cursor: EventCursor, state: EngineState) -> None:
        key = (command.subaccount_id, command.symbol)
        redeem_allowed = command.auto_lend_redeem or self.flags[command.subaccount_id].auto_lend
        self._fund_outflow(key, command.quantity_atoms, cursor, state, redeem_allowed, command.auto_borrow)
        event = cursor.take(Withdrew)
        assert (event.subaccount_id, event.symbol, event.quantity_atoms) == (*key, command.quantity_atoms)
        self._add_spot(key, -command.quantity_atoms)

    def _transfer(self, command: Transfer, cursor: EventCursor, state: EngineState) -> None:
        source = (command.source_subaccount_id, command.symbol)
        target = (command.target_subaccount_id, command.symbol)
        redeem_allowed = self.flags[command.source_subaccount_id].auto_lend
        self._fund_outflow(source, command.quantity_atoms, cursor, state, redeem_allowed, auto_borrow=False)
        event = cursor.take(Transferred)
        assert (event.source_subaccount_id, event.target_subaccount_id, event.quantity_atoms) == (
            command.source_subaccount_id,
            command.target_subaccount_id,
            command.quantity_atoms,
        )
        self._add_spot(source, -command.quantity_atoms)
        self._add_spot(target, command.quantity_atoms)
        self._auto_settle(command.target_subaccount_id, cursor, state)

    def _borrow_lend(self, command: ExecuteBorrowLend, cursor: EventCursor, state: EngineState) -> None:
        key = (command.subaccount_id, command.symbol)
        quantity = command.quantity_atoms
        if command.side is BorrowLendSide.LEND and key in self.debts:
            self._repay(key, cursor, state, BorrowLendSource.MANUAL, quantity)
        elif command.side is BorrowLendSide.LEND:
            self._lend(key, quantity, cursor, state, BorrowLendSource.MANUAL)
        elif key in self.lends:
            self._redeem(key, cursor, state, BorrowLendSource.MANUAL, quantity)
        else:
            self._borrow(key, quantity, cursor, state, BorrowLendSource.MANUAL)

    def _update_settings(self, command: UpdateSettings, cursor: EventCursor, state: EngineState) -> None:
        flags = self.flags[command.subaccount_id]
        if flags.auto_lend and command.auto_lend is False:
            # Turning auto-lend off redeems every lend in full, in symbol order (`auto_lend_off.py`).
            for symbol in self._symbols_of(command.subaccount_id):
                key = (command.subaccount_id, symbol)
                if key in self.lends:
                    self._redeem(key, cursor, state, BorrowLendSource.AUTO_LEND, None, up_to=None)
                    assert key not in self.lends, f"turning auto-lend off left a lend of {key}"
        if command.auto_lend is not None:
            flags.auto_lend = command.auto_lend
        if command.auto_repay_borrows is not None:
            flags.auto_repay_borrows = command.auto_repay_borrows
        self._auto_settle(command.subaccount_id, cursor, state)
        event = cursor.take(SettingsUpdated)
        assert (event.auto_lend, event.auto_repay_borrows) == (flags.auto_lend, flags.auto_repay_borrows)

    # Policies: what the engine does on a subaccount's behalf --------------------------------

    def _auto_settle(self, subaccount_id: SubaccountId, cursor: EventCursor, state: EngineState) -> None:
        """Auto-repay borrows from idle balances, then auto-lend the rest (symbol order)."""
        flags = self.flags[subaccount_id]
        if not (flags.auto_lend or flags.auto_repay_borrows):
            return
        source = BorrowLendSource.AUTO_LEND if flags.auto_lend else BorrowLendSource.AUTO_BORROW_REPAY
        for symbol in self._symbols_of(subaccount_id):
            key = (subaccount_id, symbol)
            if self.spot.get(key, 0) > 0 and key in self.debts:
                self._repay(key, cursor, state, source, None)
            idle = self.spot.get(key, 0)
            buys_a_share = idle * RAY // state.pools[symbol].lend_index_ray > 0  # dust stays idle
            if flags.auto_lend and idle > 0 and buys_a_share and self.specs[symbol].pool_state is PoolState.OPEN:
                self._lend(key, idle, cursor, state, BorrowLendSource.AUTO_LEND)

    def _fund_outflow(
        self,
        key: Key,
        quantity: int,
        cursor: EventCursor,
        state: EngineState,
        redeem_allowed: bool,
        auto_borrow: bool,
    ) -> None:
        """Redeem lends, then borrow, for what the spot balance lacks (as the command allows)."""
        short = quantity - self.spot.get(key, 0)
        if short > 0 and redeem_allowed and key in self.lends:
            self._redeem(key, cursor, state, BorrowLendSource.WITHDRAWAL, None, up_to=short)
            short = quantity - self.spot.get(key, 0)
        if short > 0:
            assert auto_borrow, f"an accepted outflow of {quantity} from {key} without auto-borrow was covered"
            assert key not in self.lends, f"{key} borrowed for a withdrawal while still lending"
            self._borrow(key, short, cursor, state, BorrowLendSource.WITHDRAWAL)

    # Movements ------------------------------------------------------------------------------

    def _take_move(
        self, cursor: EventCursor, key: Key, kind: BorrowLendEventType, source: BorrowLendSource
    ) -> BorrowLendMoved:
        event = cursor.take(BorrowLendMoved)
        assert (event.subaccount_id, event.symbol, event.event_type, event.source) == (*key, kind, source), (
            f"model expected {kind} ({source}) on {key}, engine emitted {event}"
        )
        return event

    def _lend(self, key: Key, quantity: int, cursor: EventCursor, state: EngineState, source: BorrowLendSource) -> None:
        event = self._take_move(cursor, key, BorrowLendEventType.LEND, source)
        assert event.quantity_atoms == quantity, f"lend of {key}: model {quantity}, engine {event.quantity_atoms}"
        self._add_spot(key, -quantity)
        track = self.lends.setdefault(key, LendTrack(Fraction(0), Fraction(0), Fraction(0), 0))
        track.claim += quantity
        track.below += self._lend_index(state, key[1])
        track.principal_atoms += quantity
        if event.position_scaled_after == 0:
            # A lend smaller than one scaled unit mints nothing: the pool keeps it (rounding down).
            self._close_lend(key, Fraction(0))

    def _redeem(
        self,
        key: Key,
        cursor: EventCursor,
        state: EngineState,
        source: BorrowLendSource,
        quantity: int | None,
        up_to: int | None = None,
    ) -> None:
        """Redeem `quantity`, or (auto) min(up_to, the whole claim), whose exact size the event tells."""
        event = self._take_move(cursor, key, BorrowLendEventType.LEND_REDEEM, source)
        moved = event.quantity_atoms
        if quantity is not None:
            assert moved == quantity, f"redeem of {key}: model {quantity}, engine {moved}"
        if up_to is not None:
            assert moved <= up_to, f"redeem of {key} took {moved}, more than the {up_to} needed"
            if moved < up_to:
                assert event.position_scaled_after == 0, "redeeming less than needed means redeeming it all"
        self._add_spot(key, moved)
        track = self.lends[key]
        track.claim -= moved
        track.principal_atoms -= moved
        if event.position_scaled_after == 0:
            # The whole claim (or all but what rounding up the burn takes) was redeemed.
            self._close_lend(key, 1 + self._lend_index(state, key[1]))
            return
        track.below += self._lend_index(state, key[1])

    def _close_lend(self, key: Key, rounding_allowed: Fraction) -> None:
        track = self.lends.pop(key)
        # The engine now holds exactly nothing for this lend: zero must lie within the bounds.
        assert -track.above <= track.claim < track.below + rounding_allowed, (
            f"engine closed the lend {key}, but the model still has {float(track.claim)} atoms "
            f"(tolerance -{float(track.below + rounding_allowed)} / +{float(track.above)})"
        )

    def _borrow(
        self, key: Key, quantity: int, cursor: EventCursor, state: EngineState, source: BorrowLendSource
    ) -> None:
        event = self._take_move(cursor, key, BorrowLendEventType.BORROW, source)
        assert event.quantity_atoms == quantity, f"borrow of {key}: model {quantity}, engine {event.quantity_atoms}"
        fee_event = cursor.take(EntryFeeCharged)
        interval_ms = _next_hour_ms(self.now_ms) - self.now_ms
        assert fee_event.interval_ms == interval_ms, "the entry fee runs from now to the next full hour"
        fee_exact = Fraction(quantity * fee_event.rate_wad * interval_ms, WAD * MS_PER_YEAR)
        assert fee_event.quantity_atoms == math.ceil(fee_exact), (
            f"entry fee of {key}: model {fee_exact} (rounded up {math.ceil(fee_exact)}), "
            f"engine {fee_event.quantity_atoms}"
        )
        self._add_spot(key, quantity)
        track = self.debts.setdefault(key, DebtTrack(Fraction(0), Fraction(0), 0))
        track.owed += quantity + fee_exact
        track.slack += 1 + self._borrow_index(state, key[1])
        track.principal_atoms += quantity
        self._credit_lenders(key[1], fee_event.quantity_atoms)

    def _repay(
        self, key: Key, cursor: EventCursor, state: EngineState, source: BorrowLendSource, quantity: int | None
    ) -> None:
        """Repay `quantity`, or (auto) min(spot, the whole debt), whose exact size the event tells."""
        event = self._take_move(cursor, key, BorrowLendEventType.BORROW_REPAY, source)
        moved = event.quantity_atoms
        spot = self.spot.get(key, 0)
        if quantity is not None:
            assert moved == quantity, f"repay of {key}: model {quantity}, engine {moved}"
        else:
            assert moved <= spot, f"auto-repay of {key} took {moved}, more than the spot balance {spot}"
            if moved < spot:
                assert event.position_scaled_after == 0, "repaying less than the balance means repaying it all"
        self._add_spot(key, -moved)
        track = self.debts[key]
        track.owed -= moved
        track.principal_atoms -= moved
        if event.position_scaled_after == 0:
            self.debts.pop(key)
            # Repay-all pays the engine's debt, which lies in [model, model + slack + 1).
            assert -(track.slack + 1) < track.owed <= 0, (
                f"engine closed the debt {key} on a repay of {moved}, but the model owed "
                f"{float(track.owed + moved)} (slack {float(track.slack)})"
            )
            return
        track.slack += self._borrow_index(state, key[1])

    # Interest -------------------------------------------------------------------------------

    def _charge_hour(self, event: InterestCharged) -> None:
        """Grow every debt of the pool by APR / 8760 and share the charge among lenders."""
        symbol = event.symbol
        growth = 1 + Fraction(event.borrow_rate_wad, HOURS_PER_YEAR * WAD)
        tracks = [track for (_, owned), track in sorted(self.debts.items()) if owned == symbol]
        owed = sum((track.owed for track in tracks), Fraction(0))
        slack = sum((track.slack for track in tracks), Fraction(0))
        charged = event.borrowers_atoms
        # What the engine charges is the growth of its own (slightly higher) debts, read rounded up.
        assert owed * (growth - 1) - 1 < charged < (owed + slack) * (growth - 1) + (owed + slack) / RAY + 1, (
            f"{symbol} hour {event.hour_ms}: engine charged {charged}, the model's debts grew by "
            f"{float(owed * (growth - 1))} (slack {float(slack)})"
        )
        for track in tracks:
            highest = (track.owed + track.slack) * growth + (track.owed + track.slack) / RAY
            track.owed = _grid_down(track.owed * growth)
            track.slack = _grid_up(highest - track.owed)
        self.borrow_growth[symbol] = _grid_down(self.borrow_growth[symbol] * growth)
        self.borrow_index_max[symbol] = _grid_up(self.borrow_index_max[symbol] * growth + Fraction(1, RAY))
        lenders = [track for (_, owned), track in self.lends.items() if owned == symbol]
        lent = sum((track.claim for track in lenders), Fraction(0))
        if lent > 0:
            income = charged * Fraction(WAD - self.specs[symbol].fee.wad, WAD)
            engine_lent_max = lent + sum((track.above for track in lenders), Fraction(0))
            # Lenders get the income rounded down, less what the rounded-down index loses.
            assert income - 2 - engine_lent_max / RAY < event.lenders_atoms <= income, (
                f"{symbol} hour {event.hour_ms}: lenders got {event.lenders_atoms} of an income of {float(income)}"
            )
        self._credit_lenders(symbol, charged)

    def _credit_lenders(self, symbol: str, charged: int) -> None:
        """Share (1 - fee) of a charge among the pool's lenders, in proportion to their claims."""
        income = charged * Fraction(WAD - self.specs[symbol].fee.wad, WAD)
        tracks = [track for (_, owned), track in sorted(self.lends.items()) if owned == symbol]
        lent = sum((track.claim for track in tracks), Fraction(0))
        if lent <= 0 or income == 0:
            return
        shortfall = sum((track.below for track in tracks), Fraction(0))
        excess = sum((track.above for track in tracks), Fraction(0))
        engine_lent_min = lent - shortfall
        engine_lent_max = lent + excess
        growth_min = 1 + max(Fraction(0), income - 2 - engine_lent_max / RAY) / engine_lent_max
        for track in tracks:
            claim_after = track.claim * (1 + income / lent)
            highest = track.claim + track.above
            # The engine's share is its claim / the engine's total; a lower total can only
            # raise a share, and no lender gets more than the whole income.
            highest_after = highest + income
            if engine_lent_min > 0:
                highest_after = min(highest_after, highest * (1 + income / engine_lent_min))
            lowest_after = max(Fraction(0), track.claim - track.below) * growth_min
            track.claim = _grid_down(claim_after)
            track.above = _grid_up(highest_after - track.claim)
            track.below = _grid_up(track.claim - lowest_after)

    # Comparing with the engine ---------------------------------------------------------------

    def check(self, state: EngineState) -> None:
        """Assert the engine's balances and positions equal the model's, within tolerance."""
        self._check_spot(state)
        self._check_positions(state)
        for symbol, pool in state.pools.items():
            index = Fraction(pool.borrow_index_ray, RAY)
            assert self.borrow_growth[symbol] <= index <= self.borrow_index_max[symbol], (
                f"{symbol} borrow index {index} outside the model's compounded growth "
                f"[{float(self.borrow_growth[symbol])}, {float(self.borrow_index_max[symbol])}]"
            )

    def _check_spot(self, state: EngineState) -> None:
        engine = {
            (SubaccountId(account.owner), symbol): balance
            for (account, symbol), balance in state.ledger.items()
            if account.kind is LedgerKind.SPOT and balance
        }
        model = {key: balance for key, balance in self.spot.items() if balance}
        assert engine == model, f"spot balances differ: engine {engine}, model {model}"

    def _check_positions(self, state: EngineState) -> None:
        expected = dict.fromkeys(self.debts, "debt") | dict.fromkeys(self.lends, "lend")
        actual = {key: "debt" if position.debt_scaled else "lend" for key, position in state.positions.items()}
        assert actual == expected, f"positions differ: engine {actual}, model {expected}"
        for key, position in state.positions.items():
            pool = state.pools[key[1]]
            if position.debt_scaled:
                debt = self.debts[key]
                engine_debt = debt_atoms(position.debt_scaled, pool.borrow_index_ray)
                assert debt.owed <= engine_debt < debt.owed + debt.slack + 1, (
                    f"debt of {key}: engine {engine_debt}, model {float(debt.owed)} (+{float(debt.slack)} + 1)"
                )
                assert position.principal_atoms == debt.principal_atoms, f"principal of the debt {key}"
            else:
                lend = self.lends[key]
                engine_lend = lend_atoms(position.lend_scaled, pool.lend_index_ray)
                assert lend.claim - lend.below - 1 < engine_lend <= lend.claim + lend.above, (
                    f"lend of {key}: engine {engine_lend}, model {float(lend.claim)} "
                    f"(-{float(lend.below)} - 1 / +{float(lend.above)})"
                )
                assert position.principal_atoms == lend.principal_atoms, f"principal of the lend {key}"

    # Helpers --------------------------------------------------------------------------------

    def _add_spot(self, key: Key, delta: int) -> None:
        balance = self.spot.get(key, 0) + delta
        assert balance >= 0, f"the model's spot balance of {key} would go negative: {balance}"
        self.spot[key] = balance

    def _symbols_of(self, subaccount_id: SubaccountId) -> list[str]:
        keys: Iterable[Key] = [*self.spot, *self.debts, *self.lends]
        return sorted({symbol for owner, symbol in keys if owner == subaccount_id})

    @staticmethod
    def _borrow_index(state: EngineState, symbol: str) -> Fraction:
        """Return the pool's borrow index after the command: the most a scaled unit is worth."""
        return Fraction(state.pools[symbol].borrow_index_ray, RAY)

    @staticmethod
    def _lend_index(state: EngineState, symbol: str) -> Fraction:
        """Return the pool's lend index after the command (indices never fall, so an upper bound)."""
        return Fraction(state.pools[symbol].lend_index_ray, RAY)


def borrow_apr(curve: RateCurve, utilization: Fraction) -> Fraction:
    """Return the two-slope borrow APR at a utilization, exactly (DESIGN.md: kink, steep above)."""
    base, slope1, slope2 = (Fraction(ratio.wad, WAD) for ratio in (curve.base, curve.slope1, curve.slope2))
    optimal = Fraction(curve.optimal_utilization.wad, WAD)
    used = min(utilization, Fraction(1))
    if used <= optimal:
        return base + slope1 * used / optimal
    return base + slope1 + slope2 * (used - optimal) / (1 - optimal)


def borrow_apr_bounds(state: EngineState, symbol: str) -> tuple[Fraction, Fraction]:
    """Return the APR the pool's utilization allows now: exact, and with the engine's rounding up.

    Utilization is borrowed / supplied as the pool's ledger accounts show them, supplied being
    lenders' claims plus the pool's reserves (fee income and rounding). The engine rounds the
    utilization up to a wei and the rate up to a wei, so its rate lies within these bounds.
    """
    ledger = state.ledger
    borrowed = -ledger.get((LedgerAccount(LedgerKind.BORROWERS), symbol), 0)
    supplied = sum(
        ledger.get((LedgerAccount(kind), symbol), 0)
        for kind in (LedgerKind.LENDERS, LedgerKind.FEE_INCOME, LedgerKind.ROUNDING)
    )
    utilization = Fraction(borrowed, supplied) if supplied else Fraction(0)
    curve = state.specs[symbol].rate_curve
    return borrow_apr(curve, utilization), borrow_apr(curve, utilization + Fraction(1, WAD)) + Fraction(1, WAD)
