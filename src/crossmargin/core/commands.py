"""Commands: the frozen inputs of the engine, one per use case, in the imperative.

Quantities are atoms of the command's asset and prices are USD per whole unit scaled by WAD: the
edges (API, CLI, config) parse decimal strings into these before a command is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from crossmargin.core.assets import AssetSpec
from crossmargin.core.ids import AccountId, SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import (
    NO_FLAGS,
    CancelScope,
    OrderFlags,
    OrderId,
    OrderSide,
    OrderType,
    SelfTradePrevention,
    TimeInForce,
    TriggerBy,
)


class BorrowLendSide(StrEnum):
    """Backpack's `BorrowLendSide`."""

    BORROW = "Borrow"
    LEND = "Lend"


@dataclass(frozen=True, slots=True)
class ConfigureAssets:
    """List assets and their pools, or update their parameters (decimals never change)."""

    specs: tuple[AssetSpec, ...]


@dataclass(frozen=True, slots=True)
class CreateAccount:
    """Open an account with its first subaccount, signing with the given ED25519 public keys."""

    api_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateSubaccount:
    """Open a further subaccount in an account, signing with the given ED25519 public keys."""

    account_id: AccountId
    api_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddApiKey:
    """Let one more ED25519 public key sign for an existing subaccount; its other keys keep working."""

    subaccount_id: SubaccountId
    api_key: str


@dataclass(frozen=True, slots=True)
class RevokeApiKey:
    """Stop an API key of a subaccount from signing; the subaccount keeps at least one other key."""

    subaccount_id: SubaccountId
    api_key: str


@dataclass(frozen=True, slots=True)
class Deposit:
    """Credit an on-chain deposit to a subaccount."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Send funds out; optionally redeem lends and borrow for what the balance lacks."""

    subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int
    auto_borrow: bool = False
    auto_lend_redeem: bool = False
    address: str = ""
    blockchain: str = ""
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class Transfer:
    """Move funds between two subaccounts of one account."""

    source_subaccount_id: SubaccountId
    target_subaccount_id: SubaccountId
    symbol: str
    quantity_atoms: int


@dataclass(frozen=True, slots=True)
class ExecuteBorrowLend:
    """Backpack's `POST /api/v1/borrowLend`: borrow or lend, netting against the other side.

    `whole_position` (repay all, redeem all) moves the whole opposite position, to the atom, as
    it stands when the command runs, the interest that fell due before it in the same command
    included: with side `Lend` it repays the whole debt, with side `Borrow` it redeems the whole
    lend; it never opens a position. `quantity_atoms` is then the most the caller agrees to move
    (positive, not bound to the step grid; `AMOUNT_ATOMS_MAX` for no bound): a position larger
    than that is refused (`WHOLE_POSITION_ABOVE_QUANTITY`), and so is a missing one
    (`POSITION_NOT_FOUND`). The rules of a partial repay or redeem still apply (auto-lend off;
    no redeem while liquidating; a repay needs the balance). Journals written before the field
    existed decode it as False.
    """

    subaccount_id: SubaccountId
    symbol: str
    side: BorrowLendSide
    quantity_atoms: int
    whole_position: bool = False


@dataclass(frozen=True, slots=True)
class UpdateSettings:
    """Change a subaccount's settings; `None` leaves a setting as it is."""

    subaccount_id: SubaccountId
    leverage_limit: Ratio | None = None
    auto_lend: bool | None = None
    auto_repay_borrows: bool | None = None
    auto_borrow_settlements: bool | None = None


@dataclass(frozen=True, slots=True)
class SetAccountLimits:
    """The operator sets a subaccount's account-wide limits (USD, WAD); `None` leaves one as it is."""

    subaccount_id: SubaccountId
    borrow_limit_wad: int | None = None
    position_limit_wad: int | None = None


@dataclass(frozen=True, slots=True)
class SetMarkPrices:
    """Set index prices (USD per unit, WAD) of assets; `force` passes the jump band (`oracle.py`)."""

    prices_wad: tuple[tuple[str, int], ...]
    force: bool = False


@dataclass(frozen=True, slots=True)
class ConfigureOracle:
    """Set the oracle guards: the oldest a price may be, and the farthest one update may move it."""

    price_max_age_ms: int | None = None
    price_jump_band: Ratio | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """Let time pass: run everything that has fallen due (settlements, hourly interest and funding)."""


