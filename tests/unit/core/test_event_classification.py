"""Every event is classified once: what kind of thing it changed, whose, and which asset it names.

The samples below hold one event of every type in the `Event` union; a type added to the union
without a sample (and so without checking its classification) fails the first tests, and a frozen
event class defined in `core/events/` but left out of the union fails the next.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from crossmargin.core import events as events_package
from crossmargin.core.events import (
    CHANGE_KINDS,
    AccountCreated,
    ApiKeyAdded,
    ApiKeyRevoked,
    AssetsConfigured,
    AutoDeleveraged,
    Backstopped,
    BorrowLendEventType,
    BorrowLendMoved,
    BorrowLendSource,
    ChangeKind,
    Conversion,
    Deposited,
    DustConverted,
    EntryFeeCharged,
    Event,
    FundingPaid,
    InterestCharged,
    LendIndexCut,
    LiquidationFinished,
    LiquidationStarted,
    LiquidationStepKind,
    LiquidationStepped,
    MarketsConfigured,
    MarkPricesSet,
    OracleConfigured,
    OrderChanged,
    PerpMarksSet,
    PerpPositionChanged,
    PerpTakenOver,
    PositionsSettled,
    SettingsUpdated,
    Settled,
    ShortfallCovered,
    SubaccountCreated,
    TakenOver,
    Traded,
    Transferred,
    WithdrawalDelaySet,
    WithdrawalReleased,
    Withdrew,
    asset_named,
    change_kind,
    subaccounts_touched,
)
from crossmargin.core.fills import Fill
from crossmargin.core.ids import INSURANCE_FUND_ID, AccountId, PositionId, SubaccountId
from crossmargin.core.numbers import Ratio
from crossmargin.core.orders import Order, OrderId, OrderSide, OrderType, TimeInForce
from crossmargin.core.perps import PerpPosition

A, B, FUND = SubaccountId(7), SubaccountId(8), SubaccountId(0)
ORDER = Order(OrderId(1), A, "BTC_USDC", OrderSide.BID, OrderType.LIMIT, TimeInForce.GTC, 1, 1, 0)
FILL = Fill(1, "BTC_USDC", 1, 1, 1, OrderSide.BID, OrderId(1), OrderId(2), A, B, 0, 0, "BTC", "USDC", 0)
POSITION = PerpPosition(PositionId(1), B, "BTC_USDC_PERP", 5)
SAMPLES: dict[type, tuple[Event, ChangeKind, tuple[SubaccountId, ...], str | None]] = {
    AssetsConfigured: (AssetsConfigured(("BTC",)), ChangeKind.CONFIG, (), None),
    MarketsConfigured: (MarketsConfigured(("BTC_USDC",)), ChangeKind.CONFIG, (), None),
    OracleConfigured: (OracleConfigured(None, None, 0), ChangeKind.ORACLE, (), None),
    MarkPricesSet: (MarkPricesSet((("BTC", 1),), 0), ChangeKind.PRICES, (), None),
    PerpMarksSet: (PerpMarksSet((("BTC_USDC_PERP", 1),), 0), ChangeKind.PRICES, (), None),
    AccountCreated: (AccountCreated(AccountId(1), A), ChangeKind.ACCOUNTS, (A,), None),
    SubaccountCreated: (SubaccountCreated(AccountId(1), A), ChangeKind.ACCOUNTS, (A,), None),
    ApiKeyAdded: (ApiKeyAdded(A, "key"), ChangeKind.ACCOUNTS, (A,), None),
    ApiKeyRevoked: (ApiKeyRevoked(A, "key"), ChangeKind.ACCOUNTS, (A,), None),
    SettingsUpdated: (
        SettingsUpdated(A, Ratio(1), auto_lend=True, auto_repay_borrows=True, auto_borrow_settlements=True),
        ChangeKind.SETTINGS,
        (A,),
        None,
    ),
    Deposited: (Deposited(A, "BTC", 1, 0), ChangeKind.DEPOSIT, (A,), "BTC"),
    Withdrew: (Withdrew(A, "SOL", 1, 0), ChangeKind.WITHDRAWAL, (A,), "SOL"),
    WithdrawalReleased: (WithdrawalReleased(A, 0, "SOL", 1, 0), ChangeKind.WITHDRAWAL, (A,), "SOL"),
    WithdrawalDelaySet: (WithdrawalDelaySet(A, 24, None, None, 0), ChangeKind.SETTINGS, (A,), None),
    DustConverted: (DustConverted(A, "SOL", 1, 150, 0), ChangeKind.TRADES, (A,), "SOL"),
    Transferred: (Transferred(A, B, "USDC", 1, 0), ChangeKind.TRANSFER, (A, B), "USDC"),
    BorrowLendMoved: (
        BorrowLendMoved(A, "USDC", BorrowLendEventType.BORROW, BorrowLendSource.MANUAL, 1, PositionId(1), -1, 1, 0),
        ChangeKind.BORROW_LEND,
        (A,),
        "USDC",
    ),
    EntryFeeCharged: (EntryFeeCharged(A, "USDC", PositionId(1), 1, 1, 1, 0), ChangeKind.BORROW_LEND, (A,), "USDC"),
    InterestCharged: (InterestCharged("USDC", 0, 1, 1, 1, 1, 0), ChangeKind.INTEREST, (), "USDC"),
    OrderChanged: (OrderChanged(ORDER, 0), ChangeKind.ORDERS, (A,), None),
    Traded: (Traded(FILL), ChangeKind.TRADES, (A, B), None),
    PerpPositionChanged: (PerpPositionChanged(POSITION, 0), ChangeKind.POSITION, (B,), None),
    PositionsSettled: (
        PositionsSettled("BTC_USDC_PERP", 1, 1, (PerpPosition(PositionId(1), A, "BTC_USDC_PERP", 1), POSITION), 0),
        ChangeKind.SETTLEMENT,
        (A, B),
        None,
    ),
    ShortfallCovered: (
        ShortfallCovered(A, "USDC", 3, 1, 1, (Conversion("BTC", 1, 1),), 0, auto_borrow_settlements=True, at_ms=0),
        ChangeKind.SETTLEMENT,
        (A,),
        "USDC",
    ),
    FundingPaid: (FundingPaid(A, "BTC_USDC_PERP", 1, 1, 0), ChangeKind.FUNDING, (A,), None),
    LiquidationStarted: (LiquidationStarted(A, 1, 1, 0), ChangeKind.LIQUIDATION, (A,), None),
    LiquidationStepped: (
        LiquidationStepped(A, LiquidationStepKind.REPAY, "SOL", 1, 1, 1, "USDC", 0, 1, 1, 0),
        ChangeKind.LIQUIDATION,
        (A, INSURANCE_FUND_ID),
        "SOL",
    ),
    LiquidationFinished: (LiquidationFinished(A, 1, 1, backstopped=False, at_ms=0), ChangeKind.LIQUIDATION, (A,), None),
    Backstopped: (
        Backstopped(A, FUND, -1, (TakenOver("BTC", 1, 0, 0),), (PerpTakenOver("BTC_USDC_PERP", 1, 1, 0, 0),), 0),
        ChangeKind.LIQUIDATION,
        (A, FUND),
        None,
    ),
    AutoDeleveraged: (
        AutoDeleveraged("BTC_USDC_PERP", FUND, B, 1, 1, 0, 0),
        ChangeKind.LIQUIDATION,
        (FUND, B),
        None,
    ),
    LendIndexCut: (LendIndexCut("USDC", 2, 1, 1, 1, 0, 0), ChangeKind.LIQUIDATION, (), "USDC"),
}
PARTS = {Conversion, TakenOver, PerpTakenOver, Settled}
"""Frozen values that travel inside events (or are read out of them: `Settled`) but are not events themselves."""


def test_every_event_in_the_union_has_a_sample_and_a_kind() -> None:
    union = set(typing.get_args(Event))
    assert set(SAMPLES) == union
    assert set(CHANGE_KINDS) == union


def test_every_event_class_defined_in_the_events_package_is_in_the_union() -> None:
    union = set(typing.get_args(Event))
    for name in events_package.__all__:
        value = getattr(events_package, name)
        is_record = isinstance(value, type) and (dataclasses.is_dataclass(value) or issubclass(value, tuple))
        if is_record and value not in PARTS:
            assert value in union, f"{name} is an event type missing from the Event union"


@pytest.mark.parametrize("event_type", list(SAMPLES), ids=lambda event_type: event_type.__name__)
def test_each_event_is_classified_as_expected(event_type: type) -> None:
    event, kind, touched, asset = SAMPLES[event_type]
    assert type(event) is event_type
    assert change_kind(event) is kind
    assert subaccounts_touched(event) == touched
    assert asset_named(event) == asset


def test_a_trade_touches_maker_then_taker_and_a_transfer_source_then_target() -> None:
    assert subaccounts_touched(Traded(FILL)) == (FILL.maker_subaccount_id, FILL.taker_subaccount_id)
    assert subaccounts_touched(Transferred(B, A, "USDC", 1, 0)) == (B, A)


def test_pool_wide_and_market_events_touch_no_subaccount_by_name() -> None:
    pool_or_market = [
        event
        for event, _, touched, _ in SAMPLES.values()
        if change_kind(event) in {ChangeKind.CONFIG, ChangeKind.PRICES}
    ]
    assert pool_or_market
    assert all(subaccounts_touched(event) == () for event in pool_or_market)
    assert subaccounts_touched(SAMPLES[InterestCharged][0]) == ()
    assert subaccounts_touched(SAMPLES[LendIndexCut][0]) == ()


def test_the_kinds_are_the_names_the_engine_update_stream_reports() -> None:
    assert {kind.value for kind in ChangeKind} >= {
        "config",
        "accounts",
        "deposit",
        "withdrawal",
        "transfer",
        "borrowLend",
        "interest",
        "settings",
        "prices",
        "position",
        "settlement",
        "funding",
        "liquidation",
    }
