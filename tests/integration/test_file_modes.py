"""The SQLite journal's files are the operator's alone: data directory 0700, database, WAL, SHM and lock 0600.

The journal holds every account's API keys and history; other users of the machine must not read
it. A data directory created with a permissive umask is still private, and one left with looser
modes by an older release is tightened on open, with one log line that says so.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossmargin.adapters.sqlite_journal import DATABASE_FILE_NAME, SqliteJournal
from crossmargin.app.ports import JournalRecord
from crossmargin.bootstrap import open_journal

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def journal_files(data_dir: Path) -> list[Path]:
    names = (DATABASE_FILE_NAME, f"{DATABASE_FILE_NAME}-wal", f"{DATABASE_FILE_NAME}-shm", f"{DATABASE_FILE_NAME}.lock")
    return [data_dir / name for name in names]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _write_one(journal: SqliteJournal) -> None:
    journal.append([JournalRecord(1, 7, '{"type":"Tick"}')])


def test_a_new_data_directory_and_its_journal_files_are_private(tmp_path: Path, permissive_umask: None) -> None:
    data_dir = tmp_path / "data"
    journal = SqliteJournal.in_directory(data_dir)
    try:
        _write_one(journal)
        assert mode(data_dir) == PRIVATE_DIRECTORY
        assert {path.name: mode(path) for path in journal_files(data_dir)} == {
            path.name: PRIVATE_FILE for path in journal_files(data_dir)
        }
    finally:
        journal.close()


def test_a_data_directory_with_looser_modes_is_tightened_and_says_so_once(
    tmp_path: Path, permissive_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    journal = SqliteJournal.in_directory(data_dir)
    _write_one(journal)
    journal.close()
    data_dir.chmod(0o755)
    for path in journal_files(data_dir):
        if path.exists():
            path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="crossmargin.sqlite_journal"):
        reopened = SqliteJournal.in_directory(data_dir)
    try:
        assert mode(data_dir) == PRIVATE_DIRECTORY
        assert all(mode(path) == PRIVATE_FILE for path in journal_files(data_dir) if path.exists())
        tightened = [record for record in caplog.records if "tightened" in record.getMessage()]
        assert len(tightened) == 1, [record.getMessage() for record in caplog.records]
        assert str(data_dir) in tightened[0].getMessage()
    finally:
        reopened.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crossmargin.sqlite_journal"):
        SqliteJournal.in_directory(data_dir).close()
    assert not caplog.records, "private files are left as they are, silently"


def test_a_journal_named_by_url_is_private_too(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "elsewhere" / "journal.sqlite3"
    journal = open_journal(f"sqlite:///{path}", tmp_path / "unused")
    try:
        journal.append([JournalRecord(1, 7, '{"type":"Tick"}')])
        assert mode(path.parent) == PRIVATE_DIRECTORY, "a directory the journal creates is private"
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert [mode(file) for file in files] == [PRIVATE_FILE] * 3
        assert mode(path.with_name(path.name + ".lock")) == PRIVATE_FILE
    finally:
        journal.close()
