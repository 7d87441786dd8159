"""INV-REPLAY-1: rebuilding from the journal yields the same state, exactly, on both databases.

A seeded workload runs through a service; the state is captured as codec text, the service is
closed and a new one is opened on the same database. The rebuilt state must encode to the same
text, whether it came from the journal alone, from a snapshot plus the journal after it, or from
the snapshot taken on close. A journal that does not replay, or whose state breaks an invariant,
stops the start loudly. The asset configuration is itself journaled.
"""

from __future__ import annotations

import dataclasses

import pytest
from tests.integration.conftest import Database
from tests.integration.workload import START_MS, apply_stream, build_stream

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import decode_snapshot, encode_command, encode_state
from crossmargin.app.ports import Journal, JournalRecord
from crossmargin.app.service import AssetConfigurationError, ReplayError, Service, rebuild_state, replay
from crossmargin.asset_config import load_asset_specs, load_document, parse_asset_specs
from crossmargin.core.commands import ConfigureAssets, ConfigureMarkets, Withdraw
from crossmargin.core.ids import SubaccountId
from crossmargin.core.ledger import WORLD
from crossmargin.core.markets import MarketSpec
from crossmargin.core.numbers import Ratio
from crossmargin.core.state import EngineState
from crossmargin.market_config import parse_market_specs


def run_workload(database: Database, seed: int, count: int, snapshot_every: int) -> tuple[str, int]:
    """Apply a workload through a fresh service; return the encoded state and the sequence at close."""
    clock = ManualClock(START_MS)
    service = database.open_service(clock, snapshot_every=snapshot_every)
    try:
        accepted = apply_stream(service, clock, build_stream(seed, count))
        assert sum(accepted) > count // 2, "most of the workload is accepted"
        return service.read(encode_state), service.sequence
    finally:
        service.close()


def test_reopened_service_has_exactly_the_state_it_closed_with(database: Database) -> None:
    before, sequence = run_workload(database, seed=11, count=700, snapshot_every=10**9)
    service = database.open_service(ManualClock(START_MS))
    try:
        assert service.sequence == sequence
        assert service.read(encode_state) == before
        assert all(check.ok for check in service.audit())
    finally:
        service.close()


def test_replaying_the_whole_journal_without_snapshots_gives_the_same_state(database: Database) -> None:
    before, sequence = run_workload(database, seed=12, count=500, snapshot_every=10**9)
    journal = database.open_journal()
    try:
        state = EngineState()
        assert replay(state, journal.read(), 0) == sequence
    finally:
        journal.close()
    assert encode_state(state) == before


def test_snapshot_plus_journal_tail_gives_the_same_state(database: Database) -> None:
    before, sequence = run_workload(database, seed=13, count=700, snapshot_every=97)
    journal = database.open_journal()
    try:
        latest = journal.load_latest_snapshot()
        assert latest is not None
        assert latest[0] == sequence, "close takes a final snapshot"
        journal.save_snapshot(sequence - 40, _state_at(journal, sequence - 40))
        state, rebuilt_sequence, snapshot_sequence = rebuild_state(journal)
        assert (rebuilt_sequence, snapshot_sequence) == (sequence, sequence)
    finally:
        journal.close()
    assert encode_state(state) == before


def _state_at(journal: Journal, sequence: int) -> str:
    state = EngineState()
    records = [record for record in journal.read() if record.sequence <= sequence]
    replay(state, records, 0)
    return encode_state(state)


def test_replay_from_an_older_snapshot_replays_the_tail() -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs(), snapshot_every=10**9)
    apply_stream(service, clock, build_stream(14, 400))
    before = service.read(encode_state)
    middle = journal.records[len(journal.records) // 2].sequence
    service.close()
    journal.snapshots = {middle: _state_at(journal, middle)}
    state, sequence, snapshot_sequence = rebuild_state(journal.reopen())
    assert snapshot_sequence == middle
    assert sequence == len(journal.records)
    assert encode_state(state) == before


def load_market_specs() -> tuple[MarketSpec, ...]:
    document = load_document()
    return parse_market_specs(document, parse_asset_specs(document))


def test_changed_asset_config_is_journaled_so_replay_needs_no_file(database: Database) -> None:
    database.open_service().close()
    usdc = next(spec for spec in load_asset_specs() if spec.symbol == "USDC")
    changed = dataclasses.replace(usdc, fee=Ratio(2 * 10**17))
    journal = database.open_journal()
    Service.open(journal, ManualClock(0), (changed,)).close()
    journal = database.open_journal()
    records = list(journal.read())
    assert [record.command for record in records] == [
        encode_command(ConfigureAssets(load_asset_specs())),
        encode_command(ConfigureMarkets(load_market_specs())),
        encode_command(ConfigureAssets((changed,))),
    ]
    service = Service.open(journal, ManualClock(0), ())
    try:
        assert service.read(lambda state: state.specs["USDC"]) == changed
    finally:
        service.close()


def test_unchanged_asset_config_adds_nothing_to_the_journal(database: Database) -> None:
    database.open_service().close()
    database.open_service().close()
    journal = database.open_journal()
    try:
        assert journal.last_sequence() == 2  # the asset and the market configuration, once
    finally:
        journal.close()


def test_asset_config_that_changes_decimals_stops_the_start(database: Database) -> None:
    database.open_service().close()
    usdc = next(spec for spec in load_asset_specs() if spec.symbol == "USDC")
    journal = database.open_journal()
    with pytest.raises(AssetConfigurationError, match="decimals"):
        Service.open(journal, ManualClock(0), (dataclasses.replace(usdc, decimals=8),))
    database.open_journal().close()  # the failed start released the journal


def test_journal_record_that_no_longer_replays_stops_the_start() -> None:
    journal = MemoryJournal()
    Service.open(journal, ManualClock(START_MS), load_asset_specs()).close()
    journal.reopen().append([JournalRecord(2, START_MS, encode_command(Withdraw(SubaccountId(42), "USDC", 1)))])
    with pytest.raises(AssertionError, match="INV-REPLAY-1"):
        Service.open(journal, ManualClock(START_MS), load_asset_specs())


def test_snapshot_that_breaks_an_invariant_stops_the_start() -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs())
    apply_stream(service, clock, build_stream(15, 50))
    service.close()
    sequence, text = journal.reopen().load_latest_snapshot() or (0, "")
    state, extras = decode_snapshot(text)
    state.ledger[(WORLD, "USDC")] -= 1
    journal.save_snapshot(sequence, encode_state(state, extras))
    assert text != journal.snapshots[sequence]
    with pytest.raises(ReplayError, match="INV-LEDGER-2"):
        Service.open(journal, ManualClock(START_MS), load_asset_specs())


def test_a_snapshot_of_an_older_layout_is_skipped_and_the_journal_replayed() -> None:
    journal = MemoryJournal()
    clock = ManualClock(START_MS)
    service = Service.open(journal, clock, load_asset_specs())
    apply_stream(service, clock, build_stream(16, 40))
    expected = service.read(encode_state)
    service.close()
    sequence, _ = journal.reopen().load_latest_snapshot() or (0, "")
    assert sequence > 0
    journal.save_snapshot(sequence, '{"format": 1, "state": {}}')
    reopened = Service.open(journal, ManualClock(START_MS), load_asset_specs())
    try:
        assert reopened.read(encode_state) == expected
    finally:
        reopened.close()
