"""A subaccount's history is read without a scan of everyone's, and its interest rows without rebuilding every pool's.

On main, with 50,000 borrow-lend movements and 25,000 entry fees from 512 subaccounts, one user's
interest history (`/wapi/v1/history/interest`) took 55 ms and its borrow-lend positions 60 ms per
read (pure core), under the state lock: each read rebuilt every pool's index changes from every
accrual and entry fee, and scanned every movement. Each subaccount's movements, entry fees,
deposits, withdrawals and funding payments are now indexed (`EngineState.history_of`, derived), and
the pools' index changes are kept in a memo each read extends (`history.index_changes`): 1.3 ms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import astuple, replace

from engine_driver import HOUR_MS, Driver

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import decode_state, encode_state
from crossmargin.app.service import Service
from crossmargin.core.commands import BorrowLendSide, ConvertDust, ExecuteBorrowLend, Liquidate, SetMarkPrices
from crossmargin.core.engine import Accepted
from crossmargin.core.events import settled_rows
from crossmargin.core.history import IndexChange, IndexChanges, InterestKind, compute_interest_history, index_changes
from crossmargin.core.ids import SubaccountId
from crossmargin.core.insurance import INSURANCE_FUND_ID
from crossmargin.core.interest import MS_PER_HOUR as HOUR
from crossmargin.core.numbers import WAD
from crossmargin.core.orders import TimeInForce
from crossmargin.core.settled_index import SettledIndex, numbered_settled_rows
from crossmargin.core.state import SUBACCOUNT_HISTORIES, EngineState, history_owners
from crossmargin.core.statement import StatementKind, StatementRow, statement_rows

PERP = "BTC_USDC_PERP"


def _busy_driver() -> tuple[Driver, list[SubaccountId]]:
    """Return an exchange where three users deposit, borrow, lend, repay and withdraw across hours, and a bystander."""
    driver = Driver().at(HOUR_MS // 2)
    driver.prices(USDC="1", ETH="3000", BTC="60000")
    driver.lender(USDC="100000", ETH="100")
    driver.maker(PERP, "60000", "10", "1")
    users = [driver.account() for _ in range(3)]
    driver.deposit(users[0], "USDC", "10000")
    driver.accept(driver.order(users[0], PERP, "buy", "0.01", "60100", tif=TimeInForce.IOC))
    driver.requote(PERP, "61000")  # the mark leaves the index: funding is paid each hour
    for hour, user in enumerate(users):
        driver.deposit(user, "BTC", "1")
        driver.borrow(user, "USDC", str(1_000 * (hour + 1)))
        driver.lend(user, "USDC", "500")
        driver.borrow(user, "ETH", "0.5")
        driver.tick(HOUR_MS // 2 + (hour + 1) * HOUR_MS)
        driver.accept(driver.withdraw(user, "USDC", "100"))
    return driver, [*users, driver.account()]


def _scanned(state: EngineState, name: str, sub: SubaccountId) -> list[object]:
    return [record for record in getattr(state, name) if record.subaccount_id == sub]


def test_each_subaccounts_history_is_indexed_and_the_index_survives_a_snapshot() -> None:
    driver, subaccounts = _busy_driver()
    restored = decode_state(encode_state(driver.state))
    for state in (driver.state, restored):
        for name in SUBACCOUNT_HISTORIES:
            records = getattr(state, name)
            for sub in subaccounts:
                assert [records[index] for index in state.history_of(name, sub)] == _scanned(state, name, sub), name
        mine = {name: len(state.history_of(name, subaccounts[0])) for name in SUBACCOUNT_HISTORIES}
        assert mine == {"movements": 3, "entry_fees": 2, "deposits": 2, "withdrawals": 1, "funding_payments": 3}
        assert state.history_of("movements", subaccounts[-1]) == []
        assert state.history_of("no such history", subaccounts[0]) == []


def _reference_changes(state: EngineState) -> dict[str, list[IndexChange]]:
    """Every pool's index changes as main rebuilt them on each read: all of them, sorted by (movements before, time)."""
    changes: dict[str, list[IndexChange]] = defaultdict(list)
    for symbol, accruals in state.accruals.items():
        for number, accrual in enumerate(accruals):
            borrow = (accrual.borrow_index_before_ray, accrual.borrow_index_after_ray)
            lend = (accrual.lend_index_before_ray, accrual.lend_index_after_ray)
            rates = (accrual.borrow_rate_wad, accrual.lend_rate_wad)
            sequence = state.history_number(f"accruals.{symbol}", number)
            changes[symbol].append(
                IndexChange(
                    accrual.movements_before, accrual.hour_ms, InterestKind.BORROW, borrow, lend, *rates, HOUR, sequence
                )
            )
    for number, fee in enumerate(state.entry_fees):
        if fee.lend_index_after_ray != fee.lend_index_before_ray:
            lend = (fee.lend_index_before_ray, fee.lend_index_after_ray)
            sequence = state.history_number("entry_fees", number)
            changes[fee.symbol].append(
                IndexChange(
                    fee.movements_before, fee.at_ms, InterestKind.ENTRY_FEE, None, lend, 0, 0, fee.interval_ms, sequence
                )
            )
    for found in changes.values():
        found.sort(key=lambda change: (change.movements_before, change.at_ms))  # stable: accruals, then fees
    return dict(changes)


