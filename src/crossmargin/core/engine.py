"""The engine: `execute(state, command, now)` is the only way state changes.

Every command runs in one fixed order: (1) open a transaction over the state and charge the
hourly interest that has fallen due; (2) validate and compute the command's movements inside the
transaction; (3) check margin on the what-if state for voluntary actions; (4) commit, the only
mutation; (5) return the events. A refusal at any step drops the transaction, so it leaves no
trace. The engine is pure: no I/O, clock, randomness or logging; `now` is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

from crossmargin.core.accounts import LEVERAGE_LIMIT_MAX, LEVERAGE_LIMIT_MIN, Subaccount
from crossmargin.core.assets import AssetSpec
from crossmargin.core.borrow_lend import borrow, describe, lend, redeem, repay
from crossmargin.core.bounds import check_command_bounds
from crossmargin.core.commands import (
    AddApiKey,
    BorrowLendSide,
    CancelAllOrders,
    CancelOrder,
    Command,
    ConfigureAssets,
    ConfigureMarkets,
    ConfigureOracle,
    CreateAccount,
    CreateSubaccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SeedDemo,
    SetMarkPrices,
    Tick,
    Transfer,
    UpdateSettings,
    Withdraw,
)
from crossmargin.core.due_work import run_due_work
from crossmargin.core.events import (
    AccountCreated,
    ApiKeyAdded,
    AssetsConfigured,
    BorrowLendSource,
    Deposited,
    Event,
    MarketsConfigured,
    MarkPricesSet,
    SettingsUpdated,
    SubaccountCreated,
    Transferred,
    Withdrew,
)
from crossmargin.core.funding import apply_auto_settings, fund_outflow
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, ensure_insurance_fund
from crossmargin.core.ledger import WORLD, entry, spot
from crossmargin.core.limits import (
    compute_max_borrowable,
    compute_max_withdrawal,
    is_margin_sufficient,
    refuse_new_risk_on_stale_prices,
)
from crossmargin.core.liquidation import liquidate
from crossmargin.core.markets import SETTLEMENT_INTERVAL_MS, MarketSpec
from crossmargin.core.marks import refresh_perp_marks
from crossmargin.core.numbers import AMOUNT_ATOMS_MAX, Ratio, format_scaled
from crossmargin.core.oracle import check_price_jumps, configure_oracle
from crossmargin.core.pools import Pool
from crossmargin.core.rejections import Rejection, RejectReason
from crossmargin.core.state import EngineState
from crossmargin.core.trading import cancel_all_orders, cancel_order, place_order
from crossmargin.core.transaction import Transaction


@dataclass(frozen=True, slots=True)
class Accepted:
    """The command was applied; these are its events."""

    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """The command was refused and changed nothing."""

    rejection: Rejection


def execute(state: EngineState, command: Command, now_ms: int) -> Accepted | Rejected:
    """Apply one command at time `now_ms`, or refuse it without a trace."""
    if now_ms < state.now_ms:
        return Rejected(
            Rejection(RejectReason.CLOCK_MUST_NOT_GO_BACK, f"Time {now_ms} is before the engine's time {state.now_ms}")
        )
    refused = check_command_bounds(command)
    if refused is not None:
        return Rejected(refused)
    tx = Transaction(state, now_ms)
    run_due_work(tx, now_ms)
    refused = apply_command(tx, command)
    if refused is not None:
        return Rejected(refused)
    tx.commit()
    return Accepted(tuple(tx.events) + _remark(state, now_ms))


def _remark(state: EngineState, now_ms: int) -> tuple[Event, ...]:
    """Re-mark the perps from the committed prices and books: the command's own changes included."""
    if not state.markets:
        return ()
    tx = Transaction(state, now_ms)
    if not refresh_perp_marks(tx):
        return ()
    if state.perp_positions:
        tx.mark_settlement_due(SETTLEMENT_INTERVAL_MS)
    tx.commit()
    return tuple(tx.events)


