"""Versioned schema migrations for the journal databases, SQLite and PostgreSQL.

Each `Migration` is a numbered step with the statements for each database. The table
`schema_migration` records every version applied and when; on open, the steps not yet applied run
in version order, each in its own transaction together with its record, so a crash leaves the
schema at a whole version. Running them again changes nothing. A database that records a version
this code does not know was written by a newer release and is refused rather than guessed at.
Version 2 adds `request_signature`: the signed requests the sequencer answered, from which the
replay guard is rebuilt after a restart. Version 3 adds `journal_writer`, one row holding the
writer's term and, once a failover replaced this database, what fenced it (INV-FENCE-1,
`postgres_journal.py`); SQLite keeps the table unused, so both databases share one version list.
Version 4 adds `history_part`: the snapshots' history lists, each record stored once
(`app/snapshot_parts.py`). Version 5 drops `request_signature`'s primary key: nothing reads a
signature by its key (the replay guard is rebuilt from every unexpired row, by expiry), the
sequencer's guard already answers each signature once, and a unique index over random 64-byte keys
made each stored signature a write to a random page of that index: 3 to 4 times the cost of the
whole append in large batches (`bench/bench_journal.py`, signed writes).
Tables are singular snake_case with named constraints; commands and states are JSON text, so
integers of any size never meet SQLite's 64-bit INTEGER.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Final, LiteralString

import psycopg


class MigrationError(RuntimeError):
    """The database's schema cannot be brought to this release's version."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema step, written once for each database."""

    version: int
    name: str
    sqlite: tuple[LiteralString, ...]
    postgres: tuple[LiteralString, ...]


HISTORY_PART_ENDS: Final = """
    WITH RECURSIVE list (name) AS (
        SELECT min(name) FROM history_part
        UNION ALL
        SELECT (SELECT min(name) FROM history_part WHERE name > list.name) FROM list WHERE list.name IS NOT NULL
    )
    SELECT list.name, (SELECT stop FROM history_part WHERE name = list.name ORDER BY start DESC LIMIT 1)
    FROM list WHERE list.name IS NOT NULL
"""
"""Each history list's stored record count (the stop of its last part; parts are contiguous from 0),
one index seek per list rather than a scan of every part row (one a list a snapshot, for years)."""

MIGRATIONS: Final = (
    Migration(
        version=1,
        name="create journal_entry and snapshot",
        sqlite=(
            """CREATE TABLE journal_entry (
                sequence INTEGER NOT NULL CONSTRAINT journal_entry_pk PRIMARY KEY,
                recorded_at_ms INTEGER NOT NULL,
                command TEXT NOT NULL,
                CONSTRAINT journal_entry_sequence_positive CHECK (sequence > 0)
            )""",
            """CREATE TABLE snapshot (
                sequence INTEGER NOT NULL CONSTRAINT snapshot_pk PRIMARY KEY,
                state TEXT NOT NULL,
                CONSTRAINT snapshot_sequence_not_negative CHECK (sequence >= 0)
            )""",
        ),
        postgres=(
            """CREATE TABLE journal_entry (
                sequence BIGINT NOT NULL CONSTRAINT journal_entry_pk PRIMARY KEY,
                recorded_at_ms BIGINT NOT NULL,
                command TEXT NOT NULL,
                CONSTRAINT journal_entry_sequence_positive CHECK (sequence > 0)
            )""",
            """CREATE TABLE snapshot (
                sequence BIGINT NOT NULL CONSTRAINT snapshot_pk PRIMARY KEY,
                state TEXT NOT NULL,
                CONSTRAINT snapshot_sequence_not_negative CHECK (sequence >= 0)
            )""",
        ),
    ),
    Migration(
        version=2,
        name="create request_signature",
        sqlite=(
            """CREATE TABLE request_signature (
                signature BLOB NOT NULL CONSTRAINT request_signature_pk PRIMARY KEY,
                expires_at_ms INTEGER NOT NULL,
                sequence INTEGER NULL,
                CONSTRAINT request_signature_sequence_positive CHECK (sequence IS NULL OR sequence > 0)
            )""",
            "CREATE INDEX request_signature_expires_at_ms_idx ON request_signature (expires_at_ms)",
        ),
        postgres=(
            """CREATE TABLE request_signature (
                signature BYTEA NOT NULL CONSTRAINT request_signature_pk PRIMARY KEY,
                expires_at_ms BIGINT NOT NULL,
                sequence BIGINT NULL,
                CONSTRAINT request_signature_sequence_positive CHECK (sequence IS NULL OR sequence > 0)
            )""",
            "CREATE INDEX request_signature_expires_at_ms_idx ON request_signature (expires_at_ms)",
        ),
    ),
    Migration(
        version=3,
        name="create journal_writer",
        sqlite=(
            """CREATE TABLE journal_writer (
                id INTEGER NOT NULL CONSTRAINT journal_writer_pk PRIMARY KEY,
                term INTEGER NOT NULL,
                fenced_by TEXT NULL,
                CONSTRAINT journal_writer_one_row CHECK (id = 1)
            )""",
            "INSERT INTO journal_writer (id, term, fenced_by) VALUES (1, 0, NULL)",
        ),
        postgres=(
            """CREATE TABLE journal_writer (
                id INTEGER NOT NULL CONSTRAINT journal_writer_pk PRIMARY KEY,
                term BIGINT NOT NULL,
                fenced_by TEXT NULL,
                CONSTRAINT journal_writer_one_row CHECK (id = 1)
            )""",
            "INSERT INTO journal_writer (id, term, fenced_by) VALUES (1, 0, NULL)",
        ),
    ),
    Migration(
        version=4,
        name="create history_part",
        sqlite=(
            """CREATE TABLE history_part (
                name TEXT NOT NULL,
                start INTEGER NOT NULL,
                stop INTEGER NOT NULL,
                items TEXT NOT NULL,
                CONSTRAINT history_part_pk PRIMARY KEY (name, start),
                CONSTRAINT history_part_not_empty CHECK (0 <= start AND start < stop)
            )""",
        ),
        postgres=(
            """CREATE TABLE history_part (
                name TEXT NOT NULL,
                start BIGINT NOT NULL,
                stop BIGINT NOT NULL,
                items TEXT NOT NULL,
                CONSTRAINT history_part_pk PRIMARY KEY (name, start),
                CONSTRAINT history_part_not_empty CHECK (0 <= start AND start < stop)
            )""",
        ),
    ),
    Migration(
        version=5,
        name="store request_signature without a unique key",
        sqlite=(
            """CREATE TABLE request_signature_v5 (
                signature BLOB NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                sequence INTEGER NULL,
                CONSTRAINT request_signature_sequence_positive CHECK (sequence IS NULL OR sequence > 0)
            )""",
            (
                "INSERT INTO request_signature_v5 (signature, expires_at_ms, sequence) "
                "SELECT signature, expires_at_ms, sequence FROM request_signature ORDER BY rowid"
            ),
            "DROP TABLE request_signature",
            "ALTER TABLE request_signature_v5 RENAME TO request_signature",
            "CREATE INDEX request_signature_expires_at_ms_idx ON request_signature (expires_at_ms)",
        ),
        postgres=("ALTER TABLE request_signature DROP CONSTRAINT request_signature_pk",),
    ),
)

