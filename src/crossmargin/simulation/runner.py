"""The runner: replays a price path through `engine.execute` with a population, liquidating as it goes.

No service and no journal: the runner owns an `EngineState` and a clock that is the path's step
time, so a run is one fast, deterministic sequence of commands. Set-up: configure the assets and
markets, set the starting prices, fund the market maker and a base lender,
then create and set up every planned subaccount (a refused set-up command is counted, not fatal).

Each step, at the step's time: (1) the maker's orders leave the books whose index moved by a
level (the first command also runs everything that fell due: settlements, hourly interest and
funding); (2) `SetMarkPrices` with the prices that changed (perp marks follow the index on the
emptied books); (3) those ladders are placed again and traded ones refilled; (4) the risk sweep:
the `RiskScreen` candidates, confirmed by the exact margin math, and every subaccount still
`liquidating`, get `Liquidate` until none is left, planned round by round with the risk monitor's
own `plan_liquidations`. The screen's columns catch up with all events
since the last sweep, once, before each round of the sweep. The audit runs every
`audit_every` steps and at the end, with an exact check that the sweep left nobody liquidatable;
a failure stops the run with a `SimulationError` that says where.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from crossmargin.app.market_maker import MARKET_MAKER_FUNDS
from crossmargin.core.assets import AssetSpec
from crossmargin.core.audit import audit
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SetMarkPrices,
    Tick,
)
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.events import (
    AccountCreated,
    AutoDeleveraged,
    BorrowLendEventType,
    Event,
    LendIndexCut,
    LiquidationFinished,
    LiquidationStarted,
)
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_has_loss_to_share, fund_value_wad
from crossmargin.core.interest import compute_utilization
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD, format_scaled, parse_decimal
from crossmargin.core.state import EngineState
from crossmargin.core.view import StateView
from crossmargin.risk.columns import RiskColumns
from crossmargin.risk.plan import plan_liquidations
from crossmargin.risk.screen import RiskScreen, confirm
from crossmargin.simulation.ladder import LadderQuoter
from crossmargin.simulation.population import AccountPlan, Role
from crossmargin.simulation.price_paths import PriceStep

BASE_LIQUIDITY_USD_PER_ACCOUNT: Final = 1_000
BASE_LIQUIDITY_USD_MIN: Final = 50_000
"""The base lender supplies each pool this much per planned account (at least the minimum), so a
small population still finds every pool open, and utilization stays the population's doing."""
COMPILED_SCREEN_FROM: Final = 5_000
"""From this many accounts the numba screen pays for its compilation; below, numpy is quicker."""
SWEEP_ROUNDS_MAX: Final = 200


class SimulationError(RuntimeError):
    """The run cannot go on: the audit failed, or liquidation did not converge."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The state's vital signs after one step."""

    at_ms: int
    prices_wad: dict[str, int]
    fund_value_wad: int
    liquidations: int
    liquidation_steps: int
    backstops: int
    utilization_wad: dict[str, int]
    usdc_borrowed_by_source: dict[str, int]
    loss_shared_wad: int = 0
    loss_sharing_steps: int = 0
    lend_index_cuts: int = 0
    auto_deleverages: int = 0

    @property
    def fund_before_sharing_wad(self) -> int:
        """The fund's value had no loss ever been shared: its value less what ADL and lend-index cuts covered."""
        return self.fund_value_wad - self.loss_shared_wad