@dataclass(frozen=True, slots=True)
class ConfigureMarkets:
    """List order books or update their parameters (their assets must be listed)."""

    specs: tuple[MarketSpec, ...]


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Backpack's `POST /api/v1/order`: a limit or market order.

    A market order gives `quantity_atoms` or (spot only) `quote_quantity_atoms`; a limit order a
    price on the tick grid and a quantity on the step grid. With `trigger_price_wad` it is a
    trigger order (for `trigger_quantity_atoms`, else `quantity_atoms`, else a reduce-only order's
    whole position); the `stop_loss_*` and `take_profit_*` fields attach a stop loss and a take
    profit (`core/triggers.py`). Journals written before these fields existed decode them as None.
    """

    subaccount_id: SubaccountId
    market: str
    side: OrderSide
    order_type: OrderType
    quantity_atoms: int | None
    price_wad: int | None = None
    quote_quantity_atoms: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_id: int | None = None
    flags: OrderFlags = NO_FLAGS
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.REJECT_TAKER
    trigger_price_wad: int | None = None
    trigger_quantity_atoms: int | None = None
    trigger_by: TriggerBy | None = None
    stop_loss_trigger_price_wad: int | None = None
    stop_loss_limit_price_wad: int | None = None
    stop_loss_trigger_by: TriggerBy | None = None
    take_profit_trigger_price_wad: int | None = None
    take_profit_limit_price_wad: int | None = None
    take_profit_trigger_by: TriggerBy | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Backpack's `DELETE /api/v1/order`: by order id or by client id."""

    subaccount_id: SubaccountId
    market: str
    order_id: OrderId | None = None
    client_id: int | None = None


@dataclass(frozen=True, slots=True)
class CancelAllOrders:
    """Backpack's `DELETE /api/v1/orders`: every open order of a subaccount in a market.

    `scope` limits it to resting orders or to pending trigger orders; None cancels both.
    """

    subaccount_id: SubaccountId
    market: str
    scope: CancelScope | None = None


@dataclass(frozen=True, slots=True)
class SeedDemo:
    """Set up a fresh exchange for a demo in one step, all or nothing.

    Sets the index prices, opens a lender that deposits and lends `liquidity_atoms` of each
    asset, and, with `market_maker_api_key`, opens the market maker's subaccount funded with
    `market_maker_funds_atoms`. Refused once the exchange has any subaccount or price.
    """

    prices_wad: tuple[tuple[str, int], ...]
    liquidity_atoms: tuple[tuple[str, int], ...]
    market_maker_api_key: str | None = None
    market_maker_funds_atoms: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ConvertDust:
    """Backpack's `POST /api/v1/account/convertDust`: convert dust balances into USDC at the mark.

    An asset's balance is dust when its spot balance plus its lend is above zero and below the
    minimum quantity of its USDC spot market (Backpack's rule). `symbol` None converts every dust
    balance the subaccount holds.
    """

    subaccount_id: SubaccountId
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class SetWithdrawalDelay:
    """Backpack's `POST` (`create`) and `PATCH /wapi/v1/capital/withdrawals/delay`: hold withdrawals for `hours`.

    Creating applies at once and is refused if a delay exists; a change applies once the current
    delay has passed (Backpack: "changes will take effect after the current delay period ends").
    """

    subaccount_id: SubaccountId
    hours: int
    create: bool


@dataclass(slots=True, init=False, unsafe_hash=True)
class Liquidate:
    """Run up to a fixed number of liquidation steps on a subaccount at MMR >= 100% (or liquidating)."""

    subaccount_id: Final[SubaccountId]

    def __init__(self, subaccount_id: SubaccountId) -> None:
        self.subaccount_id = subaccount_id


Command = (
    ConfigureAssets
    | CreateAccount
    | CreateSubaccount
    | AddApiKey
    | RevokeApiKey
    | Deposit
    | Withdraw
    | Transfer
    | ExecuteBorrowLend
    | UpdateSettings
    | SetAccountLimits
    | SetMarkPrices
    | Tick
    | ConfigureMarkets
    | PlaceOrder
    | CancelOrder
    | CancelAllOrders
    | Liquidate
    | SeedDemo
    | ConfigureOracle
    | ConvertDust
    | SetWithdrawalDelay
)
