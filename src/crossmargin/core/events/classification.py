"""The one classification of events: what kind of thing each changed, and whose.

`change_kind` names what an event changed (one `ChangeKind` per event type); `subaccounts_touched`
names the subaccounts whose holdings, positions, orders, settings or history it changed, the
insurance fund included when it received or took over something. Every consumer that routes
events (the risk columns and monitor, the simulation, the WebSocket streams) asks these two
functions instead of keeping its own table, so a new event type is classified here, once: a test
enumerates the `Event` union and fails on an event left out, and mypy fails on a missing `case`.
Pool-wide events (interest, a lend-index cut) touch no subaccount by name: they move every
position of the pool through its indices, which the risk columns compare after every batch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, assert_never

from crossmargin.core.events.accounts import (
    AccountCreated,
    ApiKeyAdded,
    ApiKeyRevoked,
    AssetsConfigured,
    Deposited,
    DustConverted,
    MarketsConfigured,
    MarkPricesSet,
    OracleConfigured,
    SettingsUpdated,
    SubaccountCreated,
    Transferred,
    WithdrawalDelaySet,
    WithdrawalReleased,
    Withdrew,
)
from crossmargin.core.events.borrow_lend import BorrowLendMoved, EntryFeeCharged, InterestCharged, LendIndexCut
from crossmargin.core.events.liquidation import (
    AutoDeleveraged,
    Backstopped,
    LiquidationFinished,
    LiquidationStarted,
    LiquidationStepped,
)
from crossmargin.core.events.trading import (
    FundingPaid,
    OrderChanged,
    PerpMarksSet,
    PerpPositionChanged,
    PositionsSettled,
    ShortfallCovered,
    Traded,
)
from crossmargin.core.ids import INSURANCE_FUND_ID, SubaccountId

Event = (
    AssetsConfigured
    | AccountCreated
    | SubaccountCreated
    | ApiKeyAdded
    | ApiKeyRevoked
    | Deposited
    | Withdrew
    | Transferred
    | BorrowLendMoved
    | EntryFeeCharged
    | InterestCharged
    | SettingsUpdated
    | MarkPricesSet
    | MarketsConfigured
    | OrderChanged
    | Traded
    | PerpPositionChanged
    | PositionsSettled
    | FundingPaid
    | ShortfallCovered
    | PerpMarksSet
    | OracleConfigured
    | LiquidationStarted
    | LiquidationStepped
    | LiquidationFinished
    | Backstopped
    | AutoDeleveraged
    | LendIndexCut
    | DustConverted
    | WithdrawalDelaySet
    | WithdrawalReleased
)


class ChangeKind(StrEnum):
    """What an event changed; the values are the kinds the `engine.update` stream reports."""

    CONFIG = "config"
    ORACLE = "oracle"
    PRICES = "prices"
    ACCOUNTS = "accounts"
    SETTINGS = "settings"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    BORROW_LEND = "borrowLend"
    INTEREST = "interest"
    ORDERS = "orders"
    TRADES = "trades"
    POSITION = "position"
    SETTLEMENT = "settlement"
    FUNDING = "funding"
    LIQUIDATION = "liquidation"


CHANGE_KINDS: Final[dict[type, ChangeKind]] = {
    AssetsConfigured: ChangeKind.CONFIG,
    MarketsConfigured: ChangeKind.CONFIG,
    OracleConfigured: ChangeKind.ORACLE,
    MarkPricesSet: ChangeKind.PRICES,
    PerpMarksSet: ChangeKind.PRICES,
    AccountCreated: ChangeKind.ACCOUNTS,
    SubaccountCreated: ChangeKind.ACCOUNTS,
    ApiKeyAdded: ChangeKind.ACCOUNTS,
    ApiKeyRevoked: ChangeKind.ACCOUNTS,
    SettingsUpdated: ChangeKind.SETTINGS,
    Deposited: ChangeKind.DEPOSIT,
    Withdrew: ChangeKind.WITHDRAWAL,
    Transferred: ChangeKind.TRANSFER,
    BorrowLendMoved: ChangeKind.BORROW_LEND,
    EntryFeeCharged: ChangeKind.BORROW_LEND,
    InterestCharged: ChangeKind.INTEREST,
    OrderChanged: ChangeKind.ORDERS,
    Traded: ChangeKind.TRADES,
    PerpPositionChanged: ChangeKind.POSITION,
    PositionsSettled: ChangeKind.SETTLEMENT,
    ShortfallCovered: ChangeKind.SETTLEMENT,
    FundingPaid: ChangeKind.FUNDING,
    LiquidationStarted: ChangeKind.LIQUIDATION,
    LiquidationStepped: ChangeKind.LIQUIDATION,
    LiquidationFinished: ChangeKind.LIQUIDATION,
    Backstopped: ChangeKind.LIQUIDATION,
    AutoDeleveraged: ChangeKind.LIQUIDATION,
    LendIndexCut: ChangeKind.LIQUIDATION,
    DustConverted: ChangeKind.TRADES,
    WithdrawalDelaySet: ChangeKind.SETTINGS,
    WithdrawalReleased: ChangeKind.WITHDRAWAL,
}
"""One kind per event type, looked up by exact type (the streams classify every event of every batch)."""


def change_kind(event: Event) -> ChangeKind:
    """Return what kind of thing an event changed."""
    return CHANGE_KINDS[type(event)]


def subaccounts_touched(event: Event) -> tuple[SubaccountId, ...]:  # noqa: C901, PLR0911 -- one arm per shape
    """Return the subaccounts whose state an event changed, by name (empty for pool-wide and market events).

    A liquidation step pays its fee to the insurance fund, a takeover moves everything to the
    fund, and an auto-deleverage closes the fund's position against its counterparty's.
    """
    match event:
        case (
            FundingPaid()
            | BorrowLendMoved()
            | EntryFeeCharged()
            | Deposited()
            | Withdrew()
            | ShortfallCovered()
            | SettingsUpdated()
            | AccountCreated()
            | SubaccountCreated()
            | ApiKeyAdded()
            | ApiKeyRevoked()
            | LiquidationStarted()
            | LiquidationFinished()
            | DustConverted()
            | WithdrawalDelaySet()
            | WithdrawalReleased()
        ):
            return (event.subaccount_id,)
        case PositionsSettled():
            return event.subaccounts()
        case OrderChanged():
            return (event.order.subaccount_id,)
        case Traded():
            return (event.fill.maker_subaccount_id, event.fill.taker_subaccount_id)
        case PerpPositionChanged():
            return (event.position.subaccount_id,)
        case Transferred():
            return (event.source_subaccount_id, event.target_subaccount_id)
        case LiquidationStepped():
            return (event.subaccount_id, INSURANCE_FUND_ID)
        case Backstopped():
            return (event.subaccount_id, event.fund_subaccount_id)
        case AutoDeleveraged():
            return (event.fund_subaccount_id, event.counterparty_subaccount_id)
        case (
            AssetsConfigured()
            | MarketsConfigured()
            | OracleConfigured()
            | MarkPricesSet()
            | PerpMarksSet()
            | InterestCharged()
            | LendIndexCut()
        ):
            return ()
        case _:
            assert_never(event)


def asset_named(event: Event) -> str | None:
    """Return the one asset an event names (its `symbol`), or None for an event about markets or no asset."""
    match event:
        case (
            Deposited()
            | Withdrew()
            | Transferred()
            | BorrowLendMoved()
            | EntryFeeCharged()
            | InterestCharged()
            | ShortfallCovered()
            | LiquidationStepped()
            | LendIndexCut()
            | DustConverted()
            | WithdrawalReleased()
        ):
            return event.symbol
        case _:
            return None
