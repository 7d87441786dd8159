"""A liquidation's own fills can move the perp mark: health is kept at the prices the liquidation ran at.

Found by the stateful liquidation machine: stale maker bids above the index held the BTC perp
mark at the +0.5% premium clamp; the liquidation sold the long into exactly those bids (above
the mark, the best prices there were), and the re-mark that ends every command then put the
mark back on the index. At the marks the command ran at, and at the marks it left, the account
is healthier after the liquidation than before; only mixing the two (before at the propped-up
mark, after at the index) shows a fall, which is the mark's move on the part still held, not
something the liquidation did to the account.
"""

from __future__ import annotations

import copy

from engine_driver import Driver
from tests.unit.liquidation.test_liquidation_perps import long_btc_perp

from crossmargin.core.commands import Liquidate
from crossmargin.core.events import Backstopped
from crossmargin.core.ids import SubaccountId
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import MarginSummary
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.orders import SystemOrderType
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction

ON_BOOK = SystemOrderType.LIQUIDATE_POSITION_ON_BOOK


def margin_at(state: EngineState, sub: SubaccountId, now_ms: int, perp_marks: dict[str, int]) -> MarginSummary:
    """Return the subaccount's margin in `state` with its perp positions valued at `perp_marks`."""
    revalued = copy.copy(state)
    revalued.perp_marks_wad = dict(perp_marks)
    return compute_subaccount_margin(Transaction(revalued, now_ms), revalued.subaccounts[sub])


def healthier(before: MarginSummary, after: MarginSummary) -> bool:
    """Return whether net equity / maintenance did not fall (maintenance before is positive)."""
    return after.net_equity_wad * before.maintenance_wad >= before.net_equity_wad * after.maintenance_wad


def test_selling_into_bids_that_prop_up_the_mark_keeps_health_at_either_mark(driver: Driver) -> None:
    trader = long_btc_perp(driver)
    driver.prices(BTC="54000")
    bidder = driver.account()
    driver.deposit(bidder, "USDC", "1000000")
    for quantity, price in (("0.1", "55000"), ("0.1", "54600"), ("1", "53900")):  # two stale bids above the index
        driver.place(bidder, "BTC_USDC_PERP", "buy", quantity, price)
    driver.place(bidder, "BTC_USDC_PERP", "sell", "1", "56000")
    propped = dict(driver.state.perp_marks_wad)
    assert propped["BTC_USDC_PERP"] == parse_decimal("54270", 18)  # index + 0.5%, the premium clamp
    before_state = copy.deepcopy(driver.state)
    before = driver.margin(trader)
    assert before.is_liquidatable

    events = driver.accept(Liquidate(trader))

    assert not any(isinstance(event, Backstopped) for event in events)
    assert driver.state.perp_marks_wad["BTC_USDC_PERP"] == parse_decimal("54000", 18)  # the bids above are gone
    sells = [
        fill for fill in driver.state.fills if fill.taker_subaccount_id == trader and fill.system_order_type is ON_BOOK
    ]
    assert sells[0].price_wad == parse_decimal("55000", 18) > propped["BTC_USDC_PERP"]
    after = driver.margin(trader)
    # At the marks the liquidation ran at, and at the marks it left, health rose.
    assert healthier(before, margin_at(driver.state, trader, driver.now_ms, propped))
    left = dict(driver.state.perp_marks_wad)
    assert healthier(margin_at(before_state, trader, driver.now_ms, left), after)
    # Before at the propped-up mark against after at the index: the fall is the mark's move alone.
    assert not healthier(before, after)