def _same_as_a_full_rebuild(state: EngineState, readers: list[SubaccountId]) -> None:
    """Assert the memo holds what main rebuilt on each read, and each reader's rows are those of a fresh memo."""
    memo = index_changes(state)
    assert memo.changes == _reference_changes(state)
    assert memo.marks == {
        symbol: [change.movements_before for change in found] for symbol, found in memo.changes.items()
    }
    extended = {sub: compute_interest_history(state, sub) for sub in readers}
    del state.memos[IndexChanges]
    assert {sub: compute_interest_history(state, sub) for sub in readers} == extended
    state.memos[IndexChanges] = memo


def test_interest_rows_read_between_commands_are_those_of_a_full_rebuild() -> None:
    driver, subaccounts = _busy_driver()
    reads = 0
    for hour in range(4, 8):
        for sub in subaccounts[:3]:
            driver.borrow(sub, "USDC", "10")  # an entry fee: the lenders' index changes
            _same_as_a_full_rebuild(driver.state, subaccounts)
            reads += 1
        driver.tick(HOUR_MS // 2 + hour * HOUR_MS)
    assert reads == 12
    lender = SubaccountId(1)
    assert any(row.kind is InterestKind.LEND for row in compute_interest_history(driver.state, lender))


def test_a_change_that_sorts_among_earlier_ones_takes_its_place() -> None:
    """Changes arrive in order; were one to tie an earlier one's movement and time, it goes where a full sort puts it."""
    driver, subaccounts = _busy_driver()
    state = driver.state
    assert compute_interest_history(state, subaccounts[0])  # the memo now holds every change so far
    fee = next(fee for fee in reversed(state.entry_fees) if fee.symbol == "USDC")
    (last, *_) = state.accruals["USDC"][-1:]
    state.accruals["USDC"].append(replace(last, movements_before=fee.movements_before, hour_ms=fee.at_ms))
    state.history_count += 1
    state.history_sequence["accruals.USDC"].append(state.history_count)
    assert state.interest_hour_ms is not None
    state.interest_hour_ms += HOUR  # as the engine does with every accrual (the memo reads accruals on a new hour)
    extended = index_changes(state).changes["USDC"]
    kinds_at_tie = [
        change.kind
        for change in extended
        if (change.movements_before, change.at_ms) == (fee.movements_before, fee.at_ms)
    ]
    assert kinds_at_tie[:2] == [InterestKind.BORROW, InterestKind.ENTRY_FEE], "an accrual goes before a tied fee"
    _same_as_a_full_rebuild(state, subaccounts)


def test_an_entry_fee_of_no_atoms_has_no_interest_row() -> None:
    """A borrow whose fee rounds to nothing (a rate of 0) records the fee; its history shows no row for it."""
    driver, subaccounts = _busy_driver()
    state, borrower = driver.state, subaccounts[1]
    before = compute_interest_history(state, borrower)
    fee = state.entry_fees[state.history_of("entry_fees", borrower)[-1]]
    state.history_indexes["entry_fees"][borrower].append(len(state.entry_fees))
    state.entry_fees.append(replace(fee, quantity_atoms=0, at_ms=driver.now_ms + 1))
    state.history_count += 1
    state.history_sequence["entry_fees"].append(state.history_count)
    assert compute_interest_history(state, borrower) == before


def test_each_markets_funding_rates_are_kept_by_hour_and_survive_a_snapshot() -> None:
    """`GET /api/v1/fundingRates` is public: it reads the market's rates by hour, not every position's payment."""
    driver, _ = _busy_driver()
    restored = decode_state(encode_state(driver.state))
    for state in (driver.state, restored):
        scanned: dict[str, dict[int, int]] = {}
        for payment in state.funding_payments:
            scanned.setdefault(payment.market, {})[payment.interval_end_ms] = payment.rate_wad
        assert state.funding_rates == scanned
        assert len(state.funding_rates[PERP]) == 3, "three hours of funding"


def test_one_subaccounts_statement_reads_its_indexed_records_and_lists_the_rows_of_everyones() -> None:
    """A user's statement took 150 ms with 100,000 commands of history (pure core): it built everyone's rows first."""
    driver, subaccounts = _busy_driver()
    spot_buyer = subaccounts[1]
    driver.deposit(spot_buyer, "USDC", "1000")
    seller = driver.account()
    driver.deposit(seller, "BTC", "1")
    driver.place(seller, "BTC_USDC", "sell", "0.01", "60000")
    driver.accept(driver.order(spot_buyer, "BTC_USDC", "buy", "0.01", "60000", tif=TimeInForce.IOC))
    sibling = driver.subaccount(spot_buyer)
    driver.accept(driver.transfer(spot_buyer, sibling, "USDC", "5"))
    driver.tick(HOUR_MS // 2 + 9 * HOUR_MS)
    everyone = statement_rows(driver.state)

    def without_order(rows: list[StatementRow]) -> list[tuple[object, ...]]:
        return [astuple(replace(row, order=(0, 0))) for row in rows]

    for sub in [*subaccounts, seller, sibling, SubaccountId(1)]:
        mine = statement_rows(driver.state, sub)
        assert without_order(mine) == without_order([row for row in everyone if row.subaccount_id == sub])
        kinds = {row.kind for row in mine}
        if sub == spot_buyer:
            assert {StatementKind.TRADE, StatementKind.TRANSFER, StatementKind.DEPOSIT} <= kinds


def test_each_subaccounts_settlement_rows_are_found_through_the_index_as_in_every_pass() -> None:
    """A user's settlement rows took about 1 s with 1,000 positions over 600 passes: every pass was expanded."""
    driver, subaccounts = _busy_driver()
    traders = subaccounts[1:3]
    for trader in traders:
        driver.deposit(trader, "USDC", "10000")
        driver.accept(driver.order(trader, PERP, "sell", "0.01", "60900", tif=TimeInForce.IOC))
    state, passes = driver.state, len(driver.state.settlements)
    everyone = [*subaccounts, SubaccountId(1), SubaccountId(2)]
    for step in range(1, 7):
        driver.prices(BTC=str(60_000 + 150 * step))
        driver.tick(driver.now_ms + 10_000)
        if step % 2:  # read between passes: the index is extended with what came since
            for sub in everyone:
                mine = list(numbered_settled_rows(state, sub))
                assert mine == [row for row in numbered_settled_rows(state) if row[2].subaccount_id == sub]
    assert len(state.settlements) > passes + 3
    restored = decode_state(encode_state(state))
    for sub in everyone:
        expected = [row for row in numbered_settled_rows(state) if row[2].subaccount_id == sub]
        assert list(numbered_settled_rows(state, sub)) == expected
        assert list(numbered_settled_rows(restored, sub)) == expected
    assert all(list(numbered_settled_rows(state, sub)) for sub in traders)
    assert [row for _, _, row in numbered_settled_rows(state)] == list(settled_rows(state.settlements))


def test_the_service_indexes_each_settlement_pass_after_its_batch_not_at_the_next_read() -> None:
    """Indexed only by reads, a read after an hour without any would pay for every pass of that hour at once."""
    driver, _ = _busy_driver()
    state = driver.state
    passes = len(state.settlements)
    assert passes, "the busy exchange settled its perp positions"
    with Service(MemoryJournal(), ManualClock(driver.now_ms), state, 0) as service:
        assert state.memo(SettledIndex).passes_read == passes, "the passes so far are indexed before serving"
        for step in range(1, 4):
            service.execute(SetMarkPrices((("BTC", (60_000 + 200 * step) * WAD),)))
            service.advance_clock(10)
        assert len(state.settlements) > passes, "the clock's Ticks ran settlement passes"
        assert state.memo(SettledIndex).passes_read == len(state.settlements), "indexed with no read"


def test_the_service_extends_the_interest_memo_after_each_batch_not_at_the_next_read() -> None:
    """Extended only by reads, the first interest history read after an hour of borrows paid for all of them at once."""
    driver, users = _busy_driver()
    state = driver.state
    fees = len(state.entry_fees)
    assert fees, "the busy exchange charged entry fees"
    with Service(MemoryJournal(), ManualClock(driver.now_ms), state, 0) as service:
        memo = state.memo(IndexChanges)
        assert memo.entry_fees_read == fees, "the entry fees so far are read before serving"
        for _ in range(3):
            borrow = ExecuteBorrowLend(users[0], "USDC", BorrowLendSide.BORROW, 10 * 10**6)
            assert isinstance(service.execute(borrow), Accepted)
        service.advance_clock(3_600)
        assert len(state.entry_fees) == fees + 3
        assert memo.entry_fees_read == len(state.entry_fees), "extended with no read"
        assert memo.accruals_read == {symbol: len(accruals) for symbol, accruals in state.accruals.items()}


def test_transfers_dust_conversions_and_takeovers_are_indexed_under_each_subaccount_they_name() -> None:
    """Before, one subaccount's statement passed over every transfer of the exchange: 50,000 others' took 160 ms."""
    driver = Driver()
    driver.prices(USDC="1", USDT="1", BTC="60000", ETH="3000", SOL="150")
    driver.lender(USDC="1000000")
    trader = driver.account()
    driver.deposit(trader, "BTC", "1")
    driver.accept(driver.withdraw(trader, "USDC", "48000", auto_borrow=True))
    driver.deposit(INSURANCE_FUND_ID, "USDC", "10000")
    holder = driver.account()
    driver.deposit(holder, "USDC", "10")
    sibling = driver.subaccount(holder)
    driver.accept(driver.transfer(holder, sibling, "USDC", "4"))
    driver.accept(driver.transfer(sibling, holder, "USDC", "1"))
    driver.deposit(holder, "SOL", "0.00333333")
    driver.accept(ConvertDust(holder, "SOL"))
    driver.prices(BTC="56000")
    driver.accept(Liquidate(trader))
    state = driver.state
    assert state.transfers
    assert state.dust_conversions
    assert state.backstops
    restored = decode_state(encode_state(state))
    for each in (state, restored):
        for name in ("dust_conversions", "transfers", "backstops"):
            records = getattr(each, name)
            for sub in (trader, holder, sibling, INSURANCE_FUND_ID, driver.account()):
                mine = [records[index] for index in each.history_of(name, sub)]
                assert mine == [record for record in records if sub in history_owners(record)], name
        assert len(each.history_of("transfers", holder)) == len(each.history_of("transfers", sibling)) == 2
        assert each.history_of("backstops", INSURANCE_FUND_ID) == each.history_of("backstops", trader) == [0]
