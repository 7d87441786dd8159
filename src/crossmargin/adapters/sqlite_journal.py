"""The journal in one SQLite file: write-ahead logging, a full sync on every commit.

`journal_mode=WAL` with `synchronous=FULL` makes each committed transaction durable when COMMIT
returns, and one transaction per batch is what makes group commit pay: a single sync covers every
command of the batch. A lock file beside the database (an exclusive `flock`, released by the
kernel when the process dies, even by `kill -9`) keeps a second process from writing the same
journal. The connection is used by one thread at a time: the caller that opens and replays, then
the service's writer thread.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from crossmargin.adapters.migrations import migrate_sqlite
from crossmargin.app.ports import JournalConflictError, JournalLockedError, JournalRecord

DATABASE_FILE_NAME: Final = "crossmargin.sqlite3"
READ_PAGE_ROWS: Final = 10_000
SNAPSHOTS_KEPT: Final = 2


class SqliteJournal:
    """Journal and snapshots in one SQLite database file."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the database at `path`, lock it, and migrate its schema."""
        self.path = path
        self._lock_file = _lock_exclusively(path.with_name(path.name + ".lock"))
        try:
            self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.execute("PRAGMA busy_timeout=10000")
            migrate_sqlite(self._connection)
        except BaseException:
            os.close(self._lock_file)
            raise

    @classmethod
    def in_directory(cls, data_dir: Path) -> SqliteJournal:
        """Open the journal file of a data directory, creating the directory if needed."""
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / DATABASE_FILE_NAME)

    def append(self, records: Sequence[JournalRecord]) -> None:
        """Append records in one transaction; durable on return."""
        if not records:
            return
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO journal_entry (sequence, recorded_at_ms, command) VALUES (?, ?, ?)",
                [(record.sequence, record.recorded_at_ms, record.command) for record in records],
            )
            connection.execute("COMMIT")
        except sqlite3.IntegrityError as error:
            connection.execute("ROLLBACK")
            raise JournalConflictError(f"sequence {records[0].sequence} or later is already journaled") from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def read(self, after_sequence: int = 0) -> Iterator[JournalRecord]:
        """Yield every record after `after_sequence`, in order, a page at a time."""
        last = after_sequence
        while True:
            rows = self._connection.execute(
                "SELECT sequence, recorded_at_ms, command FROM journal_entry "
                "WHERE sequence > ? ORDER BY sequence LIMIT ?",
                (last, READ_PAGE_ROWS),
            ).fetchall()
            for sequence, recorded_at_ms, command in rows:
                yield JournalRecord(sequence, recorded_at_ms, command)
            if len(rows) < READ_PAGE_ROWS:
                return
            last = rows[-1][0]

    def last_sequence(self) -> int:
        """Return the highest journaled sequence, 0 when empty."""
        (found,) = self._connection.execute("SELECT coalesce(max(sequence), 0) FROM journal_entry").fetchone()
        assert isinstance(found, int), "sequences are integers"
        return found

    def save_snapshot(self, sequence: int, state: str) -> None:
        """Store a snapshot and drop all but the latest few; durable on return."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "INSERT INTO snapshot (sequence, state) VALUES (?, ?) "
                "ON CONFLICT (sequence) DO UPDATE SET state = excluded.state",
                (sequence, state),
            )
            connection.execute(
                "DELETE FROM snapshot WHERE sequence NOT IN "
                "(SELECT sequence FROM snapshot ORDER BY sequence DESC LIMIT ?)",
                (SNAPSHOTS_KEPT,),
            )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def load_latest_snapshot(self) -> tuple[int, str] | None:
        """Return the latest snapshot as (sequence, state text), or None."""
        row = self._connection.execute("SELECT sequence, state FROM snapshot ORDER BY sequence DESC LIMIT 1").fetchone()
        if row is None:
            return None
        sequence, state = row
        assert isinstance(sequence, int), "snapshot sequences are integers"
        assert isinstance(state, str), "snapshots are JSON text"
        return sequence, state

    def close(self) -> None:
        """Close the connection and release the lock; closing twice is harmless."""
        if self._lock_file < 0:
            return
        try:
            self._connection.close()
        finally:
            os.close(self._lock_file)
            self._lock_file = -1


def _lock_exclusively(path: Path) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        os.close(descriptor)
        raise JournalLockedError(f"{path}: another process is using this journal") from error
    return descriptor
