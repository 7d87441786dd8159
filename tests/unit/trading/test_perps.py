"""Perp positions after trades, and the margin lines of positions and their open orders."""

from __future__ import annotations

import pytest
from engine_driver import Driver

from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import Order, OrderId, OrderSide, OrderType, TimeInForce
from crossmargin.core.perp_margin import compute_perp_margin
from crossmargin.core.perps import PerpPosition, apply_trade

PERP = "BTC_USDC_PERP"
SUB = SubaccountId(1)


def _position(quantity: int = 0, entry: int = 0, basis: int | None = None) -> PerpPosition:
    return PerpPosition(PositionId(1), SUB, PERP, quantity, entry if basis is None else basis, entry)


@pytest.mark.parametrize(
    ("before", "signed", "quote", "after"),
    [
        pytest.param((0, 0), 10, 100, (10, 100, 100), id="open long"),
        pytest.param((0, 0), -10, 100, (-10, -100, -100), id="open short"),
        pytest.param((10, 100), 5, 60, (15, 160, 160), id="increase long"),
        pytest.param((15, 160), -5, 70, (10, 90, 106), id="reduce long: entry cost pro rata, rounded down"),
        pytest.param((-3, -100), 1, 30, (-2, -70, -67), id="reduce short: entry cost pro rata, toward minus"),
        pytest.param((10, 100), -10, 120, (0, -20, 0), id="close"),
        pytest.param((10, 100), -15, 180, (-5, -80, -60), id="flip long to short: entry at the flip price"),
        pytest.param((-10, -100), 14, 126, (4, 26, 36), id="flip short to long"),
    ],
)
def test_apply_trade(before: tuple[int, int], signed: int, quote: int, after: tuple[int, int, int]) -> None:
    position = apply_trade(_position(*before), signed, quote, 3)
    assert (position.quantity_atoms, position.basis_atoms, position.entry_cost_atoms) == after
    assert position.pending_fee_atoms == 3


def test_fees_accumulate_until_settled() -> None:
    position = apply_trade(apply_trade(_position(), 10, 100, 3), 5, 50, 2)
    assert position.pending_fee_atoms == 5
    assert not position.is_flat
    closed = apply_trade(position, -15, 150, 0)
    assert closed.quantity_atoms == 0
    assert not closed.is_flat  # fees wait for the settlement
    assert PerpPosition(PositionId(1), SUB, PERP).is_flat


def test_unsettled_is_pnl_at_mark_rounded_down_minus_fees_plus_funding(driver: Driver) -> None:
    spec = driver.state.markets[PERP]
    position = PerpPosition(PositionId(1), SUB, PERP, -1000, -600_001, 0, 7, 2)
    # -0.00001 BTC at 60000.05 is -0.6000005 USDC, rounded toward minus infinity: -600001 atoms.
    mark = 60_000 * WAD + WAD // 20
    assert position.unrealized_atoms(spec, mark) == 0
    assert position.unsettled_atoms(spec, mark) == -5


def _order(side: OrderSide, quantity: int, order_id: int) -> Order:
    return Order(OrderId(order_id), SUB, PERP, side, OrderType.LIMIT, TimeInForce.GTC, 50_000 * WAD, quantity, 0)


def _spec(driver: Driver) -> MarketSpec:
    return driver.state.markets[PERP]


def test_the_imf_of_a_position_is_at_least_one_over_the_leverage_limit(driver: Driver) -> None:
    position = _position(10_000_000, 6_000_000_000)
    ten_x = compute_perp_margin(_spec(driver), position, (), 60_000 * WAD, WAD // 10)
    assert ten_x.imf_wad == WAD // 10
    assert ten_x.notional_wad == 6000 * WAD
    assert ten_x.locked_wad == 600 * WAD
    # With a floor below the market's base, the base (0.01333333) wins over 0.00002494 x sqrt(6000).
    hundred_x = compute_perp_margin(_spec(driver), position, (), 60_000 * WAD, WAD // 100)
    assert hundred_x.imf_wad == 13_333_330_000_000_000
    # MMF: max(0.00666667, 0.00001496 x sqrt(6000)) = 0.00666667.
    assert hundred_x.mmf_wad == 6_666_670_000_000_000
    assert hundred_x.maintenance_wad == 40_000_020 * 10**12


def test_the_curved_imf_wins_for_a_large_position(driver: Driver) -> None:
    position = _position(100_000_000_000, 0)  # 1000 BTC at 60000: 60 million
    line = compute_perp_margin(_spec(driver), position, (), 60_000 * WAD, WAD // 100)
    # 0.00002494 x sqrt(60,000,000) = 0.19318..., above the floor and the base.
    assert 193_000_000_000_000_000 < line.imf_wad < 194_000_000_000_000_000


def test_open_orders_reserve_margin_on_the_worse_side_filling(driver: Driver) -> None:
    position = _position(10_000_000, 6_000_000_000)  # long 0.1
    orders = [
        _order(OrderSide.BID, 20_000_000, 1),  # all bids: long 0.3
        _order(OrderSide.ASK, 50_000_000, 2),  # all asks: short 0.4, the worse
    ]
    line = compute_perp_margin(_spec(driver), position, orders, 60_000 * WAD, WAD // 10)
    assert line.notional_wad == 6000 * WAD
    assert line.reserve_notional_wad == 18_000 * WAD
    assert line.locked_wad == 2400 * WAD
    assert line.mmf_wad > 0


def test_orders_that_only_reduce_reserve_nothing(driver: Driver) -> None:
    position = _position(10_000_000, 6_000_000_000)
    line = compute_perp_margin(_spec(driver), position, [_order(OrderSide.ASK, 5_000_000, 1)], 60_000 * WAD, WAD // 10)
    assert line.reserve_notional_wad == 0
    assert line.locked_wad == 600 * WAD


def test_open_orders_without_a_position_reserve_but_need_no_maintenance(driver: Driver) -> None:
    line = compute_perp_margin(_spec(driver), None, [_order(OrderSide.BID, 10_000_000, 1)], 60_000 * WAD, WAD // 10)
    assert (line.quantity_atoms, line.notional_wad, line.unsettled_wad) == (0, 0, 0)
    assert line.reserve_notional_wad == 6000 * WAD
    assert (line.locked_wad, line.mmf_wad, line.maintenance_wad) == (600 * WAD, 0, 0)


def test_a_flat_line_needs_nothing(driver: Driver) -> None:
    line = compute_perp_margin(_spec(driver), None, (), 60_000 * WAD, WAD // 10)
    assert (line.imf_wad, line.mmf_wad, line.locked_wad) == (0, 0, 0)


def test_unsettled_pnl_counts_in_usd(driver: Driver) -> None:
    position = _position(10_000_000, 6_000_500_000)
    line = compute_perp_margin(_spec(driver), position, (), 60_000 * WAD, WAD // 10)
    assert line.unsettled_wad == -WAD // 2