@dataclass(slots=True)
class Simulation:
    """One run: the state, the population's roles, and what the runner counted on the way."""

    specs: tuple[AssetSpec, ...]
    markets: tuple[MarketSpec, ...]
    path: Sequence[PriceStep]
    plans: Sequence[AccountPlan]
    audit_every: int = 0
    compiled_screen: bool | None = None
    state: EngineState = field(default_factory=EngineState)
    now_ms: int = 0
    roles: dict[SubaccountId, Role] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    commands: int = 0
    audits: int = 0
    liquidations: int = 0
    # Loss sharing (ADL and lend-index cuts, whichever command ran them), in USD WAD at the step's
    # marks (ADL losses in USDC at 1 USD, as the core counts them): what it covered for the fund,
    # what lenders and ADL counterparties lost, and how many commands shared a loss.
    loss_shared_wad: int = 0
    loss_sharing_steps: int = 0
    lender_loss_wad: int = 0
    adl_loss_wad: int = 0
    samples: list[Sample] = field(default_factory=list)
    liquidating: set[SubaccountId] = field(default_factory=set)
    quoter: LadderQuoter | None = None
    screen: RiskScreen | None = None
    _movements_seen: int = 0
    _unscreened: list[Event] = field(default_factory=list)
    _usdc_borrowed: dict[str, int] = field(default_factory=dict)

    # Commands -------------------------------------------------------------------------------

    def execute(self, command: Command) -> Accepted | Rejected:
        """Run one command at the current step's time and let the risk columns follow its events."""
        result = execute(self.state, command, self.now_ms)
        self.commands += 1
        if isinstance(result, Accepted):
            self._observe(result.events)
        return result

    def _observe(self, events: tuple[Event, ...]) -> None:
        self._unscreened.extend(events)
        if any(isinstance(event, LendIndexCut | AutoDeleveraged) for event in events):
            self.loss_sharing_steps += 1
        for event in events:
            if isinstance(event, LendIndexCut):
                self._value_cut(event)
            elif isinstance(event, AutoDeleveraged):
                loss_wad = event.loss_atoms * WAD // 10 ** self.state.markets[event.market].quote_decimals
                self.adl_loss_wad += loss_wad
                self.loss_shared_wad += loss_wad
            if isinstance(event, LiquidationStarted):
                self.liquidating.add(event.subaccount_id)
                self.liquidations += 1
            elif isinstance(event, LiquidationFinished):
                self.liquidating.discard(event.subaccount_id)

    def _value_cut(self, cut: LendIndexCut) -> None:
        """Value a cut at the step's mark: the lenders' loss, and the fund's debt it forgave (what it covered)."""
        price, unit = self.state.mark_prices_wad[cut.symbol], self.state.specs[cut.symbol].unit_atoms
        self.lender_loss_wad += cut.loss_atoms * price // unit
        self.loss_shared_wad += cut.debt_forgiven_atoms * price // unit

    def _screen_candidates(self) -> list[SubaccountId]:
        """Bring the screen's columns up to date with the events since the last call; return its candidates."""
        assert self.screen is not None, "set_up runs before the sweep"
        events, self._unscreened = self._unscreened, []
        self.screen.update(self.screen.columns.apply_events(self.state, events))
        return self.screen.subaccounts(self.screen.candidates())

    def _accepted(self, command: Command) -> Accepted:
        result = self.execute(command)
        assert isinstance(result, Accepted), f"the simulation's own set-up is always accepted: {command}: {result}"
        return result

    def _new_subaccount(self) -> SubaccountId:
        created = next(event for event in self._accepted(CreateAccount()).events if isinstance(event, AccountCreated))
        return created.subaccount_id

    # Set-up ---------------------------------------------------------------------------------

    def set_up(self) -> None:
        """Configure, price, fund the maker and the base lender, then set up every planned subaccount."""
        start = self.path[0]
        self.now_ms = start.at_ms
        self._accepted(ConfigureAssets(self.specs))
        self._accepted(ConfigureMarkets(self.markets))
        self._accepted(SetMarkPrices(start.prices_wad))
        compiled = self.compiled_screen
        if compiled is None:
            compiled = len(self.plans) >= COMPILED_SCREEN_FROM
        self.screen = RiskScreen(RiskColumns.from_state(self.state), compiled=compiled)
        self._unscreened.clear()
        maker = self._new_subaccount()
        self._fund(maker, MARKET_MAKER_FUNDS, lend=False)
        self._fund(self._new_subaccount(), self._base_liquidity(), lend=True)
        self.quoter = LadderQuoter(maker)
        self._requote(sorted(self.state.markets))
        for plan in self.plans:
            subaccount_id = self._new_subaccount()
            self.roles[subaccount_id] = plan.role
            for command in plan.bind(subaccount_id):
                result = self.execute(command)
                if isinstance(result, Rejected):
                    self.refusals[f"{plan.role.value} {type(command).__name__}: {result.rejection.reason}"] += 1
                if isinstance(command, PlaceOrder):
                    self._refill()
        self._record()

    def _base_liquidity(self) -> dict[str, str]:
        usd = max(BASE_LIQUIDITY_USD_PER_ACCOUNT * len(self.plans), BASE_LIQUIDITY_USD_MIN)
        quantities = {}
        for symbol, spec in sorted(self.state.specs.items()):
            atoms = usd * WAD * spec.unit_atoms // self.state.mark_prices_wad[symbol]
            quantities[symbol] = format_scaled(atoms - atoms % spec.step_atoms, spec.decimals)
        return quantities

    def _fund(self, subaccount_id: SubaccountId, quantities: dict[str, str], *, lend: bool) -> None:
        for symbol, quantity in quantities.items():
            spec = self.state.specs.get(symbol)
            if spec is None:
                continue
            atoms = parse_decimal(quantity, spec.decimals)
            self._accepted(Deposit(subaccount_id, symbol, atoms))
            if lend:
                self._accepted(ExecuteBorrowLend(subaccount_id, symbol, BorrowLendSide.LEND, atoms))

    # The maker ------------------------------------------------------------------------------

    def _requote(self, markets: Sequence[str]) -> None:
        assert self.quoter is not None, "the maker exists after set-up"
        for market in markets:
            for cancel in self.quoter.cancel(self.state, market):
                self._accepted(cancel)
            self._place(market)

    def _place(self, market: str) -> None:
        assert self.quoter is not None, "the maker exists after set-up"
        placed = 0
        for order in self.quoter.quotes(self.state, market):
            placed += isinstance(self.execute(order), Accepted)
        self.quoter.placed[market] = placed

    def _refill(self) -> None:
        assert self.quoter is not None, "the maker exists after set-up"
        self._requote(self.quoter.to_refill(self.state))

    # Steps ----------------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Set up, replay every step after the first, and audit; call `progress(steps done)` on the way."""
        self.set_up()
        for index, step in enumerate(self.path[1:], start=1):
            self.step(step)
            if self.audit_every and index % self.audit_every == 0:
                self.check(f"step {index}")
            if progress is not None:
                progress(index)
        self.check("the end")

    def step(self, step: PriceStep) -> None:
        """Move to the step's time and prices, re-quote, and liquidate whoever must be."""
        assert self.quoter is not None, "set_up runs before the steps"
        self.now_ms = max(step.at_ms, self.now_ms)
        changed = tuple(
            (symbol, price) for symbol, price in step.prices_wad if self.state.mark_prices_wad.get(symbol) != price
        )
        markets = self.quoter.moved(self.state, {**self.state.mark_prices_wad, **dict(changed)})
        for market in markets:
            for cancel in self.quoter.cancel(self.state, market):
                self._accepted(cancel)
        self._accepted(SetMarkPrices(changed) if changed else Tick())
        for market in markets:
            self._place(market)
        self._refill()
        self.sweep()
        self._record()

    def sweep(self) -> int:
        """Liquidate every confirmed candidate and every subaccount still liquidating; return the commands run."""
        commands = 0
        for _ in range(SWEEP_ROUNDS_MAX):
            targets = plan_liquidations(self._screen_candidates(), self.liquidating, self._confirm)
            if not targets:
                return commands + self._share_fund_loss()
            for subaccount_id in targets:
                result = self.execute(Liquidate(subaccount_id))
                commands += 1
                if isinstance(result, Rejected):
                    raise SimulationError(
                        f"Liquidate({subaccount_id}) was refused at {self.now_ms}: {result.rejection.message}"
                    )
                self._refill()
        raise SimulationError(
            f"liquidation did not converge in {SWEEP_ROUNDS_MAX} rounds at {self.now_ms}: "
            f"still liquidating {sorted(self.liquidating)[:10]}"
        )

    def _confirm(self, candidates: list[SubaccountId]) -> list[SubaccountId]:
        return confirm(self.state, candidates)

    def _share_fund_loss(self) -> int:
        """Have the fund share its loss if it fell below zero after a takeover, as the risk monitor does."""
        if not fund_has_loss_to_share(StateView(self.state)):
            return 0
        self.execute(Liquidate(INSURANCE_FUND_ID))
        return 1

    def check(self, where: str) -> None:
        """Run the audit and the exact post-sweep check; raise `SimulationError` naming what failed."""
        self.audits += 1
        failed = [check for check in audit(self.state) if not check.ok]
        if failed:
            details = "; ".join(f"{check.invariant}: {check.detail}" for check in failed[:5])
            raise SimulationError(f"the audit failed at {where} (time {self.now_ms}): {details}")
        others = [subaccount_id for subaccount_id in self.state.subaccounts if subaccount_id != INSURANCE_FUND_ID]
        missed = confirm(self.state, others)
        if missed:
            raise SimulationError(
                f"after the sweep at {where}, subaccounts {missed[:10]} are still at MMR >= 100% "
                "(the risk screen or the sweep missed them)"
            )

    def _record(self) -> None:
        movements = self.state.movements
        for movement in movements[self._movements_seen :]:
            if movement.symbol == "USDC" and movement.event_type is BorrowLendEventType.BORROW:
                source = movement.source.value
                self._usdc_borrowed[source] = self._usdc_borrowed.get(source, 0) + movement.quantity_atoms
        self._movements_seen = len(movements)
        fund = 0
        if INSURANCE_FUND_ID in self.state.subaccounts:
            fund = fund_value_wad(StateView(self.state))
        self.samples.append(
            Sample(
                at_ms=self.now_ms,
                prices_wad=dict(self.state.mark_prices_wad),
                fund_value_wad=fund,
                liquidations=self.liquidations,
                liquidation_steps=len(self.state.liquidation_steps),
                backstops=len(self.state.backstops),
                utilization_wad={
                    symbol: compute_utilization(pool.borrowed_atoms, pool.lent_atoms)
                    for symbol, pool in sorted(self.state.pools.items())
                },
                usdc_borrowed_by_source=dict(sorted(self._usdc_borrowed.items())),
                loss_shared_wad=self.loss_shared_wad,
                loss_sharing_steps=self.loss_sharing_steps,
                lend_index_cuts=len(self.state.lend_index_cuts),
                auto_deleverages=len(self.state.auto_deleverages),
            )
        )