def apply_command(tx: Transaction, command: Command) -> Rejection | None:  # noqa: C901, PLR0911, PLR0912 -- one arm per command
    """Dispatch a command to its handler."""
    match command:
        case ConfigureAssets():
            return configure_assets(tx, command)
        case CreateAccount():
            return create_account(tx, command)
        case CreateSubaccount():
            return create_subaccount(tx, command)
        case AddApiKey():
            return add_api_key(tx, command)
        case Deposit():
            return deposit(tx, command)
        case Withdraw():
            return withdraw(tx, command)
        case Transfer():
            return transfer(tx, command)
        case ExecuteBorrowLend():
            return execute_borrow_lend(tx, command)
        case UpdateSettings():
            return update_settings(tx, command)
        case SetMarkPrices():
            return set_mark_prices(tx, command)
        case Tick():
            return None
        case ConfigureMarkets():
            return configure_markets(tx, command)
        case PlaceOrder():
            return place_order(tx, command)
        case CancelOrder():
            return cancel_order(tx, command)
        case CancelAllOrders():
            return cancel_all_orders(tx, command)
        case Liquidate():
            return liquidate(tx, command)
        case SeedDemo():
            return seed_demo(tx, command)
        case ConfigureOracle():
            return configure_oracle(tx, command)
        case _:
            assert_never(command)


def _subaccount(tx: Transaction, subaccount_id: SubaccountId) -> Subaccount | Rejection:
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


def _asset(tx: Transaction, symbol: str, quantity_atoms: int, *, stepped: bool) -> AssetSpec | Rejection:
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


def _check_api_keys(tx: Transaction, api_keys: tuple[str, ...]) -> Rejection | None:
    for api_key in api_keys:
        if api_keys.count(api_key) > 1 or tx.api_key_owner(api_key) is not None:
            return Rejection(RejectReason.API_KEY_TAKEN, f"API key {api_key} already signs for a subaccount")
    return None


def create_account(tx: Transaction, command: CreateAccount) -> Rejection | None:
    """Open an account with its first subaccount."""
    refused = _check_api_keys(tx, command.api_keys)
    if refused:
        return refused
    account_id = AccountId(tx.take_id("next_account_id"))
    subaccount_id = SubaccountId(tx.take_id("next_subaccount_id"))
    tx.accounts[account_id] = [subaccount_id]
    tx.subaccounts[subaccount_id] = Subaccount(subaccount_id, account_id, api_keys=command.api_keys)
    tx.emit(AccountCreated(account_id, subaccount_id))
    return None


def create_subaccount(tx: Transaction, command: CreateSubaccount) -> Rejection | None:
    """Open a further subaccount."""
    members = tx.account_subaccounts(command.account_id)
    if members is None:
        return Rejection(RejectReason.ACCOUNT_NOT_FOUND, f"Account {command.account_id} does not exist")
    refused = _check_api_keys(tx, command.api_keys)
    if refused:
        return refused
    subaccount_id = SubaccountId(tx.take_id("next_subaccount_id"))
    tx.accounts[command.account_id] = [*members, subaccount_id]
    tx.subaccounts[subaccount_id] = Subaccount(subaccount_id, command.account_id, api_keys=command.api_keys)
    tx.emit(SubaccountCreated(command.account_id, subaccount_id))
    return None


def add_api_key(tx: Transaction, command: AddApiKey) -> Rejection | None:
    """Register one more signing key for a subaccount (never the insurance fund's: it has none)."""
    if command.subaccount_id == INSURANCE_FUND_ID:
        return Rejection(
            RejectReason.SUBACCOUNT_NOT_FOUND,
            f"Subaccount {INSURANCE_FUND_ID} is the insurance fund: it is run by the engine and takes no API keys",
        )
    subaccount = _subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    refused = _check_api_keys(tx, (command.api_key,))
    if refused:
        return refused
    tx.subaccounts[subaccount.subaccount_id] = replace(subaccount, api_keys=(*subaccount.api_keys, command.api_key))
    tx.emit(ApiKeyAdded(subaccount.subaccount_id, command.api_key))
    return None


