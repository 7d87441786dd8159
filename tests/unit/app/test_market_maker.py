"""The demo market maker quotes every book around its index, through the same engine and rules."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterator

import pytest

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.market_maker import (
    MARKET_MAKER_API_KEY,
    Ladder,
    MarketMaker,
    ensure_market_maker,
    find_market_maker,
    index_price_wad,
    ladder_quotes,
)
from crossmargin.app.service import Service
from crossmargin.asset_config import load_document, parse_asset_specs
from crossmargin.core.commands import CreateAccount, Deposit, PlaceOrder, SetMarkPrices, UpdateSettings
from crossmargin.core.engine import Accepted
from crossmargin.core.events import AccountCreated
from crossmargin.core.ids import SubaccountId
from crossmargin.core.numbers import WAD, parse_decimal
from crossmargin.core.orders import OrderSide, OrderType
from crossmargin.core.state import EngineState
from crossmargin.maker_config import parse_demo_trading
from crossmargin.market_config import parse_market_specs

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
PRICES = {"USDC": "1", "USDT": "1", "BTC": "60000", "ETH": "3000", "SOL": "150"}


def _open(journal: MemoryJournal) -> Service:
    document = load_document()
    specs = parse_asset_specs(document)
    return Service.open(journal, ManualClock(START_MS), specs, parse_market_specs(document, specs))


@pytest.fixture
def service() -> Iterator[Service]:
    opened = _open(MemoryJournal())
    _accept(opened, SetMarkPrices(tuple((symbol, parse_decimal(price, 18)) for symbol, price in PRICES.items())))
    try:
        yield opened
        assert all(check.ok for check in opened.audit())
    finally:
        opened.close()


def _accept(service: Service, command: object) -> Accepted:
    result = service.execute(command)  # type: ignore[arg-type]
    assert isinstance(result, Accepted), result
    return result


def _prices(service: Service, **prices: str) -> None:
    _accept(service, SetMarkPrices(tuple((symbol, parse_decimal(price, 18)) for symbol, price in prices.items())))


def _ladder(state: EngineState, subaccount_id: SubaccountId, market: str) -> tuple[list[int], list[int]]:
    """Return the maker's bid and ask prices in one market, best first."""
    book = state.books[market]
    bids = [
        price
        for price, ids in book.bids.iter_levels()
        if any(state.orders[i].subaccount_id == subaccount_id for i in ids)
    ]
    asks = [
        price
        for price, ids in book.asks.iter_levels()
        if any(state.orders[i].subaccount_id == subaccount_id for i in ids)
    ]
    return bids, asks


def _read_ladder(service: Service, subaccount_id: SubaccountId, market: str) -> tuple[list[int], list[int]]:
    return service.read(lambda state: _ladder(state, subaccount_id, market))


def _trader(service: Service, symbol: str, quantity: str) -> SubaccountId:
    created = next(e for e in _accept(service, CreateAccount()).events if isinstance(e, AccountCreated))
    decimals = service.read(lambda state: state.specs[symbol].decimals)
    _accept(service, Deposit(created.subaccount_id, symbol, parse_decimal(quantity, decimals)))
    return created.subaccount_id


def test_the_market_maker_is_created_once_and_found_again_after_a_restart() -> None:
    journal = MemoryJournal()
    service = _open(journal)
    maker, created = ensure_market_maker(service)
    assert created
    assert ensure_market_maker(service) == (maker, False)
    usdc = service.read(lambda state: state.ledger)
    assert any(amount > 0 for (account, symbol), amount in usdc.items() if symbol == "USDC")
    service.close()
    reopened = _open(journal.reopen())
    try:
        assert reopened.read(find_market_maker) == maker
        assert ensure_market_maker(reopened) == (maker, False)
        assert reopened.read(lambda state: state.subaccounts[maker].api_keys) == (MARKET_MAKER_API_KEY,)
    finally:
        reopened.close()


def test_every_market_is_quoted_on_the_tick_around_its_index(service: Service) -> None:
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    markets = service.read(lambda state: sorted(state.markets))
    assert maker.requote_due() == len(markets) == 7
    assert maker.refusals == []
    state_markets = service.read(lambda state: dict(state.markets))
    for market in markets:
        spec = state_markets[market]
        bids, asks = _read_ladder(service, maker.subaccount_id, market)
        index = service.read(functools.partial(index_price_wad, spec=spec))
        assert index is not None
        assert len(bids) == len(asks) == 5, market
        assert all(price % spec.tick_size_wad == 0 for price in bids + asks), market
        assert bids[0] < index < asks[0], (market, bids[0], index, asks[0])
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
    assert maker.requote_due() == 0, "nothing changed: no requote"


