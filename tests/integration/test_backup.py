"""`crossmargin backup`: an online copy of the SQLite journal that a server restores from.

Goal: a backup taken while the sequencer writes is a journal exactly as it stood after some batch,
and a service opened on it has the state the source had there (INV-REPLAY-1). Method: a random
workload (`workload.py`) through a service on a SQLite journal; a backup of the idle journal must
restore to the same encoded state and sequence with the audit passing, and one taken while a
thread keeps submitting must be a prefix of the source journal, command for command, which
restores and audits. The CLI names the restore command, refuses a destination already holding a
journal, and on PostgreSQL points to pg_dump / pg_basebackup instead of copying anything.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from tests.integration.workload import START_MS, apply_stream, build_stream

from crossmargin.adapters.sqlite_backup import BackupError, backup_journal
from crossmargin.adapters.sqlite_journal import DATABASE_FILE_NAME, SqliteJournal
from crossmargin.app.clock import ManualClock
from crossmargin.app.codec import encode_state
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.cli.main import main
from crossmargin.core.commands import Deposit
from crossmargin.core.engine import Accepted
from crossmargin.core.ids import SubaccountId


def _open(data_dir: Path, clock: ManualClock | None = None) -> Service:
    return Service.open(SqliteJournal.in_directory(data_dir), clock or ManualClock(START_MS), load_asset_specs())


def test_a_backup_of_a_running_service_restores_to_the_same_state(tmp_path: Path) -> None:
    clock = ManualClock(START_MS)
    service = _open(tmp_path / "live", clock)
    try:
        accepted = apply_stream(service, clock, build_stream(seed=21, count=300))
        assert sum(accepted) > 150, "most of the workload is accepted"
        state, sequence = service.read(encode_state), service.sequence
        backup = backup_journal(tmp_path / "live" / DATABASE_FILE_NAME, tmp_path / "copy")
        assert (backup.sequence, backup.path) == (sequence, tmp_path / "copy" / DATABASE_FILE_NAME)
        apply_stream(service, clock, build_stream(seed=22, count=50))  # after the backup: not in the copy
        assert service.sequence > sequence
    finally:
        service.close()
    assert (tmp_path / "copy").stat().st_mode & 0o777 == 0o700
    assert backup.path.stat().st_mode & 0o777 == 0o600
    restored = _open(tmp_path / "copy")
    try:
        assert restored.sequence == sequence
        assert restored.read(encode_state) == state
        assert all(check.ok for check in restored.audit())
    finally:
        restored.close()


def test_a_backup_taken_while_commands_stream_in_is_a_prefix_of_the_journal(tmp_path: Path) -> None:
    clock = ManualClock(START_MS)
    service = _open(tmp_path / "live", clock)
    apply_stream(service, clock, build_stream(seed=23, count=200))
    assert isinstance(service.execute(Deposit(SubaccountId(1), "USDC", 1)), Accepted), "the deposits are journaled"
    stop = threading.Event()

    def keep_depositing() -> None:
        while not stop.is_set():
            service.execute(Deposit(SubaccountId(1), "USDC", 1))

    writer = threading.Thread(target=keep_depositing)
    writer.start()
    try:
        started = service.sequence
        while service.sequence < started + 20:  # the writer is going: the backup races real commits
            time.sleep(0.001)
        before = service.sequence
        backup = backup_journal(tmp_path / "live" / DATABASE_FILE_NAME, tmp_path / "copy")
        after = service.sequence
    finally:
        stop.set()
        writer.join()
        final = service.sequence
        service.close()
    assert before <= backup.sequence <= after
    assert final > backup.sequence, "commands went on after the copy"
    source, copy = SqliteJournal.in_directory(tmp_path / "live"), SqliteJournal.in_directory(tmp_path / "copy")
    try:
        copied = list(copy.read())
        assert [record.sequence for record in copied] == list(range(1, backup.sequence + 1))
        assert copied == list(source.read())[: backup.sequence], "the copy is the source's journal up to a batch"
    finally:
        source.close()
        copy.close()
    restored = _open(tmp_path / "copy")
    try:
        assert restored.sequence == backup.sequence
        assert all(check.ok for check in restored.audit())
    finally:
        restored.close()


def test_a_closed_journal_backs_up_too_and_a_used_destination_is_refused(tmp_path: Path) -> None:
    clock = ManualClock(START_MS)
    service = _open(tmp_path / "live", clock)
    apply_stream(service, clock, build_stream(seed=24, count=40))
    sequence = service.sequence
    service.close()
    assert backup_journal(tmp_path / "live" / DATABASE_FILE_NAME, tmp_path / "copy").sequence == sequence
    with pytest.raises(BackupError, match="exists"):
        backup_journal(tmp_path / "live" / DATABASE_FILE_NAME, tmp_path / "copy")
    with pytest.raises(BackupError, match="no journal there"):
        backup_journal(tmp_path / "nowhere" / DATABASE_FILE_NAME, tmp_path / "other")
    assert not (tmp_path / "nowhere").exists(), "a missing source is not created"


def test_the_cli_backs_up_and_names_the_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clock = ManualClock(START_MS)
    service = _open(tmp_path / "live", clock)
    try:
        apply_stream(service, clock, build_stream(seed=25, count=40))
        sequence = service.sequence
        status = main(["backup", str(tmp_path / "copy"), "--data-dir", str(tmp_path / "live")])
    finally:
        service.close()
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert f"through sequence {sequence}" in printed
    assert f"crossmargin serve --data-dir {tmp_path / 'copy'}" in printed.replace("\n", "")
    assert main(["backup", str(tmp_path / "copy"), "--data-dir", str(tmp_path / "live")]) == 1


def test_on_postgresql_the_cli_points_to_postgresqls_tools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["backup", str(tmp_path / "dump"), "--database-url", "postgresql://127.0.0.1:1/none"])
    printed = capsys.readouterr().out
    assert status == 2
    assert "pg_dump" in printed
    assert "pg_basebackup" in printed
    assert not (tmp_path / "dump").exists(), "nothing is copied"