def deposit(tx: Transaction, command: Deposit) -> Rejection | None:
    """Credit a deposit, then apply auto-repay and auto-lend (a deposit to subaccount 0 funds the insurance fund)."""
    if command.subaccount_id == INSURANCE_FUND_ID:
        ensure_insurance_fund(tx)
    subaccount = _subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    spec = _asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    if isinstance(spec, Rejection):
        return spec
    atoms = command.quantity_atoms
    if atoms - tx.balance(WORLD, spec.symbol) > AMOUNT_ATOMS_MAX:
        return Rejection(
            RejectReason.QUANTITY_ABOVE_MAXIMUM,
            f"Deposits of {spec.symbol} would exceed the most the engine holds of one asset: 2^127 - 1 atoms",
        )
    tx.post(entry(spec.symbol, (spot(command.subaccount_id), atoms), (WORLD, -atoms)))
    tx.emit(Deposited(command.subaccount_id, spec.symbol, atoms, tx.now_ms))
    apply_auto_settings(tx, command.subaccount_id)
    return None


def withdraw(tx: Transaction, command: Withdraw) -> Rejection | None:
    """Send funds out, redeeming and borrowing as allowed; margin-checked."""
    subaccount = _subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    refused = refuse_while_liquidating(subaccount, "a withdrawal")
    if refused:
        return refused
    spec = _asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    if isinstance(spec, Rejection):
        return spec
    trial = Transaction(tx, tx.now_ms)
    refused = fund_outflow(
        trial,
        command.subaccount_id,
        spec,
        command.quantity_atoms,
        auto_borrow=command.auto_borrow,
        auto_lend_redeem=command.auto_lend_redeem or subaccount.auto_lend,
    )
    if refused:
        return replace(refused, message=f"Withdrawal refused: {refused.message}")
    trial.post(
        entry(spec.symbol, (spot(command.subaccount_id), -command.quantity_atoms), (WORLD, command.quantity_atoms))
    )
    refused = _check_withdrawal_margin(tx, trial, command, spec)
    if refused:
        return refused
    trial.emit(
        Withdrew(
            command.subaccount_id,
            spec.symbol,
            command.quantity_atoms,
            tx.now_ms,
            command.address,
            command.blockchain,
            command.client_id,
        )
    )
    trial.commit()
    return None


def _check_withdrawal_margin(
    tx: Transaction, trial: Transaction, command: Withdraw, spec: AssetSpec
) -> Rejection | None:
    """Refuse a withdrawal leaving available margin below zero, or valued by a stale price."""
    if not is_margin_sufficient(trial, command.subaccount_id):
        most = compute_max_withdrawal(
            tx,
            command.subaccount_id,
            spec.symbol,
            auto_borrow=command.auto_borrow,
            auto_lend_redeem=command.auto_lend_redeem,
        )
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"Withdrawal would leave your available margin below zero: max withdrawal is {describe(spec, most)}",
        )
    return refuse_new_risk_on_stale_prices(tx, trial, command.subaccount_id)


def _transfer_parties(tx: Transaction, command: Transfer) -> tuple[Subaccount, Subaccount, AssetSpec] | Rejection:
    source = _subaccount(tx, command.source_subaccount_id)
    target = _subaccount(tx, command.target_subaccount_id)
    if isinstance(source, Rejection):
        return source
    if isinstance(target, Rejection):
        return target
    if source.subaccount_id == target.subaccount_id:
        return Rejection(RejectReason.TRANSFER_TO_SELF, "A transfer needs two different subaccounts")
    if source.account_id != target.account_id:
        return Rejection(
            RejectReason.TRANSFER_BETWEEN_ACCOUNTS,
            f"Subaccounts {source.subaccount_id} and {target.subaccount_id} belong to different accounts",
        )
    spec = _asset(tx, command.symbol, command.quantity_atoms, stepped=False)
    return spec if isinstance(spec, Rejection) else (source, target, spec)