SCHEMA_MIGRATION_TABLE: Final = """CREATE TABLE IF NOT EXISTS schema_migration (
    version INTEGER NOT NULL CONSTRAINT schema_migration_pk PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)"""
# Serializes concurrent migrators of one PostgreSQL schema (an arbitrary, fixed lock class).
POSTGRES_MIGRATION_LOCK_CLASS: Final = 0x636D


def latest_version() -> int:
    """Return the schema version this release writes."""
    return MIGRATIONS[-1].version


def plan_migrations(applied: list[int]) -> list[Migration]:
    """Return the steps still to apply after the `applied` versions, in order; refuse unknown histories."""
    known = [migration.version for migration in MIGRATIONS]
    assert known == list(range(1, len(known) + 1)), "migration versions are numbered 1, 2, 3, ... without gaps"
    newer = [version for version in applied if version > latest_version()]
    if newer:
        raise MigrationError(
            f"the database has schema version {max(newer)}, newer than this release's {latest_version()}: "
            "upgrade crossmargin"
        )
    if sorted(applied) != known[: len(applied)]:
        raise MigrationError(f"the database's schema versions {sorted(applied)} are not a prefix of {known}")
    return list(MIGRATIONS[len(applied) :])


def migrate_sqlite(connection: sqlite3.Connection) -> list[int]:
    """Apply pending migrations to an SQLite database in autocommit mode; return the versions applied."""
    connection.execute(SCHEMA_MIGRATION_TABLE)
    done: list[int] = []
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            applied = [row[0] for row in connection.execute("SELECT version FROM schema_migration")]
            pending = plan_migrations(applied)
            if not pending:
                connection.execute("COMMIT")
                return done
            step = pending[0]
            for statement in step.sqlite:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migration (version, name, applied_at_ms) VALUES (?, ?, ?)",
                (step.version, step.name, time.time_ns() // 1_000_000),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        done.append(step.version)


def migrate_postgres(connection: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply pending migrations to the connection's current schema; return the versions applied."""
    done: list[int] = []
    while True:
        with connection.transaction():
            connection.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (POSTGRES_MIGRATION_LOCK_CLASS,)
            )
            connection.execute(SCHEMA_MIGRATION_TABLE)
            rows = connection.execute("SELECT version FROM schema_migration").fetchall()
            pending = plan_migrations([_int(row[0]) for row in rows])
            if not pending:
                return done
            step = pending[0]
            for statement in step.postgres:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migration (version, name, applied_at_ms) VALUES (%s, %s, %s)",
                (step.version, step.name, time.time_ns() // 1_000_000),
            )
        done.append(step.version)


def _int(value: object) -> int:
    assert isinstance(value, int), "schema versions are integers"
    return value
