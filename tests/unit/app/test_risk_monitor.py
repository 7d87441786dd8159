"""The risk monitor liquidates what a price drop pushes past MMR >= 100%, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.risk_monitor import RiskMonitor
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.cli.main import build_parser
from crossmargin.core.commands import (
    BorrowLendSide,
    Command,
    CreateAccount,
    Deposit,
    ExecuteBorrowLend,
    Liquidate,
    PlaceOrder,
    SetMarkPrices,
    Withdraw,
)
from crossmargin.core.engine import Accepted, compute_max_withdrawal
from crossmargin.core.events import AccountCreated, BorrowLendEventType, BorrowLendSource, LiquidationStepKind
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID, fund_value_wad
from crossmargin.core.limits import compute_subaccount_margin
from crossmargin.core.margin import Holding
from crossmargin.core.numbers import parse_decimal
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.state import EngineState
from crossmargin.core.transaction import Transaction
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


@pytest.fixture
def service() -> Iterator[Service]:
    document = load_document()
    specs = parse_asset_specs(document)
    opened = Service.open(MemoryJournal(), ManualClock(START_MS), specs, parse_market_specs(document, specs))
    _prices(opened, **PRICES)
    try:
        yield opened
        assert all(check.ok for check in opened.audit())
    finally:
        opened.close()


@pytest.fixture
def monitor(service: Service) -> Iterator[RiskMonitor]:
    watching = RiskMonitor(service)
    watching.start()
    try:
        yield watching
    finally:
        watching.stop()


def _accept(service: Service, command: Command) -> Accepted:
    result = service.execute(command)
    assert isinstance(result, Accepted), result
    return result


def _prices(service: Service, **prices: str) -> None:
    _accept(service, SetMarkPrices(tuple((symbol, parse_decimal(price, 18)) for symbol, price in prices.items())))


def _atoms(service: Service, symbol: str, quantity: str) -> int:
    return parse_decimal(quantity, service.read(lambda state: state.specs[symbol].decimals))


def _account(service: Service, **deposits: str) -> SubaccountId:
    events = _accept(service, CreateAccount()).events
    sub = next(event.subaccount_id for event in events if isinstance(event, AccountCreated))
    for symbol, quantity in deposits.items():
        _accept(service, Deposit(sub, symbol, _atoms(service, symbol, quantity)))
    return sub


def _lender(service: Service) -> SubaccountId:
    lender = _account(service, USDC="1000000")
    _accept(service, ExecuteBorrowLend(lender, "USDC", BorrowLendSide.LEND, _atoms(service, "USDC", "1000000")))
    return lender


def _borrower(service: Service, usdc: str | None = None) -> SubaccountId:
    """One BTC of collateral and a USDC borrow withdrawn: `usdc`, or the most the margin allows."""
    sub = _account(service, BTC="1")
    atoms = (
        _atoms(service, "USDC", usdc)
        if usdc is not None
        else service.read(
            lambda state: compute_max_withdrawal(
                Transaction(state, state.now_ms), sub, "USDC", auto_borrow=True, auto_lend_redeem=False
            )
        )
    )
    _accept(service, Withdraw(sub, "USDC", atoms, auto_borrow=True))
    return sub


def _bid(service: Service, market: str, quantity: str, price: str) -> None:
    bidder = _account(service, USDC="1000000")
    atoms = parse_decimal(quantity, service.read(lambda state: state.markets[market].base_decimals))
    _accept(service, PlaceOrder(bidder, market, OrderSide.BID, OrderType.LIMIT, atoms, parse_decimal(price, 18)))


def _holding(service: Service, sub: SubaccountId, symbol: str) -> Holding:
    return service.read(lambda state: Transaction(state, state.now_ms).holding(sub, symbol))


def _liquidatable(state: EngineState, sub: SubaccountId) -> bool:
    summary = compute_subaccount_margin(Transaction(state, state.now_ms), state.subaccounts[sub])
    return summary.is_liquidatable


def test_a_btc_drop_liquidates_the_max_borrower_and_spares_the_healthy_one(
    service: Service, monitor: RiskMonitor
) -> None:
    _lender(service)
    borrower = _borrower(service)
    healthy = _borrower(service, usdc="10000")
    _bid(service, "BTC_USDC", "5", "55900")
    _prices(service, BTC="58000")
    assert monitor.settle()
    assert monitor.stats.accepted == 0, "58,000 leaves the max borrower above its maintenance margin"
    debt_before = _holding(service, borrower, "USDC").debt_atoms
    healthy_before = (_holding(service, healthy, "BTC"), _holding(service, healthy, "USDC"))
    movements_before = service.read(lambda state: len(state.movements))

    _prices(service, BTC="56000")
    assert monitor.settle()
    steps = service.read(lambda state: list(state.liquidation_steps))
    assert steps
    assert {step.subaccount_id for step in steps} == {borrower}
    assert {step.kind for step in steps} == {LiquidationStepKind.SELL_COLLATERAL}
    repays = service.read(lambda state: state.movements[movements_before:])
    assert repays
    assert {(m.subaccount_id, m.event_type, m.source) for m in repays} == {
        (borrower, BorrowLendEventType.BORROW_REPAY, BorrowLendSource.LIQUIDATION)
    }
    assert 0 < _holding(service, borrower, "USDC").debt_atoms < debt_before
    assert _holding(service, INSURANCE_FUND_ID, "USDC").spot_atoms == sum(step.fee_atoms for step in steps) > 0
    assert not service.read(lambda state: state.subaccounts[borrower].liquidating)
    assert not service.read(lambda state: _liquidatable(state, borrower))
    assert (_holding(service, healthy, "BTC"), _holding(service, healthy, "USDC")) == healthy_before
    assert monitor.stats.accepted == 1
    assert monitor.handled_sequence == service.sequence


def _long_btc_perp(service: Service) -> SubaccountId:
    """Buy 1 BTC perp at 60,000 with 6,100 USDC: thin enough that a drop to 54,220 needs more than 8 steps."""
    seller = _account(service, USDC="100000")
    market_atoms = parse_decimal("1", service.read(lambda state: state.markets["BTC_USDC_PERP"].base_decimals))
    sell = PlaceOrder(seller, "BTC_USDC_PERP", OrderSide.ASK, OrderType.LIMIT, market_atoms, parse_decimal("60000", 18))
    _accept(service, sell)
    trader = _account(service, USDC="6100")
    _accept(service, PlaceOrder(trader, "BTC_USDC_PERP", OrderSide.BID, OrderType.MARKET, market_atoms))
    return trader


def test_a_liquidation_left_unfinished_is_finished_when_the_monitor_starts(service: Service) -> None:
    _lender(service)
    trader = _long_btc_perp(service)
    _prices(service, BTC="54220")
    _bid(service, "BTC_USDC_PERP", "1", "54210")
    _accept(service, Liquidate(trader))
    assert service.read(lambda state: state.subaccounts[trader].liquidating), "8 steps were not enough"
    assert len(service.read(lambda state: state.liquidation_steps)) == 8

    monitor = RiskMonitor(service)
    monitor.start()
    try:
        assert monitor.settle()
    finally:
        monitor.stop()
    assert not service.read(lambda state: state.subaccounts[trader].liquidating)
    assert monitor.stats.accepted == 1, "the monitor's one Liquidate finished it"


def test_an_account_past_maintenance_before_the_monitor_starts_is_liquidated_when_it_starts(service: Service) -> None:
    # Found with a journal restarted past a price fall: the columns were mirrored with an unknown
    # (infinite) headroom and no first sweep, so no later price move could make the row a candidate.
    _lender(service)
    borrower = _borrower(service)
    _bid(service, "BTC_USDC", "5", "55900")
    _prices(service, BTC="56000")
    assert service.read(lambda state: _liquidatable(state, borrower))
    monitor = RiskMonitor(service)
    monitor.start()
    try:
        assert monitor.settle()
        _prices(service, BTC="55950")
        assert monitor.settle()
    finally:
        monitor.stop()
    assert {step.subaccount_id for step in service.read(lambda state: state.liquidation_steps)} == {borrower}
    assert not service.read(lambda state: _liquidatable(state, borrower))


def test_a_stopped_monitor_liquidates_nothing(service: Service, monitor: RiskMonitor) -> None:
    _lender(service)
    borrower = _borrower(service)
    _bid(service, "BTC_USDC", "5", "55900")
    monitor.stop()
    _prices(service, BTC="56000")
    assert not monitor.settle()
    assert service.read(lambda state: _liquidatable(state, borrower))
    assert not service.read(lambda state: state.liquidation_steps)


def test_a_falling_perp_long_is_reduced_on_its_book(service: Service, monitor: RiskMonitor) -> None:
    _lender(service)
    trader = _long_btc_perp(service)
    _bid(service, "BTC_USDC_PERP", "1", "54240")
    _prices(service, BTC="54250")
    assert monitor.settle()
    steps = service.read(lambda state: list(state.liquidation_steps))
    assert {step.kind for step in steps} == {LiquidationStepKind.REDUCE_POSITION}
    assert {step.subaccount_id for step in steps} == {trader}
    assert not service.read(lambda state: _liquidatable(state, trader))
    assert _holding(service, INSURANCE_FUND_ID, "USDC").spot_atoms == sum(step.fee_atoms for step in steps) > 0


def test_serve_runs_the_monitor_unless_told_not_to() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).risk_monitor
    assert not parser.parse_args(["serve", "--no-risk-monitor"]).risk_monitor


def test_a_fund_pushed_below_zero_after_a_takeover_shares_its_loss(service: Service, monitor: RiskMonitor) -> None:
    # A 1 BTC perp long with no bid in the band goes whole to the fund at 54,250; BTC then falls to
    # 40,000, so the fund's value goes below zero with nobody left to liquidate: the monitor has the
    # fund share its loss (ADL against the profitable short).
    _lender(service)
    seller = _account(service, USDC="100000")
    one_btc = _atoms(service, "BTC", "1")
    _accept(service, PlaceOrder(seller, "BTC_USDC_PERP", OrderSide.ASK, OrderType.LIMIT, one_btc, 60000 * 10**18))
    trader = _account(service, USDC="6100")
    _accept(service, PlaceOrder(trader, "BTC_USDC_PERP", OrderSide.BID, OrderType.MARKET, one_btc))
    _prices(service, BTC="54250")
    assert monitor.settle()
    assert service.read(lambda state: (INSURANCE_FUND_ID, "BTC_USDC_PERP") in state.perp_positions)
    _prices(service, BTC="40000")
    assert monitor.settle()
    adls = service.read(lambda state: list(state.auto_deleverages))
    assert [adl.counterparty_subaccount_id for adl in adls] == [seller]
    assert service.read(lambda state: fund_value_wad(Transaction(state, state.now_ms))) >= 0
