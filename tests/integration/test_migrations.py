"""Schema migrations are versioned and idempotent, and refuse a database from a newer release.

Opening a journal applies every numbered step once and records it in `schema_migration`; opening
again applies nothing; a recorded version this release does not know stops the open with a
MigrationError instead of writing into a schema it does not understand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from tests.integration.conftest import POSTGRES_URL, Database

from crossmargin.adapters import migrations
from crossmargin.adapters.migrations import (
    MIGRATIONS,
    Migration,
    MigrationError,
    latest_version,
    migrate_postgres,
    migrate_sqlite,
    plan_migrations,
)
from crossmargin.adapters.sqlite_journal import DATABASE_FILE_NAME
from crossmargin.app.ports import JournalRecord, RequestSignature


@contextmanager
def raw_connection(database: Database) -> Iterator[sqlite3.Connection | psycopg.Connection[tuple[object, ...]]]:
    """Yield an autocommit connection to the journal's own database and schema."""
    if database.kind == "sqlite":
        connection = sqlite3.connect(database.data_dir / DATABASE_FILE_NAME, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()
        return
    assert database.schema is not None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as pg_connection:
        pg_connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(database.schema)))
        yield pg_connection


def applied_versions(database: Database) -> list[int]:
    with raw_connection(database) as connection:
        rows = connection.execute("SELECT version FROM schema_migration ORDER BY version").fetchall()
    return [int(str(row[0])) for row in rows]


def migrate_again(database: Database) -> list[int]:
    with raw_connection(database) as connection:
        if isinstance(connection, sqlite3.Connection):
            return migrate_sqlite(connection)
        return migrate_postgres(connection)


def test_opening_a_new_journal_applies_every_version_once(database: Database) -> None:
    database.open_journal().close()
    assert applied_versions(database) == [migration.version for migration in MIGRATIONS]
    with raw_connection(database) as connection:
        tables = {"journal_entry", "snapshot", "request_signature"}
        for table in tables:
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()


def test_migrating_again_changes_nothing(database: Database) -> None:
    database.open_journal().close()
    database.open_journal().close()
    assert migrate_again(database) == []
    assert applied_versions(database) == list(range(1, latest_version() + 1))


def test_database_from_a_newer_release_is_refused(database: Database) -> None:
    database.open_journal().close()
    with raw_connection(database) as connection:
        connection.execute(
            "INSERT INTO schema_migration (version, name, applied_at_ms) VALUES (99, 'from the future', 0)"
        )
    with pytest.raises(MigrationError, match="newer than this release"):
        database.open_journal()


def test_versions_are_planned_in_order_after_those_applied() -> None:
    assert [step.version for step in plan_migrations([])] == list(range(1, latest_version() + 1))
    assert plan_migrations(list(range(1, latest_version() + 1))) == []


def test_a_history_that_is_not_a_prefix_is_refused() -> None:
    with pytest.raises(MigrationError, match="not a prefix"):
        plan_migrations([0])


def test_a_new_version_is_applied_to_an_existing_journal_keeping_its_records(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = database.open_journal()
    journal.append([JournalRecord(1, 7, '{"type":"Tick"}')])
    journal.close()
    index = "CREATE INDEX journal_entry_recorded_at_ms_idx ON journal_entry (recorded_at_ms)"
    step = Migration(
        version=latest_version() + 1, name="index journal_entry by time", sqlite=(index,), postgres=(index,)
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, step))
    reopened = database.open_journal()
    try:
        assert list(reopened.read()) == [JournalRecord(1, 7, '{"type":"Tick"}')]
    finally:
        reopened.close()
    assert applied_versions(database) == [*range(1, latest_version() + 1)]
    assert applied_versions(database)[-1] == step.version


def indexed_columns(database: Database, table: str) -> set[str]:
    """Return the columns any index of `table` covers (a primary key's or unique constraint's included)."""
    with raw_connection(database) as connection:
        if isinstance(connection, sqlite3.Connection):
            names = [row[1] for row in connection.execute(f"PRAGMA index_list({table})").fetchall()]
            return {str(row[2]) for name in names for row in connection.execute(f"PRAGMA index_info({name})")}
        rows = connection.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass(%s)",
            (table,),
        ).fetchall()
        return {str(row[0]) for row in rows}


def test_version_5_keeps_every_request_signature_and_indexes_them_by_expiry_only(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal written at version 4 keeps its signatures; after, no index over the random signatures.

    A unique index over 64-byte random signatures made every stored signature a write into a random
    page of that index: version 5 keeps only the expiry index (the guard is rebuilt by expiry).
    """
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:4])
    journal = database.open_journal()
    answers = [RequestSignature(bytes([n]) * 64, 5_000 + n, n or None) for n in range(3)]
    journal.append([JournalRecord(1, 7, '{"type":"Tick"}'), JournalRecord(2, 7, '{"type":"Tick"}')], answers)
    journal.close()
    assert applied_versions(database) == [1, 2, 3, 4]
    assert "signature" in indexed_columns(database, "request_signature"), "version 4 has the unique key"
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    reopened = database.open_journal()
    try:
        assert sorted(reopened.request_signatures(0), key=lambda row: row.expires_at_ms) == answers
        reopened.append([JournalRecord(3, 8, '{"type":"Tick"}')], [RequestSignature(b"\x09" * 64, 9_000, 3)])
        assert len(reopened.request_signatures(5_001)) == 2
        assert list(reopened.read(2)) == [JournalRecord(3, 8, '{"type":"Tick"}')]
    finally:
        reopened.close()
    assert applied_versions(database) == [1, 2, 3, 4, 5]
    assert indexed_columns(database, "request_signature") == {"expires_at_ms"}
