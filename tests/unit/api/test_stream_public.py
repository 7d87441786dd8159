"""Which fills the `liquidation` stream reports, and the order origins Backpack names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.api.stream_feed import Outgoing, StreamFeed
from crossmargin.api.stream_messages import ORIGINS
from crossmargin.app.clock import ManualClock
from crossmargin.app.service import BatchCommitted, Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.events import Event, LiquidationStepKind, LiquidationStepped, Traded
from crossmargin.core.fills import Fill
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import OrderId, OrderSide, SystemOrderType
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000


@pytest.fixture
def service() -> Iterator[Service]:
    document = load_document()
    assets = parse_asset_specs(document)
    opened = Service.open(MemoryJournal(), ManualClock(START_MS), assets, parse_market_specs(document, assets))
    yield opened
    opened.close()


def fill(system: SystemOrderType, taker: int = 2) -> Fill:
    return Fill(
        trade_id=1,
        market="BTC_USDC_PERP",
        price_wad=55_000 * WAD,
        quantity_atoms=10**7,
        quote_atoms=5_500 * 10**6,
        taker_side=OrderSide.ASK,
        maker_order_id=OrderId(1),
        taker_order_id=OrderId(taker),
        maker_subaccount_id=SubaccountId(1),
        taker_subaccount_id=SubaccountId(2),
        maker_fee_atoms=0,
        taker_fee_atoms=0,
        maker_fee_symbol="USDC",
        taker_fee_symbol="USDC",
        at_ms=START_MS,
        system_order_type=system,
    )


def stepped(order_id: int) -> LiquidationStepped:
    return LiquidationStepped(
        SubaccountId(2), LiquidationStepKind.SELL_COLLATERAL, "BTC", 10**7, 0, 0, "USDC", order_id, 0, 0, START_MS
    )


def liquidations(service: Service, events: tuple[Event, ...]) -> list[Outgoing]:
    out: list[Outgoing] = []
    feed = service.read(lambda state: StreamFeed(state, lambda topic: topic == "liquidation", out.extend))
    service.read(lambda state: feed.on_batch(BatchCommitted(events, 1, START_MS, state)))
    return out


@pytest.mark.parametrize(
    ("events", "reported"),
    [
        ((Traded(fill(SystemOrderType.LIQUIDATE_POSITION_ON_BOOK)),), True),
        ((Traded(fill(SystemOrderType.LIQUIDATE_POSITION_ON_ADL)),), True),
        ((Traded(fill(SystemOrderType.COLLATERAL_CONVERSION)), stepped(2)), True),
        ((Traded(fill(SystemOrderType.COLLATERAL_CONVERSION)), stepped(7)), False),
        ((Traded(fill(SystemOrderType.COLLATERAL_CONVERSION)),), False),
        ((Traded(fill(SystemOrderType.NONE)), stepped(2)), False),
    ],
    ids=["on-book", "adl", "liquidation-conversion", "other-step", "settlement-conversion", "user-order"],
)
def test_only_fills_of_liquidation_orders_are_reported(
    service: Service, events: tuple[Event, ...], reported: bool
) -> None:
    out = liquidations(service, events)

    expected = {"e": "liquidation", "E": START_MS * 1000, "q": "0.1", "p": "55000", "S": "Ask"}
    expected |= {"s": "BTC_USDC_PERP", "T": START_MS * 1000}
    assert out == ([("liquidation", "liquidation", expected)] if reported else [])


def test_every_kind_of_order_has_backpacks_origin() -> None:
    assert set(ORIGINS) == set(SystemOrderType)
    assert set(ORIGINS.values()) <= {"USER", "LIQUIDATION_AUTOCLOSE", "ADL_AUTOCLOSE", "COLLATERAL_CONVERSION"}