def transfer(tx: Transaction, command: Transfer) -> Rejection | None:
    """Move funds between subaccounts of one account; margin-checked on the sender."""
    parties = _transfer_parties(tx, command)
    if isinstance(parties, Rejection):
        return parties
    source, target, spec = parties
    refused = refuse_while_liquidating(source, "a transfer out")
    if refused:
        return refused
    trial = Transaction(tx, tx.now_ms)
    atoms = command.quantity_atoms
    refused = fund_outflow(
        trial, source.subaccount_id, spec, atoms, auto_borrow=False, auto_lend_redeem=source.auto_lend
    )
    if refused:
        return replace(refused, message=f"Transfer refused: {refused.message}")
    trial.post(entry(spec.symbol, (spot(source.subaccount_id), -atoms), (spot(target.subaccount_id), atoms)))
    if not is_margin_sufficient(trial, source.subaccount_id):
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"Transfer of {describe(spec, atoms)} would leave subaccount {source.subaccount_id}'s "
            "available margin below zero",
        )
    refused = refuse_new_risk_on_stale_prices(tx, trial, source.subaccount_id)
    if refused:
        return refused
    trial.emit(Transferred(source.subaccount_id, target.subaccount_id, spec.symbol, atoms, tx.now_ms))
    apply_auto_settings(trial, target.subaccount_id)
    trial.commit()
    return None


def execute_borrow_lend(tx: Transaction, command: ExecuteBorrowLend) -> Rejection | None:
    """Borrow or lend, netting against an opposite position (Backpack's POST /borrowLend)."""
    subaccount = _subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    spec = _asset(tx, command.symbol, command.quantity_atoms, stepped=True)
    if isinstance(spec, Rejection):
        return spec
    holding = tx.holding(subaccount.subaccount_id, spec.symbol)
    if command.side is BorrowLendSide.LEND:
        if not holding.debt_atoms:
            # Lending locks away a balance the liquidation may need to repay debts with.
            refused = refuse_while_liquidating(subaccount, "lending")
            if refused:
                return refused
            return lend(tx, subaccount.subaccount_id, spec, command.quantity_atoms, BorrowLendSource.MANUAL)
        return _repay_by_lend(tx, subaccount, spec, command.quantity_atoms, holding.debt_atoms)
    return _borrow_side(tx, subaccount, spec, command.quantity_atoms, holding.lend_atoms)


def _borrow_side(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, asked: int, lent: int) -> Rejection | None:
    refused = refuse_while_liquidating(subaccount, "borrowing or redeeming")
    if refused:
        return refused
    if subaccount.auto_lend:
        return Rejection(
            RejectReason.AUTO_LEND_MUST_BE_OFF,
            "Auto-lend is on: turn it off to borrow or redeem manually "
            "(with auto-lend on, idle balances are lent again at once)",
        )
    if not lent:
        return _borrow_checked(tx, subaccount, spec, asked)
    atoms = _within_step(asked, lent, spec)
    if atoms is None:
        return Rejection(
            RejectReason.BORROW_REQUIRES_LEND_REDEEM,
            f"You lend {describe(spec, lent)}: redeem it first (Borrow at most that much), then borrow",
        )
    return redeem(tx, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)


def _within_step(asked: int, whole: int, spec: AssetSpec) -> int | None:
    """Return the amount to move when `asked` is meant against `whole`: all of it within a step."""
    if asked <= whole:
        return asked
    return whole if asked - whole < spec.step_atoms else None


def _repay_by_lend(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, asked: int, debt: int) -> Rejection | None:
    if subaccount.auto_lend:
        return Rejection(
            RejectReason.AUTO_LEND_MUST_BE_OFF,
            "Auto-lend is on: it repays borrows by itself; turn it off to repay manually",
        )
    atoms = _within_step(asked, debt, spec)
    if atoms is None:
        return Rejection(
            RejectReason.LEND_REQUIRES_BORROW_REPAY,
            f"You owe {describe(spec, debt)}: repay it first (Lend at most that much), then lend",
        )
    return repay(tx, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)


def _borrow_checked(tx: Transaction, subaccount: Subaccount, spec: AssetSpec, atoms: int) -> Rejection | None:
    trial = Transaction(tx, tx.now_ms)
    refused = borrow(trial, subaccount.subaccount_id, spec, atoms, BorrowLendSource.MANUAL)
    if refused:
        return refused
    if not is_margin_sufficient(trial, subaccount.subaccount_id):
        most = compute_max_borrowable(tx, subaccount.subaccount_id, spec.symbol)
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"Borrow would exceed your available margin: max borrowable is {describe(spec, most)}",
        )
    refused = refuse_new_risk_on_stale_prices(tx, trial, subaccount.subaccount_id)
    if refused:
        return refused
    trial.commit()
    return None


