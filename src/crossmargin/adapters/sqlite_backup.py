"""An online, consistent copy of the SQLite journal: SQLite's own backup API, while the server runs.

`backup_journal(source, destination)` copies the database file `source` into a new data
directory `destination` (created 0700, the copy 0600, as `sqlite_journal.py` keeps its own), in
one step of `sqlite3.Connection.backup`: the whole copy is read in one read transaction, so it is
the journal exactly as it stood after some committed batch, whatever the server appends
meanwhile (in WAL mode a reader never blocks the writer, nor the writer it). It does not take the
journal's lock file: the server keeps writing. The copy is written beside its final name and
renamed into place only once complete and checked (`PRAGMA integrity_check`), so a backup cut
short leaves no journal that looks whole.

Restoring is starting a server on the copy: `crossmargin serve --data-dir DESTINATION` replays it
(snapshot plus the commands after it) to the state the source had at that batch (INV-REPLAY-1).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from crossmargin.adapters.sqlite_journal import (
    DATABASE_FILE_NAME,
    PRIVATE_FILE_MODE,
    make_private_directory,
)

PARTIAL_SUFFIX: Final = ".partial"


class BackupError(RuntimeError):
    """The backup could not be made (no journal at the source, a destination already in use, a bad copy)."""


@dataclass(frozen=True, slots=True)
class Backup:
    """A finished backup: where it is, the last journaled sequence it holds, and its size."""

    path: Path
    sequence: int
    size_bytes: int


def backup_journal(source: Path, destination: Path) -> Backup:
    """Copy the journal database `source` into the new data directory `destination`; return what was copied."""
    if not source.is_file():
        raise BackupError(f"{source}: no journal there (give the server's --data-dir or --database-url)")
    target = destination / DATABASE_FILE_NAME
    if target.exists():
        raise BackupError(f"{target} exists: back up into a new or empty directory")
    make_private_directory(destination)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    try:
        sequence = _copy(source, partial)
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, sequence, target.stat().st_size)


def _copy(source: Path, partial: Path) -> int:
    """Copy `source` into the file `partial` in one read transaction; check the copy; return its last sequence."""
    # Read-only: the backup never writes to the live journal, nor checkpoints its WAL on closing.
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        reading.execute("PRAGMA busy_timeout=10000")
        writing = sqlite3.connect(partial)
        try:
            reading.backup(writing)  # pages=-1: every page in one step, one consistent read
            # A single file with no WAL beside it: the copy travels as one file; a server reopening it turns WAL on.
            writing.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = writing.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy failed SQLite's integrity check: {verdict}")
            (sequence,) = writing.execute("SELECT coalesce(max(sequence), 0) FROM journal_entry").fetchone()
        finally:
            writing.close()
    finally:
        with contextlib.suppress(sqlite3.Error):
            reading.close()
    assert isinstance(sequence, int), "sequences are integers"
    return sequence
