"""The engine: `execute(state, command, now)` is the only way state changes.

Every command runs in one fixed order: (1) open a transaction over the state and charge the
hourly interest that has fallen due; (2) validate and compute the command's movements inside the
transaction; (3) check margin on the what-if state for voluntary actions; (4) re-mark the perps
from the prices and books the command leaves and fire the trigger orders they reached; (5)
commit, once, the only mutation; (6) return the events. A refusal at any step drops the
transaction, so it leaves no trace. `preview` runs the same steps without the commit: every
what-if question asks it, so none can disagree with `execute`. The engine is pure: no I/O,
clock, randomness or logging; `now` is an argument.

`HANDLERS` maps each command type to its handler, one logic module per family: accounts and keys
(`account_logic`), deposits, withdrawals and transfers (`funds_logic`), borrow-lend
(`borrow_lend_logic`), settings (`settings_logic`, and the operator's `account_limits`),
configuration and prices (`config_logic`, `oracle`), trading (`trading`, `trigger_orders`) and
liquidation (`liquidation`). The journal's codec reads its list of command types from the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar, cast, get_args

from crossmargin.core.account_limits import set_account_limits
from crossmargin.core.account_logic import add_api_key, create_account, create_subaccount, revoke_api_key
from crossmargin.core.assets import describe
from crossmargin.core.borrow_lend_logic import execute_borrow_lend
from crossmargin.core.bounds import check_command_bounds
from crossmargin.core.commands import (
    AddApiKey,
    CancelAllOrders,
    CancelOrder,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    ConfigureOracle,
    ConvertDust,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    RevokeApiKey,
    SeedDemo,
    SetAccountLimits,
    SetMarkPrices,
    SetWithdrawalDelay,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.config_logic import configure_assets, configure_markets, seed_demo, set_mark_prices
from crossmargin.core.due_work import run_due_work
from crossmargin.core.dust import convert_dust
from crossmargin.core.events import Event
from crossmargin.core.funds_logic import deposit, transfer, withdraw
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import Accepts, largest_borrow, largest_order, largest_withdrawal
from crossmargin.core.liquidation import liquidate
from crossmargin.core.oracle import configure_oracle
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.remark import remark
from crossmargin.core.settings_logic import update_settings
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.core.trigger_orders import cancel_all_any_orders, cancel_any_order, place_any_order
from crossmargin.core.triggers import run_triggers
from crossmargin.core.view import StateView
from crossmargin.core.withdrawal_delay import set_withdrawal_delay


@dataclass(slots=True, init=False, unsafe_hash=True)
class Accepted:
    """The command was applied; these are its events."""

    events: Final[tuple[Event, ...]]

    def __init__(self, events: tuple[Event, ...]) -> None:
        self.events = events


@dataclass(frozen=True, slots=True)
class Rejected:
    """The command was refused and changed nothing."""

    rejection: Rejection


def execute(state: EngineState, command: Command, now_ms: int) -> Accepted | Rejected:
    """Apply one command at time `now_ms`, or refuse it without a trace."""
    refused = _refuse_unrunnable(state, command, now_ms)
    if refused is not None:
        return Rejected(refused)
    tx = Transaction(state, now_ms)
    run_due_work(tx, now_ms)
    refused = run_command(tx, command)
    if refused is not None:
        # A margin refusal leaves `tx` as due work left it: the handlers check margin on a child.
        return Rejected(_with_max_figure(tx, command, refused))
    tx.commit()
    return Accepted(tuple(tx.events))


@dataclass(frozen=True, slots=True)
class Preview:
    """What `execute` would do, computed and not committed: its outcome and the state before and after.

    `before` is the state at the command's time once what fell due has run (the state every "what
    if" and "how much at most" question starts from); `after` adds the command (it is `before` when
    the command is refused).
    """

    outcome: Accepted | Rejected
    before: StateView
    after: StateView

    @property
    def rejection(self) -> Rejection | None:
        """Return the refusal `execute` would give, or None if it would accept the command."""
        return self.outcome.rejection if isinstance(self.outcome, Rejected) else None


def preview(base: EngineState | Transaction, command: Command, now_ms: int, *, max_figure: bool = True) -> Preview:
    """Run a command exactly as `execute` would at `now_ms`, without committing it.

    The same steps in the same order (clock and bounds checks, the work that fell due, the
    handler, the re-mark), so a preview's refusal, events and figures are the ones `execute`
    would give. `base` may be a transaction: the preview then runs on top of its pending writes.
    `max_figure=False` is for the max searches' own probes: a refusal keeps the handler's reason
    and leaves out the "max is X" sentence, which would run the search again.
    """
    refused = _refuse_unrunnable(base, command, now_ms)
    if refused is not None:
        view = StateView(base)
        return Preview(Rejected(refused), view, view)
    before = StateView(base, now_ms)
    run_due_work(before, now_ms)
    after = StateView(before, now_ms)
    refused = run_command(after, command)
    if refused is not None:
        if max_figure:
            refused = _with_max_figure(before, command, refused)
        return Preview(Rejected(refused), before, before)
    return Preview(Accepted((*before.events, *after.events)), before, after)


def state_at(base: EngineState | Transaction, now_ms: int) -> StateView:
    """Return the state at `now_ms` (never before its own time) once what fell due by then has run."""
    return preview(base, Tick(), max(now_ms, base.now_ms)).before


def compute_max_borrowable(base: EngineState | Transaction, subaccount_id: SubaccountId, symbol: str) -> int:
    """Return the most atoms (a multiple of the step) a manual `Borrow` accepts at `base`'s time.

    Each amount tried is a `preview` of the `Borrow` a user would send, so the figure is what
    `execute` accepts and one step more is refused. 0 for a lender: a `Borrow` redeems a lend.
    """
    now = state_at(base, base.now_ms)
    return largest_borrow(now, subaccount_id, symbol, _accepts(now))


def compute_max_withdrawal(
    base: EngineState | Transaction,
    subaccount_id: SubaccountId,
    symbol: str,
    *,
    auto_borrow: bool,
    auto_lend_redeem: bool,
) -> int:
    """Return the most atoms a `Withdraw` with these options accepts at `base`'s time; one atom more is refused."""
    now = state_at(base, base.now_ms)
    return largest_withdrawal(
        now, subaccount_id, symbol, _accepts(now), auto_borrow=auto_borrow, auto_lend_redeem=auto_lend_redeem
    )


