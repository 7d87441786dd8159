"""Spot-margin flags: an order borrows or redeems what it lacks, and repays or lends what it receives."""

from __future__ import annotations

from engine_driver import Driver

from crossmargin.core.events import BorrowLendEventType, BorrowLendMoved, BorrowLendSource, Event
from crossmargin.core.ids import SubaccountId
from crossmargin.core.orders import OrderFlags, OrderStatus
from crossmargin.core.rejections import RejectReason

BTC = "BTC_USDC"


def _movements(events: tuple[Event, ...], sub: SubaccountId) -> list[tuple[str, BorrowLendEventType, str, str]]:
    return [
        (event.symbol, event.event_type, event.source, str(event.quantity_atoms))
        for event in events
        if isinstance(event, BorrowLendMoved) and event.subaccount_id == sub
    ]


def _market(driver: Driver) -> SubaccountId:
    """A USDC and BTC lender, and a maker with 0.1 BTC offered at 60000 and 0.1 bid at 59000."""
    driver.lender(USDC="1000000", BTC="100")
    maker = driver.account()
    driver.deposit(maker, "USDC", "100000")
    driver.deposit(maker, "BTC", "10")
    driver.place(maker, BTC, "sell", "0.1", "60000")
    driver.place(maker, BTC, "buy", "0.1", "59000")
    return maker


def test_auto_borrow_buys_with_borrowed_usdc(driver: Driver) -> None:
    _market(driver)
    buyer = driver.account()
    driver.deposit(buyer, "BTC", "1")
    driver.deposit(buyer, "USDC", "1000")
    events = driver.accept(driver.order(buyer, BTC, "buy", "0.1", "60000", flags=OrderFlags(auto_borrow=True)))
    assert _movements(events, buyer) == [
        ("USDC", BorrowLendEventType.BORROW, BorrowLendSource.SPOT_MARGIN, str(driver.atoms("USDC", "5000")))
    ]
    holding = driver.holding(buyer, "USDC")
    assert (holding.spot_atoms, holding.locked_atoms) == (0, 0)
    assert holding.debt_atoms >= driver.atoms("USDC", "5000")
    assert driver.holding(buyer, "BTC").spot_atoms == driver.atoms("BTC", "1.0999")


def test_without_auto_borrow_the_same_order_is_refused(driver: Driver) -> None:
    _market(driver)
    buyer = driver.account()
    driver.deposit(buyer, "BTC", "1")
    rejection = driver.refuse(driver.order(buyer, BTC, "buy", "0.1", "60000"), RejectReason.BALANCE_INSUFFICIENT)
    assert rejection.message == "Order needs 6000 USDC: 6000 USDC exceeds your available balance of 0 USDC"


def test_an_auto_borrow_beyond_margin_is_refused(driver: Driver) -> None:
    _market(driver)
    buyer = driver.account()
    driver.deposit(buyer, "USDC", "100")
    driver.refuse(
        driver.order(buyer, BTC, "buy", "0.1", "60000", flags=OrderFlags(auto_borrow=True)),
        RejectReason.MARGIN_INSUFFICIENT,
    )


def test_auto_borrow_while_lending_the_asset_needs_auto_lend_redeem(driver: Driver) -> None:
    _market(driver)
    buyer = driver.account()
    driver.deposit(buyer, "USDC", "1000")
    driver.lend(buyer, "USDC", "1000")
    driver.deposit(buyer, "BTC", "1")
    rejection = driver.refuse(
        driver.order(buyer, BTC, "buy", "0.1", "60000", flags=OrderFlags(auto_borrow=True)),
        RejectReason.BORROW_REQUIRES_LEND_REDEEM,
    )
    assert rejection.message == (
        "Order needs 6000 USDC: You lend 1000 USDC: redeem it (autoLendRedeem) before borrowing USDC"
    )


