"""A snapshot stores each history record once, on both databases (`app/snapshot_parts.py`).

Before, every snapshot wrote the whole history again (every deposit, movement, fill and
settlement pass since the exchange began), so each took longer than the last, on the writer
thread. Now a snapshot's own text holds the state without its history lists, and each record goes
into the journal once, in a part stored with the first snapshot that held it.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence

import pytest
from tests.integration.conftest import Database
from tests.integration.workload import START_MS, apply_stream, build_stream

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app import snapshot_parts
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import CodecError, decode_snapshot, encode_state, stored_fields
from crossmargin.app.declared_types import declared_hints
from crossmargin.app.ports import HistoryPart, Journal, JournalConflictError, JournalUnavailableError
from crossmargin.app.service import Service, rebuild_state
from crossmargin.app.snapshot_parts import (
    HISTORY_LISTS,
    KEYED_HISTORY_LISTS,
    PARTS_KEY,
    SnapshotPartsError,
    StoredParts,
    decode_snapshot_with_parts,
    encode_snapshot,
    history_lists,
)
from crossmargin.asset_config import load_asset_specs
from crossmargin.core.commands import CreateAccount, Deposit
from crossmargin.core.engine import Accepted, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.state import EngineState

DEPOSITS = 400


def _deposit_many(service: Service, first_subaccount: int, count: int) -> None:
    """Deposit `count` times (history records: a deposit and its number each); every one accepted."""
    deposits = [Deposit(SubaccountId(first_subaccount), "USDC", 10**6 + n) for n in range(count)]
    results = service.submit_all(deposits).result(timeout=60)
    assert all(isinstance(result, Accepted) for result in results)


def _latest_text(journal: Journal) -> str:
    latest = journal.load_latest_snapshot()
    assert latest is not None
    return latest[1]


def test_a_snapshot_stores_each_history_record_once(database: Database) -> None:
    clock = ManualClock(START_MS)
    service = database.open_service(clock, snapshot_every=10**9)
    try:
        assert isinstance(service.execute(CreateAccount()), Accepted)
        _deposit_many(service, 1, DEPOSITS)
        service.snapshot()
        _deposit_many(service, 1, DEPOSITS)
        service.snapshot()
        before = service.read(encode_state)
        whole = len(before)
    finally:
        service.close()
    journal = database.open_journal()
    try:
        text = _latest_text(journal)
        data = json.loads(text)
        assert "deposits" not in data["state"], "the history lists are out of the snapshot's own text"
        assert data[PARTS_KEY]["deposits"] == 2 * DEPOSITS
        # The whole state's text holds 800 deposits; the snapshot's text none of them.
        assert len(text) < whole - 2 * DEPOSITS * len('{"subaccount_id":1,"symbol":"USDC"}')
        parts = journal.load_history_parts("deposits", 10**9)
        assert [(part.start, part.stop) for part in parts] == [(0, DEPOSITS), (DEPOSITS, 2 * DEPOSITS)]
        assert journal.history_part_ends()["deposits"] == 2 * DEPOSITS
        state, _, _ = rebuild_state(journal)
    finally:
        journal.close()
    assert encode_state(state) == before, "the state comes back whole from the snapshot and its parts"


def test_the_snapshot_text_does_not_grow_with_the_history() -> None:
    journal = MemoryJournal()
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs(), snapshot_every=10**9)
    sizes = []
    try:
        assert isinstance(service.execute(CreateAccount()), Accepted)
        for _ in range(3):
            _deposit_many(service, 1, DEPOSITS)
            sizes.append(len(journal.snapshots[service.snapshot()]))
    finally:
        service.close()
    assert max(sizes) - min(sizes) < 200, f"the text grew with the deposits: {sizes}"
    assert journal.history_part_ends()["deposits"] == 3 * DEPOSITS


def test_a_service_reopened_on_a_snapshot_with_parts_has_the_state_it_closed_with(database: Database) -> None:
    clock = ManualClock(START_MS)
    service = database.open_service(clock, snapshot_every=97)
    try:
        apply_stream(service, clock, build_stream(31, 600))
        before = service.read(encode_state)
    finally:
        service.close()
    reopened = database.open_service(ManualClock(START_MS))
    try:
        assert reopened.read(encode_state) == before
        assert all(check.ok for check in reopened.audit())
    finally:
        reopened.close()


def test_an_older_snapshot_reads_a_prefix_and_the_next_snapshot_adds_only_what_is_new() -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs(), snapshot_every=10**9)
    assert isinstance(service.execute(CreateAccount()), Accepted)
    _deposit_many(service, 1, DEPOSITS)
    service.snapshot()
    older = max(journal.snapshots)
    _deposit_many(service, 1, DEPOSITS)
    service.close()  # a snapshot at close: its parts hold the second 400 deposits
    closed = max(journal.snapshots)
    before = _state_text(journal, closed)
    # The newest snapshot is lost; the older one reads the first 400 deposits of the stored 800.
    del journal.snapshots[closed]
    reopened = Service.open(journal.reopen(), clock, load_asset_specs(), snapshot_every=10**9)
    try:
        assert reopened.read(encode_state) == before
        assert journal.history_part_ends()["deposits"] == 2 * DEPOSITS
        _deposit_many(reopened, 1, 10)
        reopened.snapshot()
        after = reopened.read(encode_state)
    finally:
        reopened.close()
    parts = journal.load_history_parts("deposits", 10**9)
    assert [(part.start, part.stop) for part in parts] == [(0, 400), (400, 800), (800, 810)]
    assert older < closed
    state, _, _ = rebuild_state(journal.reopen())
    assert encode_state(state) == after


def _state_text(journal: MemoryJournal, sequence: int) -> str:
    state, _ = decode_snapshot_with_parts(journal.snapshots[sequence], journal.load_history_parts)
    return encode_state(state)


def test_a_snapshot_whose_parts_are_missing_is_passed_over_and_the_journal_replayed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs(), snapshot_every=10**9)
    assert isinstance(service.execute(CreateAccount()), Accepted)
    _deposit_many(service, 1, 50)
    before = service.read(encode_state)
    service.close()
    del journal.history_parts["deposits"]
    state, sequence, snapshot_sequence = rebuild_state(journal.reopen())
    assert snapshot_sequence == 0, "the snapshot was passed over"
    assert sequence == len(journal.records)
    assert encode_state(state) == before
    assert "history deposits holds 0 of its 50 records" in caplog.text


def _state_with_history() -> EngineState:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs(), snapshot_every=10**9)
    apply_stream(service, clock, build_stream(32, 300))
    state = service.read(lambda state: decode_snapshot(encode_state(state))[0])
    service.close()
    return state


def test_parts_cover_every_history_list_and_decode_to_the_same_state() -> None:
    state = _state_with_history()
    lists = history_lists(state)
    assert set(HISTORY_LISTS) <= set(lists)
    assert any(name.startswith("history_sequence/") for name in lists)
    assert any(name.startswith("accruals/") for name in lists)
    half = {name: len(records) // 2 for name, records in lists.items()}
    first_text, first_parts = encode_snapshot(state, {"extra": [1]}, {})
    _, second_parts = encode_snapshot(state, {}, half)
    assert {part.name for part in first_parts} == {name for name, records in lists.items() if records}
    assert all(part.start == half[part.name] for part in second_parts)
    stored: dict[str, list[HistoryPart]] = {}
    for part in first_parts:
        stored.setdefault(part.name, []).append(part)
    decoded, extras = decode_snapshot_with_parts(first_text, lambda name, stop: stored.get(name, []))
    assert encode_state(decoded) == encode_state(state)
    assert extras == {"extra": [1]}


def test_a_whole_snapshot_still_decodes_without_parts() -> None:
    state = _state_with_history()
    decoded, _ = decode_snapshot_with_parts(encode_state(state), lambda name, stop: [])
    assert encode_state(decoded) == encode_state(state)


@pytest.mark.parametrize(
    ("counts", "parts", "message"),
    [
        ({"nothing": 1}, [], "names 'nothing', which is no history list"),
        ({"deposits": -1}, [], "expected a count"),
        ({"deposits": 2}, [HistoryPart("deposits", 1, 2, "[{}]")], "no part from record 0"),
        ({"deposits": 1}, [HistoryPart("deposits", 0, 2, "[{}]")], "does not hold its records"),
        ({"deposits": 1}, [HistoryPart("deposits", 0, 1, "[")], "not JSON"),
    ],
)
def test_a_snapshot_with_bad_parts_is_refused_with_where(
    counts: dict[str, int], parts: list[HistoryPart], message: str
) -> None:
    text, _ = encode_snapshot(EngineState(), {}, {})
    data = json.loads(text)
    data[PARTS_KEY] = counts
    with pytest.raises(CodecError, match=message):
        decode_snapshot_with_parts(json.dumps(data), lambda name, stop: parts)


def test_a_missing_part_is_a_parts_error() -> None:
    text, _ = encode_snapshot(EngineState(), {}, {})
    data = json.loads(text)
    data[PARTS_KEY] = {"deposits": 3}
    with pytest.raises(SnapshotPartsError, match="holds 0 of its 3 records"):
        decode_snapshot_with_parts(json.dumps(data), lambda name, stop: [])


def test_the_memory_journal_refuses_a_part_already_stored_and_keeps_nothing_of_that_snapshot() -> None:
    journal = MemoryJournal()
    journal.save_snapshot(1, "{}", [HistoryPart("fills", 0, 1, "[1]")])
    with pytest.raises(JournalConflictError, match="history part fills from 0 is already stored"):
        journal.save_snapshot(2, "{}", [HistoryPart("deposits", 0, 1, "[2]"), HistoryPart("fills", 0, 2, "[1,2]")])
    assert journal.load_latest_snapshot() == (1, "{}")
    assert journal.history_part_ends() == {"fills": 1}


class _CountingJournal(MemoryJournal):
    """A memory journal that counts the reads of its part ends and can fail a save after storing it."""

    def __init__(self) -> None:
        super().__init__()
        self.end_reads = 0
        self.fail_after_storing = False

    def history_part_ends(self) -> dict[str, int]:
        self.end_reads += 1
        return super().history_part_ends()

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        super().save_snapshot(sequence, state, parts)
        if self.fail_after_storing:
            self.fail_after_storing = False
            raise JournalUnavailableError("the connection was lost at COMMIT")


def test_the_writer_asks_the_journal_what_it_holds_once_and_again_after_a_failed_save() -> None:
    state = _state_with_history()
    journal = _CountingJournal()
    stored = StoredParts()
    stored.save(journal, 1, state, {})
    stored.save(journal, 2, state, {})
    assert journal.end_reads == 1, "the writer keeps what it stored"
    grown = _state_with_history()
    _deposit_into(grown, 5)
    journal.fail_after_storing = True
    with pytest.raises(JournalUnavailableError):
        stored.save(journal, 3, grown, {})
    _deposit_into(grown, 5)
    stored.save(journal, 4, grown, {})  # the parts of save 3 were stored after all: asked again, no conflict
    assert journal.end_reads == 2
    assert journal.history_part_ends()["deposits"] == len(grown.deposits)
    other = MemoryJournal()
    stored.save(other, 5, grown, {})  # another journal (a failover): it holds nothing yet
    decoded, _ = decode_snapshot_with_parts(other.snapshots[5], other.load_history_parts)
    assert encode_state(decoded) == encode_state(grown)


def _deposit_into(state: EngineState, count: int) -> None:
    for amount in range(1, count + 1):
        assert isinstance(execute(state, Deposit(SubaccountId(1), "USDC", amount), state.now_ms + 1), Accepted)


def test_a_long_history_is_split_into_parts_of_at_most_part_records_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_parts, "PART_RECORDS_MAX", 7)
    state = _state_with_history()
    text, parts = encode_snapshot(state, {}, {"deposits": 3})
    deposits = [(part.start, part.stop) for part in parts if part.name == "deposits"]
    assert deposits[0] == (3, 10)
    assert all(stop - start <= 7 for start, stop in deposits)
    assert [start for start, _ in deposits[1:]] == [stop for _, stop in deposits[:-1]], "contiguous"
    assert deposits[-1][1] == len(state.deposits)
    _, all_parts = encode_snapshot(state, {}, {})
    stored: dict[str, list[HistoryPart]] = {}
    for part in all_parts:
        stored.setdefault(part.name, []).append(part)
    decoded, _ = decode_snapshot_with_parts(text, lambda name, stop: stored.get(name, []))
    assert encode_state(decoded) == encode_state(state)


def test_every_list_the_state_stores_is_a_history_list_or_kept_whole_on_purpose() -> None:
    """A new list field must be sorted here: appended only (a history part) or changed in place (in the text)."""
    hints = declared_hints(EngineState)
    lists = {field.name for field in stored_fields(EngineState) if typing.get_origin(hints[field.name]) is list}
    assert lists == set(HISTORY_LISTS)
    keyed = {
        field.name
        for field in stored_fields(EngineState)
        if typing.get_origin(hints[field.name]) is dict
        and typing.get_origin(typing.get_args(hints[field.name])[1]) is list
    }
    # Closed orders are trimmed to the latest per subaccount (changed in place), and an account's
    # subaccounts are live state, not history: both stay in the snapshot's text.
    assert keyed == {*KEYED_HISTORY_LISTS, "closed_orders", "accounts"}