def test_a_price_change_moves_the_ladder_of_the_markets_it_touches(service: Service) -> None:
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()
    _prices(service, BTC="62000")
    assert maker.requote_due() == 2, "BTC_USDC and BTC_USDC_PERP"
    for market in ("BTC_USDC", "BTC_USDC_PERP"):
        bids, asks = _read_ladder(service, maker.subaccount_id, market)
        assert bids[0] < 62_000 * WAD < asks[0]
        assert len(bids) == len(asks) == 5, "the old ladder was cancelled"


def test_a_price_tick_within_a_level_keeps_the_ladder_and_a_larger_move_replaces_it(service: Service) -> None:
    # Re-placing every ladder on every tick of a walking price would add a ladder a second to the
    # order history; the quotes stand until the index has moved a level (the ladder's spacing).
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()
    before = _read_ladder(service, maker.subaccount_id, "BTC_USDC")
    spacing = maker.ladder("BTC_USDC").spacing_wad
    assert spacing * 60_000 > 2 * WAD, "a BTC level is wider than 2 USD at 60,000"
    _prices(service, BTC="60002")
    assert maker.requote_due() == 0, "2 USD is less than a level: the ladder stands"
    assert _read_ladder(service, maker.subaccount_id, "BTC_USDC") == before
    _prices(service, BTC=str(60_000 + -(-spacing * 60_000 // WAD)))
    assert maker.requote_due() == 2, "a level's move replaces BTC_USDC's and BTC_USDC_PERP's ladders"
    assert _read_ladder(service, maker.subaccount_id, "BTC_USDC") != before


def test_a_filled_ladder_is_refilled(service: Service) -> None:
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()
    buyer = _trader(service, "USDC", "100000")
    quantity = parse_decimal("0.5", 8)
    _accept(service, PlaceOrder(buyer, "BTC_USDC", OrderSide.BID, OrderType.MARKET, quantity))
    assert len(service.read(lambda state: _ladder(state, maker.subaccount_id, "BTC_USDC"))[1]) == 4, "one ask filled"
    assert maker.requote_due() == 1
    assert len(service.read(lambda state: _ladder(state, maker.subaccount_id, "BTC_USDC"))[1]) == 5


def test_its_orders_follow_the_same_rules_as_anyone_s(service: Service) -> None:
    seller = _trader(service, "BTC", "1")
    cheap = parse_decimal("59000", 18)
    _accept(service, PlaceOrder(seller, "BTC_USDC", OrderSide.ASK, OrderType.LIMIT, parse_decimal("0.5", 8), cheap))
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()
    bids, asks = service.read(lambda state: _ladder(state, maker.subaccount_id, "BTC_USDC"))
    assert bids == [], "a post-only bid above a resting ask would take, and the engine refuses it"
    assert len(asks) == 5
    assert len(maker.refusals) == 5
    assert all("BTC_USDC" in refusal for refusal in maker.refusals)
    assert maker.requote_due() == 0, "refused orders are not chased"


def test_ladder_sizes_suit_each_market() -> None:
    document = load_document()
    markets = {spec.symbol: spec for spec in parse_market_specs(document, parse_asset_specs(document))}
    btc = ladder_quotes(markets["BTC_USDC"], 60_000 * WAD, Ladder())
    usdt = ladder_quotes(markets["USDT_USDC"], WAD, Ladder())
    assert btc[0].quantity_atoms == parse_decimal("0.3335", 8), "20,000 USDC at 59,970, down to the step"
    assert usdt[0].quantity_atoms == parse_decimal("20010", 6), "20,000 USDC at 0.9995"
    assert [quote.price_wad for quote in usdt[:2]] == [parse_decimal("0.9995", 18), parse_decimal("1.0005", 18)]


def test_a_settlement_shortfall_converts_usdt_against_the_market_maker(service: Service) -> None:
    maker = MarketMaker(service, ensure_market_maker(service)[0])
    maker.requote_due()
    trader = _trader(service, "USDT", "10000")
    _accept(service, UpdateSettings(trader, auto_borrow_settlements=False))
    _accept(service, PlaceOrder(trader, "BTC_USDC_PERP", OrderSide.BID, OrderType.MARKET, parse_decimal("0.1", 8)))
    service.advance_clock(20)
    shortfalls = service.read(lambda state: [row for row in state.shortfalls if row.subaccount_id == trader])
    (shortfall,) = shortfalls
    assert [conversion.symbol for conversion in shortfall.conversions] == ["USDT"]
    assert shortfall.uncovered_atoms == 0


def test_the_thread_follows_the_index(service: Service) -> None:
    maker = MarketMaker(service, ensure_market_maker(service)[0], poll_seconds=0.05)
    maker.start()
    try:
        _prices(service, SOL="200")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bids, asks = service.read(lambda state: _ladder(state, maker.subaccount_id, "SOL_USDC_PERP"))
            if bids and bids[0] < 200 * WAD < asks[0]:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the market maker did not requote SOL_USDC_PERP around 200 within 10 s")
    finally:
        maker.stop()


def _configured_maker(service: Service) -> MarketMaker:
    return MarketMaker(service, ensure_market_maker(service)[0], ladders=parse_demo_trading(load_document()).ladders)


def _mid(service: Service, market: str) -> float:
    bids, asks = service.read(
        lambda state: (state.books[market].bids.best_price(), state.books[market].asks.best_price())
    )
    assert bids is not None
    assert asks is not None
    return (bids + asks) / 2


def test_each_book_is_quoted_as_the_markets_file_says(service: Service) -> None:
    maker = _configured_maker(service)
    maker.requote_due()
    assert maker.refusals == []
    bids, asks = _read_ladder(service, maker.subaccount_id, "BTC_USDC_PERP")
    assert len(bids) == len(asks) == 10, "makerLevels = 10"
    assert (bids[0], asks[0]) == (59_988 * WAD, 60_012 * WAD), "makerSpreadBps = 4: 2 bp either side of 60,000"
    assert {a - b for a, b in itertools.pairwise(bids)} == {12 * WAD}, "makerLevelSpacingBps = 2"
    sizes = service.read(
        lambda state: [
            state.orders[i].quantity_atoms for _, ids in state.books["BTC_USDC_PERP"].bids.iter_levels() for i in ids
        ]
    )
    assert sizes[0] == parse_decimal("1.667", 8), "makerLevelNotional = 100,000 USDC at 59,988, down to the step"
    sol_bids, sol_asks = _read_ladder(service, maker.subaccount_id, "SOL_USDC")
    assert len(sol_bids) == len(sol_asks) == 8
    assert (sol_bids[0], sol_asks[0]) == (parse_decimal("149.91", 18), parse_decimal("150.09", 18)), "12 bps wide"


def test_skew_moves_the_centre_against_inventory_and_is_bounded() -> None:
    ladder = Ladder(
        half_spread_wad=WAD // 10_000, spacing_wad=WAD // 10_000, max_skew_wad=WAD // 10_000, inventory_limit=500_000
    )
    assert ladder.skew_wad(0) == 0
    assert ladder.skew_wad(250_000) == -WAD // 20_000, "long half the limit: half the skew, down"
    assert ladder.skew_wad(-250_000) == WAD // 20_000, "short: up"
    assert ladder.skew_wad(10**12) == -WAD // 10_000 == -ladder.skew_wad(-(10**12)), "never beyond makerSkewBps"
    assert Ladder().skew_wad(10**12) == 0, "the plain ladder does not skew"
    document = load_document()
    spec = {s.symbol: s for s in parse_market_specs(document, parse_asset_specs(document))}["BTC_USDC_PERP"]
    plain = ladder_quotes(spec, 60_000 * WAD, ladder)
    down = ladder_quotes(spec, 60_000 * WAD, ladder, ladder.skew_wad(10**12))
    assert [q.price_wad for q in down] == [q.price_wad - 6 * WAD for q in plain], "the whole ladder moves 1 bp down"


@pytest.mark.parametrize(
    ("market", "side", "below"),
    [
        ("BTC_USDC_PERP", OrderSide.ASK, True),
        ("BTC_USDC_PERP", OrderSide.BID, False),
        ("BTC_USDC", OrderSide.ASK, True),
        ("BTC_USDC", OrderSide.BID, False),
    ],
)
def test_the_maker_s_inventory_skews_its_quotes(service: Service, market: str, side: OrderSide, below: bool) -> None:
    maker = _configured_maker(service)
    maker.requote_due()
    assert _mid(service, market) == 60_000 * WAD
    trader = _trader(service, "USDC", "1000000")
    if side is OrderSide.ASK and market == "BTC_USDC":
        _accept(service, Deposit(trader, "BTC", parse_decimal("3", 8)))
    _accept(service, PlaceOrder(trader, market, side, OrderType.MARKET, parse_decimal("2", 8)))
    assert maker.requote_due() == 1, "the filled ladder is requoted around the skewed centre"
    mid = _mid(service, market)
    assert (mid < 60_000 * WAD) is below, "a maker left long (the trader sold) quotes lower, short higher"
    assert abs(mid - 60_000 * WAD) <= 60_000 * WAD * 2 // 10_000, "by at most makerSkewBps (and a tick)"
    assert maker.requote_due() == 0
