"""`crossmargin backup DEST`: an online copy of the journal, while the server may be running.

On SQLite (the default, `--data-dir`, or a `sqlite:///path` `--database-url`), DEST becomes a new
data directory holding a consistent copy of the journal (`adapters/sqlite_backup.py`); `crossmargin
serve --data-dir DEST` restores from it. On PostgreSQL, PostgreSQL's own tools do it better than a
copy through this process could (consistent dumps, base backups with WAL archiving for
point-in-time recovery): the command says which and changes nothing, exiting with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from rich.console import Console

from crossmargin.adapters.sqlite_backup import BackupError, backup_journal
from crossmargin.adapters.sqlite_journal import DATABASE_FILE_NAME
from crossmargin.bootstrap import POSTGRES_SCHEMES, SQLITE_SCHEME

EXIT_NOT_DONE: Final = 2
POSTGRES_POINTER: Final = (
    "The journal is in PostgreSQL: back it up with PostgreSQL's own tools, not through crossmargin.\n"
    "  A consistent logical copy (while the server runs):  pg_dump --format=custom --file {dest} '<database URL>'\n"
    "  Restore it into an empty database:                 pg_restore --dbname '<new database URL>' {dest}\n"
    "  Point-in-time recovery: pg_basebackup plus WAL archiving (archive_mode, archive_command); see\n"
    "  PostgreSQL's manual, chapter 'Backup and Restore', and docs/OPERATIONS.md."
)


def journal_file(database_url: str | None, data_dir: Path) -> Path | None:
    """Return the SQLite journal file the server options name, or None when the journal is in PostgreSQL."""
    if not database_url:
        return data_dir / DATABASE_FILE_NAME
    if database_url.startswith(SQLITE_SCHEME):
        return Path(database_url.removeprefix(SQLITE_SCHEME))
    if database_url.startswith(POSTGRES_SCHEMES):
        return None
    raise ValueError(f"unsupported database URL {database_url!r}: use postgresql://... or sqlite:///path")


def run_backup(destination: Path, database_url: str | None, data_dir: Path, console: Console) -> int:
    """Back the journal up into `destination`; return the exit status."""
    try:
        source = journal_file(database_url, data_dir)
    except ValueError as error:
        console.print(f"error: {error}", soft_wrap=True)
        return EXIT_NOT_DONE
    if source is None:
        console.print(POSTGRES_POINTER.format(dest=destination), soft_wrap=True, markup=False)
        return EXIT_NOT_DONE
    try:
        backup = backup_journal(source, destination)
    except BackupError as error:
        console.print(f"error: {error}", soft_wrap=True, markup=False)
        return 1
    console.print(
        f"Backed up the journal through sequence {backup.sequence} ({backup.size_bytes} bytes) to {backup.path}.\n"
        f"Restore: crossmargin serve --data-dir {destination}",
        soft_wrap=True,
        markup=False,
    )
    return 0