def update_settings(tx: Transaction, command: UpdateSettings) -> Rejection | None:
    """Change settings; a lower leverage limit is margin-checked; auto settings apply at once."""
    subaccount = _subaccount(tx, command.subaccount_id)
    if isinstance(subaccount, Rejection):
        return subaccount
    leverage = command.leverage_limit or subaccount.leverage_limit
    refused = _refuse_risky_settings(subaccount, command, leverage)
    if refused:
        return refused
    if not LEVERAGE_LIMIT_MIN <= leverage <= LEVERAGE_LIMIT_MAX:
        return Rejection(
            RejectReason.LEVERAGE_LIMIT_OUT_OF_RANGE,
            f"Leverage limit must be between {LEVERAGE_LIMIT_MIN} and {LEVERAGE_LIMIT_MAX}",
        )
    updated = replace(
        subaccount,
        leverage_limit=leverage,
        auto_lend=_choose(command.auto_lend, subaccount.auto_lend),
        auto_repay_borrows=_choose(command.auto_repay_borrows, subaccount.auto_repay_borrows),
        auto_borrow_settlements=_choose(command.auto_borrow_settlements, subaccount.auto_borrow_settlements),
    )
    tx.subaccounts[subaccount.subaccount_id] = updated
    # INV-MARGIN-1 covers every leverage change: one that leaves available < 0 is refused,
    # even a raise (which helps, but may not help enough).
    if leverage != subaccount.leverage_limit and not is_margin_sufficient(tx, subaccount.subaccount_id):
        return Rejection(
            RejectReason.MARGIN_INSUFFICIENT,
            f"A leverage limit of {leverage}x would leave your available margin below zero: "
            "add collateral or repay borrows first",
        )
    apply_auto_settings(tx, subaccount.subaccount_id)
    tx.emit(
        SettingsUpdated(
            updated.subaccount_id,
            updated.leverage_limit,
            updated.auto_lend,
            updated.auto_repay_borrows,
            updated.auto_borrow_settlements,
        )
    )
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


def _refuse_risky_settings(subaccount: Subaccount, command: UpdateSettings, leverage: Ratio) -> Rejection | None:
    """While liquidating, refuse a setting that could add risk or take balances the liquidation needs."""
    if not subaccount.liquidating:
        return None
    risky = [
        (leverage > subaccount.leverage_limit, "raising the leverage limit"),
        (command.auto_lend is True and not subaccount.auto_lend, "turning auto-lend on"),
        (
            command.auto_borrow_settlements is True and not subaccount.auto_borrow_settlements,
            "turning auto-borrow of settlements on",
        ),
        (command.auto_repay_borrows is False and subaccount.auto_repay_borrows, "turning auto-repay off"),
    ]
    for adds_risk, action in risky:
        if adds_risk:
            return refuse_while_liquidating(subaccount, action)
    return None


def _choose(requested: bool | None, current: bool) -> bool:
    return current if requested is None else requested


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


def _check_market(tx: Transaction, spec: MarketSpec) -> Rejection | None:
    for symbol, decimals in ((spec.base, spec.base_decimals), (spec.quote, spec.quote_decimals)):
        asset = tx.spec(symbol)
        if asset is None:
            return Rejection(RejectReason.ASSET_NOT_FOUND, f"{spec.symbol} trades {symbol!r}, which is not listed")
        if asset.decimals != decimals:
            return Rejection(
                RejectReason.ORDER_INVALID,
                f"{spec.symbol} must use {symbol}'s {asset.decimals} decimals, not {decimals}",
            )
    if not spec.grid_is_exact():
        return Rejection(
            RejectReason.ORDER_INVALID,
            f"{spec.symbol}: one tick times one step must be a whole number of {spec.quote} atoms",
        )
    return None


def configure_markets(tx: Transaction, command: ConfigureMarkets) -> Rejection | None:
    """List order books, or update their parameters."""
    for spec in command.specs:
        refused = _check_market(tx, spec)
        if refused:
            return refused
        tx.markets[spec.symbol] = spec
    tx.emit(MarketsConfigured(tuple(spec.symbol for spec in command.specs)))
    return None
