"""The journal in one SQLite file: write-ahead logging, a full sync on every commit.

`journal_mode=WAL` with `synchronous=FULL` makes each committed transaction durable when COMMIT
returns, and one transaction per batch is what makes group commit pay: a single sync covers every
command of the batch. A lock file beside the database (an exclusive `flock`, released by the
kernel when the process dies, even by `kill -9`) keeps a second process from writing the same
journal. The connection is used by one thread at a time: the caller that opens and replays, then
the service's writer thread.

The journal holds every API key and every account's history, so it is private to the operator:
the data directory is 0700 and the database, its WAL and shared-memory files and the lock file are
0600. The database file is created 0600 before SQLite opens it (SQLite gives its WAL and SHM files
the database's mode); a directory or files left looser by an older release are tightened on open,
with one log line that says so.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from crossmargin.adapters.migrations import HISTORY_PART_ENDS, migrate_sqlite
from crossmargin.app.ports import (
    HistoryPart,
    JournalConflictError,
    JournalLockedError,
    JournalRecord,
    RequestSignature,
)

DATABASE_FILE_NAME: Final = "crossmargin.sqlite3"
READ_PAGE_ROWS: Final = 10_000
SNAPSHOTS_KEPT: Final = 2
PRIVATE_DIRECTORY_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600
JOURNAL_FILE_SUFFIXES: Final = ("", "-wal", "-shm", ".lock")
LOG = logging.getLogger("crossmargin.sqlite_journal")


class SqliteJournal:
    """Journal and snapshots in one SQLite database file."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed, private) the database at `path`, lock it, and migrate its schema."""
        self.path = path
        self._lock_file = _lock_exclusively(path.with_name(path.name + ".lock"))
        try:
            tighten_modes([], _journal_files(path))
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
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
        """Open the journal file of a data directory, creating the directory (private) if needed."""
        make_private_directory(data_dir)
        tighten_modes([data_dir], _journal_files(data_dir / DATABASE_FILE_NAME))
        return cls(data_dir / DATABASE_FILE_NAME)

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        """Append records and request signatures in one transaction; durable on return."""
        if not records and not signatures:
            return
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO journal_entry (sequence, recorded_at_ms, command) VALUES (?, ?, ?)",
                [(record.sequence, record.recorded_at_ms, record.command) for record in records],
            )
            # No unique key (schema version 5): the sequencer's replay guard answers each signature once.
            connection.executemany(
                "INSERT INTO request_signature (signature, expires_at_ms, sequence) VALUES (?, ?, ?)",
                [(row.signature, row.expires_at_ms, row.sequence) for row in signatures],
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

    def request_signatures(self, expiring_after_ms: int) -> list[RequestSignature]:
        """Return every stored request signature that expires after `expiring_after_ms`."""
        rows = self._connection.execute(
            "SELECT signature, expires_at_ms, sequence FROM request_signature WHERE expires_at_ms > ?",
            (expiring_after_ms,),
        ).fetchall()
        return [
            RequestSignature(bytes(signature), expires_at_ms, sequence) for signature, expires_at_ms, sequence in rows
        ]

    def forget_request_signatures(self, expired_before_ms: int) -> None:
        """Delete the request signatures that expired before `expired_before_ms`."""
        self._connection.execute("DELETE FROM request_signature WHERE expires_at_ms < ?", (expired_before_ms,))

    def save_snapshot(self, sequence: int, state: str, parts: Sequence[HistoryPart] = ()) -> None:
        """Store a snapshot and its new history parts, and drop all but the latest few snapshots; durable on return."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO history_part (name, start, stop, items) VALUES (?, ?, ?, ?)",
                [(part.name, part.start, part.stop, part.items) for part in parts],
            )
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

    def history_part_ends(self) -> dict[str, int]:
        """Return how many records of each history list the stored parts hold."""
        rows = self._connection.execute(HISTORY_PART_ENDS).fetchall()
        return {str(name): int(stop) for name, stop in rows}

    def load_history_parts(self, name: str, stop: int) -> list[HistoryPart]:
        """Return the stored parts of one history list that start before `stop`, in order."""
        rows = self._connection.execute(
            "SELECT start, stop, items FROM history_part WHERE name = ? AND start < ? ORDER BY start", (name, stop)
        ).fetchall()
        return [HistoryPart(name, start, end, items) for start, end, items in rows]

    def close(self) -> None:
        """Close the connection and release the lock; closing twice is harmless."""
        if self._lock_file < 0:
            return
        try:
            self._connection.close()
        finally:
            os.close(self._lock_file)
            self._lock_file = -1


def make_private_directory(directory: Path) -> None:
    """Create `directory` (and missing parents) with mode 0700 for the last one, if it does not exist."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=PRIVATE_DIRECTORY_MODE)
    except FileExistsError:
        return
    directory.chmod(PRIVATE_DIRECTORY_MODE)  # mkdir's mode is filtered by the umask; this is not


def tighten_modes(directories: Sequence[Path], files: Sequence[Path]) -> None:
    """Make the directories 0700 and the existing files 0600 where others have access; log one line if any."""
    wanted = [(directory, PRIVATE_DIRECTORY_MODE) for directory in directories]
    wanted += [(file, PRIVATE_FILE_MODE) for file in files]
    tightened = []
    for path, private in wanted:
        if not path.exists():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & ~private:
            path.chmod(private)
            tightened.append(f"{path} {mode:o} -> {private:o}")
    if tightened:
        LOG.warning("tightened the journal's file modes so that only this user can read them: %s", ", ".join(tightened))


def _journal_files(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in JOURNAL_FILE_SUFFIXES]


def _lock_exclusively(path: Path) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        os.close(descriptor)
        raise JournalLockedError(f"{path}: another process is using this journal") from error
    return descriptor