def compute_max_order_quantity(base: EngineState | Transaction, order: PlaceOrder) -> int:
    """Return the most atoms an order like `order` (its quantity ignored) `execute` accepts at `base`'s time.

    Each quantity tried is a `preview` of that very order, so the figure is accepted and one step
    more is refused (within the ceilings `limits.largest_order` explains).
    """
    now = state_at(base, base.now_ms)
    return largest_order(now, order, _accepts(now))


def _accepts(now: Transaction) -> Accepts:
    def accepts(command: Command) -> bool:
        return preview(now, command, now.now_ms, max_figure=False).rejection is None

    return accepts


def _with_max_figure(now: Transaction, command: Command, refused: Rejection) -> Rejection:
    """Add "max borrowable/withdrawal is X" to a borrow's or a withdrawal's margin refusal (only at the top level)."""
    if refused.reason is not RejectReason.MARGIN_INSUFFICIENT:
        return refused
    if isinstance(command, Withdraw):
        options = {"auto_borrow": command.auto_borrow, "auto_lend_redeem": command.auto_lend_redeem}
        most, what = compute_max_withdrawal(now, command.subaccount_id, command.symbol, **options), "withdrawal"
    elif isinstance(command, ExecuteBorrowLend):
        most, what = compute_max_borrowable(now, command.subaccount_id, command.symbol), "borrowable"
    else:
        return refused
    spec = now.spec(command.symbol)
    assert spec is not None, "a margin refusal names a listed asset"
    return replace(refused, message=f"{refused.message}: max {what} is {describe(spec, most)}")


def _refuse_unrunnable(base: EngineState | Transaction, command: Command, now_ms: int) -> Rejection | None:
    if now_ms < base.now_ms:
        message = f"Time {now_ms} is before the engine's time {base.now_ms}"
        return Rejection(RejectReason.CLOCK_MUST_NOT_GO_BACK, message)
    return check_command_bounds(command)


def run_command(tx: Transaction, command: Command) -> Rejection | None:
    """Run a command's handler, re-mark the perps from what it leaves, fire the triggers its prices reached."""
    refused = apply_command(tx, command)
    if refused is None:
        remark(tx)
        run_triggers(tx)
    return refused


# Each handler takes its own command type; `_handler` has mypy check each pair as the table is
# built, so the table's values can be typed for any command.
Handler = Callable[[Transaction, Any], Rejection | None]
CommandT = TypeVar("CommandT", bound=Command)


def _handler(
    kind: type[CommandT], handle: Callable[[Transaction, CommandT], Rejection | None]
) -> tuple[type[Command], Handler]:
    # mypy does not see a type bound by a union as a type of that union; the bound guarantees it.
    return cast("type[Command]", kind), handle


def let_time_pass(tx: Transaction, command: Tick) -> Rejection | None:  # noqa: ARG001 -- a handler's signature
    """Accept a tick: `execute` has already run what fell due; the tick itself changes nothing."""
    return None


HANDLERS: Final[dict[type[Command], Handler]] = dict(
    [
        _handler(ConfigureAssets, configure_assets),
        _handler(CreateAccount, create_account),
        _handler(CreateSubaccount, create_subaccount),
        _handler(Deposit, deposit),
        _handler(Withdraw, withdraw),
        _handler(Transfer, transfer),
        _handler(ExecuteBorrowLend, execute_borrow_lend),
        _handler(UpdateSettings, update_settings),
        _handler(SetMarkPrices, set_mark_prices),
        _handler(Tick, let_time_pass),
        _handler(ConfigureMarkets, configure_markets),
        _handler(PlaceOrder, place_any_order),
        _handler(CancelOrder, cancel_any_order),
        _handler(CancelAllOrders, cancel_all_any_orders),
        _handler(Liquidate, liquidate),
        _handler(AddApiKey, add_api_key),
        _handler(RevokeApiKey, revoke_api_key),
        _handler(SeedDemo, seed_demo),
        _handler(ConfigureOracle, configure_oracle),
        _handler(ConvertDust, convert_dust),
        _handler(SetWithdrawalDelay, set_withdrawal_delay),
        _handler(SetAccountLimits, set_account_limits),
    ]
)
"""The handler of every command type: the one place that says which code runs a command."""
assert set(HANDLERS) == set(get_args(Command)), "every command type has exactly one handler"


def apply_command(tx: Transaction, command: Command) -> Rejection | None:
    """Dispatch a command to its handler."""
    return HANDLERS[type(command)](tx, command)
