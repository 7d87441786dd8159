"""Journal adapters keep what they were given, in order, across reopening, on both databases.

Each test writes through one connection, closes it and reads through a new one, as a restarted
process would. The memory journal is held to the same rules where they apply.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from tests.integration.conftest import POSTGRES_URL, Database

from crossmargin.adapters.memory_journal import MemoryJournal
from crossmargin.adapters.postgres_journal import READ_PAGE_ROWS, PostgresJournal
from crossmargin.app.ports import HistoryPart, JournalConflictError, JournalLockedError, JournalRecord
from crossmargin.bootstrap import open_journal


def records(first: int, count: int) -> list[JournalRecord]:
    return [
        JournalRecord(sequence, 1_700_000_000_000 + sequence, f'{{"type":"Tick","n":{sequence}}}')
        for sequence in range(first, first + count)
    ]


def test_appended_records_read_back_in_order_after_reopening(database: Database) -> None:
    journal = database.open_journal()
    journal.append(records(1, 3))
    journal.append(records(4, 2))
    journal.close()
    reopened = database.open_journal()
    try:
        assert list(reopened.read()) == records(1, 5)
        assert list(reopened.read(3)) == records(4, 2)
        assert reopened.last_sequence() == 5
    finally:
        reopened.close()


def test_reading_more_than_a_page_returns_every_record_once(database: Database) -> None:
    journal = database.open_journal()
    try:
        journal.append(records(1, READ_PAGE_ROWS + 7))
        read = list(journal.read(5))
        assert [record.sequence for record in read] == list(range(6, READ_PAGE_ROWS + 8))
    finally:
        journal.close()


def test_appending_a_sequence_twice_is_a_conflict_and_writes_nothing(database: Database) -> None:
    journal = database.open_journal()
    try:
        journal.append(records(1, 2))
        with pytest.raises(JournalConflictError):
            journal.append([*records(3, 1), *records(2, 1)])
        assert list(journal.read()) == records(1, 2), "a refused batch leaves no record behind"
        journal.append(records(3, 1))
        assert journal.last_sequence() == 3
    finally:
        journal.close()


def test_empty_journal_has_no_records_and_no_snapshot(database: Database) -> None:
    journal = database.open_journal()
    try:
        assert list(journal.read()) == []
        assert journal.last_sequence() == 0
        assert journal.load_latest_snapshot() is None
        journal.append([])
        assert journal.last_sequence() == 0
    finally:
        journal.close()


def test_latest_snapshot_wins_and_old_ones_are_pruned(database: Database) -> None:
    journal = database.open_journal()
    journal.append(records(1, 30))
    for sequence in (10, 20, 30):
        journal.save_snapshot(sequence, f'{{"at":{sequence}}}')
    journal.save_snapshot(30, '{"at":"30 again"}')
    journal.close()
    reopened = database.open_journal()
    try:
        assert reopened.load_latest_snapshot() == (30, '{"at":"30 again"}')
    finally:
        reopened.close()


def test_history_parts_are_stored_with_their_snapshot_and_read_back_by_list(database: Database) -> None:
    journal = database.open_journal()
    assert journal.history_part_ends() == {}
    journal.append(records(1, 20))
    journal.save_snapshot(10, '{"at":10}', [HistoryPart("fills", 0, 2, "[1,2]"), HistoryPart("deposits", 0, 1, "[3]")])
    journal.save_snapshot(20, '{"at":20}', [HistoryPart("fills", 2, 5, "[4,5,6]")])
    journal.close()
    reopened = database.open_journal()
    try:
        assert reopened.history_part_ends() == {"fills": 5, "deposits": 1}
        assert reopened.load_history_parts("fills", 5) == [
            HistoryPart("fills", 0, 2, "[1,2]"),
            HistoryPart("fills", 2, 5, "[4,5,6]"),
        ]
        assert reopened.load_history_parts("fills", 2) == [HistoryPart("fills", 0, 2, "[1,2]")], "an older snapshot's"
        assert reopened.load_history_parts("transfers", 9) == []
    finally:
        reopened.close()


def test_a_snapshot_whose_part_is_already_stored_is_refused_whole(database: Database) -> None:
    journal = database.open_journal()
    try:
        journal.append(records(1, 20))
        journal.save_snapshot(10, '{"at":10}', [HistoryPart("fills", 0, 2, "[1,2]")])
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
            journal.save_snapshot(20, '{"at":20}', [HistoryPart("fills", 0, 3, "[1,2,3]")])
        assert journal.load_latest_snapshot() == (10, '{"at":10}'), "neither the snapshot nor its parts were stored"
        assert journal.load_history_parts("fills", 9) == [HistoryPart("fills", 0, 2, "[1,2]")]
    finally:
        journal.close()


def test_large_command_text_is_stored_unchanged(database: Database) -> None:
    text = '{"type":"SetMarkPrices","prices_wad":[["BTC",' + "9" * 400 + ']],"note":"é€"}'
    journal = database.open_journal()
    journal.append([JournalRecord(1, 5, text)])
    journal.close()
    reopened = database.open_journal()
    try:
        assert next(reopened.read()).command == text
    finally:
        reopened.close()


def test_backslashes_tabs_and_newlines_in_command_text_survive(database: Database) -> None:
    texts = ['{"a":"back\\\\slash \\"quoted\\""}', "tab\there", "new\nline\r\n", "\\N"]
    journal = database.open_journal()
    journal.append([JournalRecord(number, 1, text) for number, text in enumerate(texts, 1)])
    journal.close()
    reopened = database.open_journal()
    try:
        assert [record.command for record in reopened.read()] == texts
    finally:
        reopened.close()


def open_second_writer(database: Database) -> None:
    if database.kind == "postgres":
        PostgresJournal(POSTGRES_URL, schema=database.schema, lock_wait_ms=200)
    else:
        database.open_journal()


def test_a_second_writer_on_the_same_journal_is_refused(database: Database) -> None:
    journal = database.open_journal()
    try:
        with pytest.raises(JournalLockedError):
            open_second_writer(database)
    finally:
        journal.close()
    database.open_journal().close()


def test_unknown_database_url_is_refused(sqlite_database: Database) -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_journal("mysql://localhost/x", sqlite_database.data_dir)


def test_sqlite_url_names_the_database_file(sqlite_database: Database) -> None:
    path = sqlite_database.root / "elsewhere" / "journal.db"
    journal = open_journal(f"sqlite:///{path}", sqlite_database.data_dir)
    journal.append(records(1, 1))
    journal.close()
    assert path.exists()
    assert not sqlite_database.data_dir.exists()


def test_memory_journal_refuses_gaps_and_repeats() -> None:
    journal = MemoryJournal()
    journal.append(records(1, 2))
    with pytest.raises(JournalConflictError):
        journal.append(records(4, 1))
    with pytest.raises(JournalConflictError):
        journal.append(records(2, 1))
    assert list(journal.read(1)) == records(2, 1)