def test_auto_lend_redeem_then_auto_borrow(driver: Driver) -> None:
    _market(driver)
    buyer = driver.account()
    driver.deposit(buyer, "USDC", "1000")
    driver.lend(buyer, "USDC", "1000")
    driver.deposit(buyer, "BTC", "1")
    flags = OrderFlags(auto_borrow=True, auto_lend_redeem=True)
    events = driver.accept(driver.order(buyer, BTC, "buy", "0.1", "60000", flags=flags))
    assert _movements(events, buyer) == [
        ("USDC", BorrowLendEventType.LEND_REDEEM, BorrowLendSource.SPOT_MARGIN, str(driver.atoms("USDC", "1000"))),
        ("USDC", BorrowLendEventType.BORROW, BorrowLendSource.SPOT_MARGIN, str(driver.atoms("USDC", "5000"))),
    ]


def test_auto_lend_redeem_alone_sells_from_the_lend(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    driver.lend(seller, "BTC", "1")
    order = driver.place(seller, BTC, "sell", "0.1", "59000", flags=OrderFlags(auto_lend_redeem=True))
    assert order.status is OrderStatus.FILLED
    assert driver.holding(seller, "BTC").lend_atoms == driver.atoms("BTC", "0.9")
    assert driver.holding(seller, "USDC").spot_atoms == driver.atoms("USDC", "5894.1")
    assert [(m.event_type, m.source) for m in driver.state.movements if m.subaccount_id == seller] == [
        (BorrowLendEventType.LEND, BorrowLendSource.MANUAL),
        (BorrowLendEventType.LEND_REDEEM, BorrowLendSource.SPOT_MARGIN),
    ]


def test_a_subaccount_with_auto_lend_on_redeems_for_an_order_without_the_flag(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.settings(seller, auto_lend=True)
    driver.deposit(seller, "BTC", "1")
    assert driver.holding(seller, "BTC").lend_atoms == driver.atoms("BTC", "1")
    driver.place(seller, BTC, "sell", "0.1", "59000")
    # The proceeds are lent at once too.
    usdc = driver.holding(seller, "USDC")
    assert (usdc.spot_atoms, usdc.lend_atoms) == (0, driver.atoms("USDC", "5894.1"))
    assert driver.holding(seller, "BTC").lend_atoms == driver.atoms("BTC", "0.9")


def test_auto_borrow_repay_repays_the_received_asset_from_the_proceeds(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    driver.borrow(seller, "USDC", "1000")
    driver.accept(driver.withdraw(seller, "USDC", "1000"))
    events = driver.accept(
        driver.order(seller, BTC, "sell", "0.1", "59000", flags=OrderFlags(auto_borrow_repay=True)),
    )
    ((symbol, kind, source, _),) = _movements(events, seller)
    assert (symbol, kind, source) == ("USDC", BorrowLendEventType.BORROW_REPAY, BorrowLendSource.SPOT_MARGIN)
    usdc = driver.holding(seller, "USDC")
    assert usdc.debt_atoms == 0
    assert 0 < usdc.spot_atoms < driver.atoms("USDC", "4894.1")


def test_auto_lend_lends_the_proceeds(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    events = driver.accept(driver.order(seller, BTC, "sell", "0.1", "59000", flags=OrderFlags(auto_lend=True)))
    assert _movements(events, seller) == [
        ("USDC", BorrowLendEventType.LEND, BorrowLendSource.SPOT_MARGIN, str(driver.atoms("USDC", "5894.1")))
    ]
    assert driver.holding(seller, "USDC").spot_atoms == 0


def test_auto_lend_does_not_lend_while_the_asset_is_owed(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    driver.borrow(seller, "USDC", "10000")
    events = driver.accept(driver.order(seller, BTC, "sell", "0.1", "59000", flags=OrderFlags(auto_lend=True)))
    assert _movements(events, seller) == []
    assert driver.holding(seller, "USDC").spot_atoms == driver.atoms("USDC", "15894.1")


def test_margin_flags_do_nothing_for_an_order_that_did_not_fill(driver: Driver) -> None:
    _market(driver)
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    flags = OrderFlags(auto_lend=True, auto_borrow_repay=True)
    events = driver.accept(driver.order(seller, BTC, "sell", "0.1", "65000", flags=flags))
    assert _movements(events, seller) == []
